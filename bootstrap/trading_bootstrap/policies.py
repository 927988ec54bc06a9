"""The bootstrap's policy documents, as data built by pure functions (tests parse them).

Two roles per environment, both assumable only through GitHub's OIDC provider by this
repository's jobs running in one GitHub environment:

- the preview role (GitHub environment `<env>-preview`, pull requests and the scheduled drift
  check): reads the state, takes the stack lock, decrypts the stack's secrets, and reads the
  environment's own resources as `pulumi refresh` does; it cannot change anything in AWS;
- the deploy role (GitHub environment `<env>`, main; production's needs an approval): in
  addition manages the resources of its own environment, recognised by their names (the
  patterns `platform_core.naming` derives, so every copy with an `environmentSuffix` matches)
  or, for EC2 resources that have no name in their ARN, by the `Environment` tag that the
  stack's provider puts on every resource.

The deploy role cannot escalate: every role it creates or changes must carry the environment's
permissions boundary (`platform_core.iam.workload_boundary_policy`, created here), and explicit
denies keep it away from that boundary and from the two pipeline roles. Its named resources
(`deploy_resources_policy`) and what deploying the optional database needs
(`deploy_database_policy`) are managed policies of their own: IAM allows a role 10,240
characters of inline policy in all. Where the bootstrap says so (`pullRequestCopies`, dev's),
the deploy role also manages the environment's pull-request copies, `<name>-pr-<number>`, and
no other name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from platform_core.database import ENGINE as DATABASE_ENGINE
from platform_core.database import final_snapshot_identifier
from platform_core.iam import permissions_boundary_arn
from platform_core.naming import PULL_REQUEST_SUFFIX_PREFIX, ResourceNames
from platform_core.network import NAT_INSTANCE_AMI_PARAMETER
from platform_core.observability import ALARM_KEYS
from trading_bootstrap.config import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, BootstrapConfig

__all__ = [
    "DeployScope",
    "deploy_database_policy",
    "deploy_policy",
    "deploy_resources_policy",
    "github_trust_policy",
    "kms_key_policy",
    "preview_policy",
]

Statement = dict[str, Any]

KMS_USE = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
KMS_ADMINISTRATION = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
    "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)  # fmt: skip
# Read-only calls for which AWS has no resource-level permissions: "*" is the only resource
# they accept (Service Authorization Reference; a test checks each against parliament's copy).
UNSCOPABLE_READS = (
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute", "ec2:DescribeImages",
    "ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances", "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways", "ec2:DescribeNetworkAcls", "ec2:DescribeNetworkInterfaces",
    "ec2:DescribePrefixLists",
    "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets", "ec2:DescribeTags", "ec2:DescribeVolumes",
    "ec2:DescribeVpcEndpointServices", "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs",
    "logs:DescribeLogGroups",
)  # fmt: skip
# Reads that do take a resource: this account's network and instances.
NETWORK_READ_ACTIONS = ("ec2:DescribeInstanceAttribute", "ec2:DescribeVpcAttribute")
NETWORK_CREATE_ACTIONS = (
    "ec2:AllocateAddress", "ec2:CreateInternetGateway", "ec2:CreateNatGateway",
    "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateVpc",
    "ec2:CreateVpcEndpoint", "ec2:RunInstances",
)  # fmt: skip
NETWORK_MANAGE_ACTIONS = (
    "ec2:AssociateRouteTable", "ec2:AttachInternetGateway", "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateRoute", "ec2:CreateTags",
    "ec2:DeleteInternetGateway", "ec2:DeleteNatGateway", "ec2:DeleteRoute",
    "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteTags",
    "ec2:DeleteVpc", "ec2:DeleteVpcEndpoints", "ec2:DetachInternetGateway",
    "ec2:DisassociateRouteTable", "ec2:ModifyInstanceAttribute", "ec2:ModifySubnetAttribute",
    "ec2:ModifyVpcAttribute", "ec2:ModifyVpcEndpoint", "ec2:ReleaseAddress", "ec2:ReplaceRoute",
    "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:TerminateInstances",
)  # fmt: skip
# The IAM actions that accept the `iam:PermissionsBoundary` condition key and that a deploy of
# the function's role uses: allowed only when the role carries this environment's boundary.
BOUNDED_ROLE_ACTIONS = (
    "iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)  # fmt: skip
# The rest of the role's life cycle; none of these can change what the role may do.
ROLE_ACTIONS = (
    "iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:ListRoleTags",
    "iam:TagRole", "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
)  # fmt: skip
# Every IAM action that can set, change or drop a role's permissions, or its boundary: denied
# unless the role ends up with this environment's boundary.
BOUNDARY_GUARDED_ACTIONS = (
    "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
)  # fmt: skip
ALARM_ACTIONS = (
    "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
    "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource",
)  # fmt: skip
# What Application Auto Scaling checks on the caller before it creates or deletes the
# `TargetTracking-table/<table>-…` alarms of a target-tracking policy on the caller's behalf.
TARGET_TRACKING_ALARM_ACTIONS = (
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
)
AUTOSCALING_ACTIONS = (
    "application-autoscaling:DeleteScalingPolicy",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:RegisterScalableTarget",
)
AUTOSCALING_TAG_ACTIONS = (
    "application-autoscaling:ListTagsForResource", "application-autoscaling:TagResource",
    "application-autoscaling:UntagResource",
)  # fmt: skip
AUTOSCALING_SERVICE = "dynamodb.application-autoscaling.amazonaws.com"
DYNAMODB_AUTOSCALING_ROLE = (
    f"role/aws-service-role/{AUTOSCALING_SERVICE}/"
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
)


@dataclass(frozen=True)
class DeployScope:
    """What a role of one environment may touch: its state bucket, its key, its resources."""

    config: BootstrapConfig
    state_bucket_arn: str
    kms_key_arn: str


def github_trust_policy(config: BootstrapConfig, github_environment: str) -> dict[str, Any]:
    """Only this repository's jobs that run in `github_environment` may assume the role.

    GitHub puts `repo:<org>/<repo>:environment:<name>` in the token's `sub` when a job declares
    an environment, so a workflow on another branch, a fork, or another environment's job (even
    of this repository) gets a different subject and is refused.
    """
    subject = (
        f"repo:{config.github_organization}/{config.github_repository}"
        f":environment:{github_environment}"
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsOfOneEnvironment",
                "Effect": "Allow",
                "Principal": {"Federated": config.oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subject,
                    }
                },
            }
        ],
    }


def kms_key_policy(config: BootstrapConfig) -> dict[str, Any]:
    """The account administers and uses the key through IAM: the roles' own policies grant
    use, so the key policy names no role (and a deleted role can never lock the key out)."""
    root = f"arn:aws:iam::{config.account_id}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(KMS_ADMINISTRATION),
                "Resource": "*",  # in a key policy, "*" means this key
            },
            {
                "Sid": "AccountDelegatesUseThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(KMS_USE),
                "Resource": "*",
            },
        ],
    }


def _state_and_secrets(scope: DeployScope, writable_prefix: str) -> list[Statement]:
    bucket = scope.state_bucket_arn
    return [
        {
            "Sid": "ListState",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": bucket,
        },
        {
            "Sid": "ReadState",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"{bucket}/*",
        },
        {
            "Sid": "WriteState",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:PutObject"],
            "Resource": f"{bucket}/{writable_prefix}*",
        },
        {
            "Sid": "StackSecrets",
            "Effect": "Allow",
            "Action": list(KMS_USE),
            "Resource": scope.kms_key_arn,
        },
    ]


def _program_lookups(config: BootstrapConfig) -> list[Statement]:
    """What the stack program itself asks AWS while it runs (preview and deploy alike)."""
    return [
        {
            "Sid": "ReadNatInstanceImageParameter",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            # AWS's public parameters have no account in their ARN.
            "Resource": f"arn:aws:ssm:{config.region}::parameter{NAT_INSTANCE_AMI_PARAMETER}",
        },
        {
            "Sid": "ListAvailabilityZones",
            "Effect": "Allow",
            "Action": "ec2:DescribeAvailabilityZones",
            "Resource": "*",  # no resource-level permissions exist for it
        },
    ]


def preview_policy(scope: DeployScope) -> dict[str, Any]:
    """Previews: read state, take the stack's lock, read secrets, run lookups; and, for the
    drift check's `pulumi preview --refresh`, read the environment's own resources."""
    statements = _state_and_secrets(scope, writable_prefix=".pulumi/locks/")
    return {
        "Version": "2012-10-17",
        "Statement": [
            *statements,
            *_program_lookups(scope.config),
            *_refresh_reads(scope.config),
        ],
    }


# What reading back each resource of the stack asks AWS (the AWS provider's Read), by service:
# only read actions, and only on the environment's own resources (not on copies).
S3_BUCKET_READS = (
    "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS",
    "s3:GetBucketLocation", "s3:GetBucketLogging", "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration", "s3:ListBucket",
)  # fmt: skip
DYNAMODB_TABLE_READS = (
    "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeContributorInsights",
    "dynamodb:DescribeKinesisStreamingDestination", "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive", "dynamodb:GetResourcePolicy", "dynamodb:ListTagsOfResource",
)  # fmt: skip
LAMBDA_FUNCTION_READS = (
    "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency",
    "lambda:GetFunctionConfiguration", "lambda:GetFunctionEventInvokeConfig",
    "lambda:GetFunctionRecursionConfig", "lambda:GetFunctionUrlConfig", "lambda:GetPolicy",
    "lambda:GetRuntimeManagementConfig", "lambda:ListAliases", "lambda:ListTags",
    "lambda:ListVersionsByFunction",
)  # fmt: skip
QUEUE_READS = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags")
TOPIC_READS = ("sns:GetDataProtectionPolicy", "sns:GetTopicAttributes", "sns:ListTagsForResource")
ROLE_READS = (
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
    "iam:ListRoleTags",
)  # fmt: skip
DATABASE_READS = (
    "rds:DescribeDBClusters", "rds:DescribeDBInstances", "rds:DescribeDBSubnetGroups",
    "rds:ListTagsForResource",
)  # fmt: skip


def _refresh_reads(config: BootstrapConfig) -> list[Statement]:
    """Reading back what the environment's stack holds, and nothing else: `pulumi preview
    --refresh` (the drift check) asks AWS for each resource's current settings."""
    names = _names(config)
    buckets = [f"arn:aws:s3:::{name}" for name in (names.ingest_bucket, names.archive_bucket)]
    table = _arn(config, "dynamodb", f"table/{names.table}")
    function = _arn(config, "lambda", f"function:{names.function}")
    log_group = _arn(config, "logs", f"log-group:{names.log_group}")
    database = [
        _arn(config, "rds", resource)
        for resource in (
            f"cluster:{names.database}",
            f"db:{names.database}-?",
            f"db:{names.database}-??",
            f"subgrp:{names.database}",
        )
    ]
    return [
        {"Sid": "ReadBuckets", "Effect": "Allow", "Action": list(S3_BUCKET_READS),
         "Resource": buckets},
        {"Sid": "ReadTable", "Effect": "Allow", "Action": list(DYNAMODB_TABLE_READS),
         "Resource": [table, f"{table}/*"]},
        {"Sid": "ReadFunction", "Effect": "Allow", "Action": list(LAMBDA_FUNCTION_READS),
         "Resource": [function, f"{function}:*"]},
        {"Sid": "ReadLogGroup", "Effect": "Allow",
         "Action": ["logs:ListTagsForResource", "logs:ListTagsLogGroup"],
         "Resource": [log_group, f"{log_group}:*"]},
        {"Sid": "ReadQueue", "Effect": "Allow", "Action": list(QUEUE_READS),
         "Resource": _arn(config, "sqs", names.failure_queue)},
        {"Sid": "ReadTopic", "Effect": "Allow", "Action": list(TOPIC_READS),
         "Resource": _arn(config, "sns", names.alarm_topic)},
        {"Sid": "ReadAlarms", "Effect": "Allow",
         "Action": ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
         "Resource": [_arn(config, "cloudwatch", f"alarm:{names.function}-{key}")
                      for key in ALARM_KEYS]},
        {"Sid": "ReadFunctionRole", "Effect": "Allow", "Action": list(ROLE_READS),
         "Resource": f"arn:aws:iam::{config.account_id}:role/{names.role}"},
        {"Sid": "ReadScalableTargetTags", "Effect": "Allow",
         "Action": "application-autoscaling:ListTagsForResource",
         "Resource": _arn(config, "application-autoscaling", "scalable-target/*")},
        {"Sid": "ReadDatabase", "Effect": "Allow", "Action": list(DATABASE_READS),
         "Resource": database},
        # EC2 resources have no name in their ARN: this environment's carry its tag.
        {"Sid": "ReadNetworkAttributes", "Effect": "Allow", "Action": list(NETWORK_READ_ACTIONS),
         "Resource": _arn(config, "ec2", "*"),
         "Condition": {"StringEquals": {"aws:ResourceTag/Environment": config.environment}}},
        {"Sid": "DescribeForRefresh", "Effect": "Allow", "Action": list(UNSCOPABLE_READS),
         "Resource": "*"},
    ]  # fmt: skip


def _names(config: BootstrapConfig) -> ResourceNames:
    """The environment's own names (without a suffix)."""
    return ResourceNames.derive(config.environment, config.region, None, config.organisation)


def _own(config: BootstrapConfig, arn: str, *below: str) -> list[str]:
    """`arn` of one of the environment's names, what lies `below` it (objects, versions), and,
    where the environment has pull-request copies, the same of every copy: `<arn>-pr-<number>`
    (and nothing else: not `<arn>x`, not another suffix)."""
    patterns = [arn, *(f"{arn}{part}" for part in below)]
    if config.pull_request_copies:
        patterns.append(f"{arn}-{PULL_REQUEST_SUFFIX_PREFIX}*")
    return patterns


def _arn(config: BootstrapConfig, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{config.region}:{config.account_id}:{resource}"


def _named_resources(config: BootstrapConfig) -> list[Statement]:
    """Services whose ARNs carry the resource name: the environment's own names, and those of
    its pull-request copies where it has them.

    The service-wide actions (`s3:*`, ...) are deliberate: a deploy creates, reads back (the
    AWS provider reads ~20 bucket sub-configurations), changes and destroys these resources, so
    it needs every action on them, and the ARN patterns confine it to this environment's
    resources of this account and region.
    """
    names = _names(config)
    buckets = [f"arn:aws:s3:::{name}" for name in (names.ingest_bucket, names.archive_bucket)]
    # The alarms are named after the function, one per key.
    alarms = [_arn(config, "cloudwatch", f"alarm:{names.function}-{key}") for key in ALARM_KEYS]
    if config.pull_request_copies:
        function_of_a_copy = f"{names.function}-{PULL_REQUEST_SUFFIX_PREFIX}*"
        alarms.append(_arn(config, "cloudwatch", f"alarm:{function_of_a_copy}"))
    return [
        {"Sid": "EnvironmentBuckets", "Effect": "Allow", "Action": "s3:*",
         "Resource": [arn for bucket in buckets for arn in _own(config, bucket, "/*")]},
        {"Sid": "EnvironmentTable", "Effect": "Allow", "Action": "dynamodb:*",
         "Resource": _own(config, _arn(config, "dynamodb", f"table/{names.table}"), "/*")},
        {"Sid": "EnvironmentFunction", "Effect": "Allow", "Action": "lambda:*",
         "Resource": _own(config, _arn(config, "lambda", f"function:{names.function}"), ":*")},
        {"Sid": "EnvironmentLogGroup", "Effect": "Allow", "Action": "logs:*",
         "Resource": _own(config, _arn(config, "logs", f"log-group:{names.log_group}"), ":*")},
        {"Sid": "EnvironmentQueues", "Effect": "Allow", "Action": "sqs:*",
         "Resource": _own(config, _arn(config, "sqs", names.failure_queue))},
        {"Sid": "EnvironmentTopics", "Effect": "Allow", "Action": "sns:*",
         "Resource": _own(config, _arn(config, "sns", names.alarm_topic))},
        {"Sid": "EnvironmentAlarms", "Effect": "Allow", "Action": list(ALARM_ACTIONS),
         "Resource": alarms},
    ]  # fmt: skip


def _roles(config: BootstrapConfig) -> list[Statement]:
    """The function's execution role only, and only inside the environment's boundary."""
    names = _names(config)
    account = config.account_id
    role = _own(config, f"arn:aws:iam::{account}:role/{names.role}")
    boundary = permissions_boundary_arn(account, config.environment)
    with_boundary = {"ArnEquals": {"iam:PermissionsBoundary": boundary}}
    return [
        {"Sid": "FunctionRoleWithinTheBoundary", "Effect": "Allow",
         "Action": list(BOUNDED_ROLE_ACTIONS), "Resource": role, "Condition": with_boundary},
        {"Sid": "FunctionRole", "Effect": "Allow", "Action": list(ROLE_ACTIONS),
         "Resource": role},
        {"Sid": "PassFunctionRoleToLambda", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
        {"Sid": "DynamoDbAutoscalingServiceRole", "Effect": "Allow",
         "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:aws:iam::{account}:{DYNAMODB_AUTOSCALING_ROLE}",
         "Condition": {"StringEquals": {"iam:AWSServiceName": AUTOSCALING_SERVICE}}},
    ]  # fmt: skip


def _escalation_guards(config: BootstrapConfig) -> list[Statement]:
    """Explicit denies that hold whatever Allow is added later: no role without the boundary,
    no boundary removed, and neither the boundary nor the pipeline roles touched at all."""
    account = config.account_id
    boundary = permissions_boundary_arn(account, config.environment)
    pipeline_roles = [
        f"arn:aws:iam::{account}:role/{name}"
        for name in (config.deploy_role_name, config.preview_role_name)
    ]
    every_role = f"arn:aws:iam::{account}:role/*"
    return [
        {"Sid": "DenyRolesOutsideTheBoundary", "Effect": "Deny",
         "Action": list(BOUNDARY_GUARDED_ACTIONS), "Resource": every_role,
         "Condition": {"ArnNotEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Sid": "DenyRemovingABoundary", "Effect": "Deny",
         "Action": "iam:DeleteRolePermissionsBoundary", "Resource": every_role},
        {"Sid": "DenyTouchingTheBoundaryOrThePipelineRoles", "Effect": "Deny",
         "Action": "iam:*", "Resource": [boundary, *pipeline_roles]},
    ]  # fmt: skip


def _network(config: BootstrapConfig) -> list[Statement]:
    """EC2 ids carry no name: scope by the Environment tag, in this account and region.

    The stack's provider sets `Environment=<env>` as a default tag, which the AWS provider sends
    with every create call, so creates are allowed only with this environment's tag and
    changes only on resources that already carry it.
    """
    environment = config.environment
    own_ec2 = _arn(config, "ec2", "*")
    return [
        {"Sid": "CreateTaggedNetwork", "Effect": "Allow", "Action": list(NETWORK_CREATE_ACTIONS),
         "Resource": own_ec2,
         "Condition": {"StringEquals": {"aws:RequestTag/Environment": environment}}},
        # A create also names existing resources (the VPC of a subnet, the subnet of a NAT
        # gateway): those must already be this environment's.
        {"Sid": "CreateInOwnNetwork", "Effect": "Allow", "Action": list(NETWORK_CREATE_ACTIONS),
         "Resource": own_ec2,
         "Condition": {"StringEquals": {"aws:ResourceTag/Environment": environment}}},
        {"Sid": "LaunchNatInstanceFromAmazonImage", "Effect": "Allow",
         "Action": "ec2:RunInstances", "Resource": f"arn:aws:ec2:{config.region}::image/*"},
        {"Sid": "TagNetworkOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": own_ec2,
         "Condition": {"StringEquals": {"ec2:CreateAction": list(NETWORK_CREATE_ACTIONS)}}},
        {"Sid": "ManageOwnNetwork", "Effect": "Allow", "Action": list(NETWORK_MANAGE_ACTIONS),
         "Resource": own_ec2,
         "Condition": {"StringEquals": {"aws:ResourceTag/Environment": environment}}},
        {"Sid": "ReadNetworkAttributes", "Effect": "Allow", "Action": list(NETWORK_READ_ACTIONS),
         "Resource": own_ec2},
        # Creating an interface endpoint with private DNS (X-Ray's; Secrets Manager's, for the
        # database) associates the VPC with the endpoint's hosted zone, which AWS owns.
        {"Sid": "PrivateDnsOfInterfaceEndpoints", "Effect": "Allow",
         "Action": "route53:AssociateVPCWithHostedZone",
         "Resource": "arn:aws:route53:::hostedzone/*"},
    ]  # fmt: skip


def _table_autoscaling(config: BootstrapConfig) -> list[Statement]:
    """Target tracking on the environment's tables.

    Scalable targets get a random id from AWS, so their ARNs can only be scoped to this
    account and region; which table a target scales is checked by Application Auto Scaling
    against the caller's own `dynamodb:DescribeTable`/`UpdateTable` on that table, which only
    this environment's tables grant. Its target-tracking policies create CloudWatch alarms named
    `TargetTracking-table/<table>-…` with the caller's permissions.
    """
    names = _names(config)
    targets = _arn(config, "application-autoscaling", "scalable-target/*")
    dynamodb_only = {"StringEquals": {"application-autoscaling:service-namespace": "dynamodb"}}
    return [
        {"Sid": "TableAutoscaling", "Effect": "Allow", "Action": list(AUTOSCALING_ACTIONS),
         "Resource": targets, "Condition": dynamodb_only},
        {"Sid": "TagScalableTargets", "Effect": "Allow",
         "Action": list(AUTOSCALING_TAG_ACTIONS), "Resource": targets},
        {"Sid": "TargetTrackingAlarms", "Effect": "Allow",
         "Action": list(TARGET_TRACKING_ALARM_ACTIONS),
         "Resource": _target_tracking_alarms(config, names.table)},
    ]  # fmt: skip


# The alarms of a target-tracking policy on a table: `TargetTracking-table/<table>-<kind>-<id>`.
TARGET_TRACKING_ALARM_KINDS = (
    "AlarmHigh", "AlarmLow", "ProvisionedCapacityHigh", "ProvisionedCapacityLow",
)  # fmt: skip


def _target_tracking_alarms(config: BootstrapConfig, table: str) -> list[str]:
    prefix = f"alarm:TargetTracking-table/{table}"
    alarms = [
        _arn(config, "cloudwatch", f"{prefix}-{kind}-*") for kind in TARGET_TRACKING_ALARM_KINDS
    ]
    if config.pull_request_copies:
        alarms.append(_arn(config, "cloudwatch", f"{prefix}-{PULL_REQUEST_SUFFIX_PREFIX}*"))
    return alarms


def deploy_policy(scope: DeployScope) -> dict[str, Any]:
    """`pulumi up` and `pulumi destroy` of one environment, and nothing of any other: its state,
    its network and autoscaling, and the guards; its named resources are
    `deploy_resources_policy`'s."""
    config = scope.config
    statements = [
        *_state_and_secrets(scope, writable_prefix=""),
        *_program_lookups(config),
        *_escalation_guards(config),
        *_network(config),
        *_table_autoscaling(config),
        {
            "Sid": "DescribeForRefresh",
            "Effect": "Allow",
            "Action": list(UNSCOPABLE_READS),
            "Resource": "*",
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def deploy_resources_policy(config: BootstrapConfig) -> dict[str, Any]:
    """The environment's named resources, and the function's role within the boundary: a
    managed policy of its own, as the names of pull-request copies make it too long to share a
    role's 10,240 characters of inline policy."""
    return {"Version": "2012-10-17", "Statement": [*_named_resources(config), *_roles(config)]}


# The database's RDS resources, by name: the cluster, its instances (`<cluster>-<n>`), its subnet
# group (named after the cluster).
DATABASE_RESOURCE_TYPES = ("cluster", "db", "subgrp")
#: RDS's service-linked role, which it creates on an account's first database if missing.
RDS_SERVICE = "rds.amazonaws.com"
RDS_SERVICE_ROLE = f"role/aws-service-role/{RDS_SERVICE}/AWSServiceRoleForRDS"


def deploy_database_policy(config: BootstrapConfig) -> dict[str, Any]:
    """What `pulumi up` and `pulumi destroy` of the environment's optional database need, beyond
    `deploy_policy` (whose network statements already cover its security group and rule).

    Per the Service Authorization Reference: `rds:CreateDBCluster` also names the (default)
    cluster parameter group and option group, `rds:CreateDBInstance` the parameter group, and
    creating a cluster whose master password RDS manages needs `secretsmanager:CreateSecret` and
    `secretsmanager:TagResource`, which RDS calls with the caller's permissions (a forward access
    session, hence `aws:ViaAWSService`); RDS itself rotates and deletes that secret. Deleting a
    cluster with a final snapshot creates `cluster-snapshot:<cluster>-final`. The provider reads
    a cluster's global-cluster membership on every refresh.
    """
    names = _names(config)

    def rds(resource: str) -> str:
        return _arn(config, "rds", resource)

    database = names.database
    copies = f"{database}-{PULL_REQUEST_SUFFIX_PREFIX}*"
    # The cluster and its subnet group bear its name; its instances `<name>-<number>` (1-16).
    own = [rds(f"cluster:{database}"), rds(f"subgrp:{database}"),
           rds(f"db:{database}-?"), rds(f"db:{database}-??")]  # fmt: skip
    snapshots = [rds(f"cluster-snapshot:{final_snapshot_identifier(database)}")]
    if config.pull_request_copies:
        own += [rds(f"{kind}:{copies}") for kind in DATABASE_RESOURCE_TYPES]
        snapshots.append(rds(f"cluster-snapshot:{final_snapshot_identifier(copies)}"))
    family = f"default.{DATABASE_ENGINE.value}*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EnvironmentDatabase", "Effect": "Allow", "Action": "rds:*",
             "Resource": own},
            {"Sid": "CreateWithTheDefaultGroups", "Effect": "Allow",
             "Action": ["rds:CreateDBCluster", "rds:CreateDBInstance"],
             "Resource": [rds(f"cluster-pg:{family}"), rds(f"pg:{family}"),
                          rds(f"og:default:{DATABASE_ENGINE.value}*")]},
            {"Sid": "FinalSnapshotOnDelete", "Effect": "Allow",
             "Action": ["rds:AddTagsToResource", "rds:CreateDBClusterSnapshot",
                        "rds:DeleteDBCluster"],
             "Resource": snapshots},
            {"Sid": "ReadGlobalClusterMembership", "Effect": "Allow",
             "Action": "rds:DescribeGlobalClusters",
             "Resource": f"arn:aws:rds::{config.account_id}:global-cluster:*"},
            {"Sid": "MasterUserSecretCreatedByRds", "Effect": "Allow",
             "Action": ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
             "Resource": _arn(config, "secretsmanager", "secret:rds!cluster-*"),
             "Condition": {"Bool": {"aws:ViaAWSService": "true"}}},
            {"Sid": "RdsServiceLinkedRole", "Effect": "Allow",
             "Action": "iam:CreateServiceLinkedRole",
             "Resource": f"arn:aws:iam::{config.account_id}:{RDS_SERVICE_ROLE}",
             "Condition": {"StringEquals": {"iam:AWSServiceName": RDS_SERVICE}}},
        ],
    }  # fmt: skip
