"""Resource validations: each looks at one resource's inputs as the engine is about to send them
to AWS, so a violation stops `pulumi preview`/`pulumi up` before anything is created."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from platform_core.tagging import MANAGED_BY, MANDATORY_TAG_KEYS
from trading_policies.properties import decoded, effective_tags, environment_of, known, label

__all__ = [
    "POLICY_DOCUMENTS",
    "PRODUCTION",
    "TAGGABLE_TYPES",
    "check_arm64_lambda",
    "check_destroyable_outside_production",
    "check_dynamodb_encryption",
    "check_log_retention",
    "check_mandatory_tags",
    "check_no_wildcard_actions",
    "check_rds_encrypted_and_private",
    "policy_documents",
    "wildcard_grants",
]

LAMBDA_FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_INSTANCE = "aws:rds/instance:Instance"
PRODUCTION = "production"

# AWS resource types that accept tags (kept honest by a test that asks the pulumi_aws SDK).
# A type not listed here still counts as taggable when its inputs carry `tags` or `tagsAll`.
TAGGABLE_TYPES = frozenset({
    "aws:appautoscaling/target:Target",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:dynamodb/table:Table",
    "aws:ec2/eip:Eip",
    "aws:ec2/instance:Instance",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
    "aws:kms/key:Key",
    "aws:lambda/function:Function",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:rds/instance:Instance",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:s3/bucket:Bucket",
    "aws:sns/topic:Topic",
    "aws:sqs/queue:Queue",
})  # fmt: skip

# Where each resource type keeps an IAM policy document (identity or resource policy).
POLICY_DOCUMENTS: Mapping[str, tuple[str, ...]] = {
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:iam/role:Role": ("assumeRolePolicy", "inlinePolicies[].policy"),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:sqs/queue:Queue": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sns/topic:Topic": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
}
# Flags that make a resource refuse deletion, per type.
DELETION_PROTECTION: Mapping[str, str] = {
    DYNAMODB_TABLE: "deletionProtectionEnabled",
    RDS_CLUSTER: "deletionProtection",
    RDS_INSTANCE: "deletionProtection",
    "aws:lb/loadBalancer:LoadBalancer": "enableDeletionProtection",
}
# Types whose deletion takes a final snapshot unless told not to: outside production the
# snapshot would outlive the environment (and a second destroy would find its name taken).
FINAL_SNAPSHOT_TYPES = frozenset({RDS_CLUSTER, RDS_INSTANCE})


def check_arm64_lambda(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every function runs on Graviton (cheaper per GB-second than x86_64)."""
    if args.resource_type != LAMBDA_FUNCTION:
        return
    architectures = list(known(args.props, "architectures") or ["x86_64"])
    if architectures != ["arm64"]:
        report_violation(
            f"{label(args.resource_type, args.name, args.props)} has architectures "
            f"{architectures} (x86_64 when unset); required: architectures ['arm64']",
            None,
        )


def check_log_retention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A log group without retention keeps (and bills) every log line forever."""
    if args.resource_type != LOG_GROUP:
        return
    retention = known(args.props, "retentionInDays")
    if not isinstance(retention, int | float) or retention <= 0:
        shown = "unset (never expire)" if retention in (None, 0) else repr(retention)
        report_violation(
            f"{label(args.resource_type, args.name, args.props)} has retentionInDays {shown}; "
            "required: a retention in days (7 dev, 30 staging, 90 production by default)",
            None,
        )


def check_dynamodb_encryption(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """Server-side encryption with a KMS key, switched on explicitly."""
    if args.resource_type != DYNAMODB_TABLE:
        return
    encryption = known(args.props, "serverSideEncryption")
    if not (isinstance(encryption, Mapping) and known(encryption, "enabled") is True):
        report_violation(
            f"{label(args.resource_type, args.name, args.props)} does not enable "
            "serverSideEncryption; required: serverSideEncryption.enabled = true",
            None,
        )


def check_rds_encrypted_and_private(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """Databases encrypt their storage and have no public address.

    Encryption can only be chosen when a cluster is created, so it is checked before it is.
    """
    what = label(args.resource_type, args.name, args.props)
    stores = args.resource_type in (RDS_CLUSTER, RDS_INSTANCE)
    if stores and known(args.props, "storageEncrypted") is not True:
        report_violation(
            f"{what} does not set storageEncrypted; required: storageEncrypted = true "
            "(it cannot be turned on after creation)",
            None,
        )
    serves = args.resource_type in (RDS_CLUSTER_INSTANCE, RDS_INSTANCE)
    if serves and known(args.props, "publiclyAccessible") is True:
        report_violation(
            f"{what} is publiclyAccessible; required: publiclyAccessible = false "
            "(the database is reached from inside the VPC only)",
            None,
        )


def policy_documents(
    props: Mapping[str, Any], locations: tuple[str, ...]
) -> Iterator[tuple[str, Any]]:
    """(location, document) of each policy a resource keeps at `locations` (`POLICY_DOCUMENTS`)."""
    for location in locations:
        if location.endswith("[].policy"):
            inline = known(props, location.removesuffix("[].policy")) or []
            for index, item in enumerate(inline):
                document = known(item, "policy") if isinstance(item, Mapping) else None
                yield f"{location.removesuffix('[].policy')}[{index}].policy", document
        else:
            yield location, known(props, location)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def wildcard_grants(document: Any) -> list[tuple[str, str]]:
    """(statement, action) for every Allow that grants a wildcard action or uses NotAction.

    Deny statements may use wildcards (a TLS-only bucket policy denies `s3:*`): a Deny only
    ever takes rights away.
    """
    document = decoded(document)
    if not isinstance(document, Mapping):
        return []
    grants = []
    for index, statement in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        name = str(statement.get("Sid") or f"#{index}")
        grants += [(name, str(a)) for a in _as_list(statement.get("Action")) if "*" in str(a)]
        if "NotAction" in statement:
            grants.append((name, "NotAction (allows every other action)"))
    return grants


def check_no_wildcard_actions(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """Policies list exact actions: no `*`, no `service:*`, no `service:Get*`.

    A document built from ARNs that are not known yet (first preview) is checked by `pulumi up`,
    which analyzes every resource again with its resolved inputs before creating it.
    """
    locations = POLICY_DOCUMENTS.get(args.resource_type)
    if locations is None:
        return
    for location, document in policy_documents(args.props, locations):
        for statement, action in wildcard_grants(document):
            report_violation(
                f"{label(args.resource_type, args.name, args.props)}: {location} statement "
                f"'{statement}' allows the wildcard action '{action}'; required: Allow "
                "statements list exact actions (e.g. 's3:GetObject'), never '*' or a pattern",
                None,
            )


def _is_taggable(args: ResourceValidationArgs) -> bool:
    if args.resource_type in TAGGABLE_TYPES:
        return True
    return any(known(args.props, key) is not None for key in ("tags", "tagsAll"))


def check_mandatory_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Cost and ownership reports group by these tags; a resource without them is lost."""
    if not _is_taggable(args):
        return
    tags = effective_tags(args.props, args.provider)
    missing = [key for key in MANDATORY_TAG_KEYS if not tags.get(key, "").strip()]
    if missing:
        report_violation(
            f"{label(args.resource_type, args.name, args.props)} lacks the mandatory tag(s) "
            f"{', '.join(missing)}; required: {', '.join(MANDATORY_TAG_KEYS)} on every taggable "
            "resource (set them in the provider's default_tags)",
            None,
        )
    elif tags["ManagedBy"] != MANAGED_BY:
        report_violation(
            f"{label(args.resource_type, args.name, args.props)} has ManagedBy="
            f"'{tags['ManagedBy']}'; required: ManagedBy='{MANAGED_BY}'",
            None,
        )


def check_destroyable_outside_production(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """Dev and staging can always be torn down with `pulumi destroy`.

    `retain_on_delete` is not part of CrossGuard's resource options (pulumi-policy 1.21); it is
    checked when the options carry it (the offline renderer records it), and the mock-engine
    tests of the stacks keep it off in every environment.
    """
    environment = environment_of(args.props, args.provider)
    if environment == PRODUCTION:
        return
    what = label(args.resource_type, args.name, args.props)
    where = f"in environment '{environment}'"
    if args.opts.protect:
        report_violation(f"{what} {where} is protected; required: protect=False", None)
    if getattr(args.opts, "retain_on_delete", False):
        report_violation(f"{what} {where} is retain_on_delete; required: it is deleted", None)
    flag = DELETION_PROTECTION.get(args.resource_type)
    if flag is not None and known(args.props, flag) is True:
        report_violation(f"{what} {where} sets {flag}; required: {flag} = false", None)
    if (
        args.resource_type in FINAL_SNAPSHOT_TYPES
        and known(args.props, "skipFinalSnapshot") is not True
    ):
        report_violation(
            f"{what} {where} does not set skipFinalSnapshot; required: skipFinalSnapshot = true "
            "so `pulumi destroy` leaves no snapshot behind",
            None,
        )
    if args.resource_type == BUCKET and known(args.props, "forceDestroy") is not True:
        report_violation(
            f"{what} {where} does not set forceDestroy; required: forceDestroy = true so "
            "`pulumi destroy` can empty it",
            None,
        )
