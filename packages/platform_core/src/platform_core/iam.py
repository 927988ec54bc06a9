"""The processor's execution role: exact actions on this environment's own ARNs.

Policy documents are plain data built by pure functions from resource ARNs, so tests parse and
check them; the only `Resource: "*"` statements are the ones AWS allows nothing narrower for.

The role carries the environment's permissions boundary, a managed policy that the bootstrap
creates (`workload_boundary_policy`) before any stack exists. The CI deploy role may create or
change a role only with that boundary attached, so whatever policy a deploy writes, the role can
never do more than the boundary allows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from platform_core.component import PlatformComponent
from platform_core.naming import ResourceNames
from platform_core.organisation import Organisation
from processor.contract import ARCHIVE_PREFIXES, INGEST_PREFIX

__all__ = [
    "ProcessorAccess",
    "ProcessorRole",
    "ProcessorRoleArgs",
    "lambda_trust_policy",
    "permissions_boundary_arn",
    "permissions_boundary_name",
    "processor_policy",
    "workload_boundary_policy",
]

# What the processor calls: BatchGetItem/GetItem to read bars and its ledger, PutItem (also what
# authorises the Puts inside its TransactWriteItems) and UpdateItem to write them.
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# Lambda checks these on the execution role when it attaches the function to its subnets; they
# take this account's network interfaces, subnets and security groups as resources.
NETWORK_INTERFACE_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
)
NETWORK_INTERFACE_RESOURCES = ("network-interface", "security-group", "subnet")
# Describe calls support no resource-level permissions at all: `Resource: "*"` is the only form.
VPC_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
VPC_ACTIONS = NETWORK_INTERFACE_ACTIONS + VPC_DESCRIBE_ACTIONS
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
# The database's credentials: RDS keeps them in a secret encrypted with the AWS-managed key
# aws/secretsmanager, whose key policy already lets the account decrypt through Secrets Manager.
DATABASE_SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
#: The tag RDS puts on every secret it manages, naming the cluster the secret belongs to.
DATABASE_SECRET_CLUSTER_TAG = "aws:rds:primaryDBClusterArn"
# Actions that support no resource-level permissions (AWS's Service Authorization Reference).
UNSCOPABLE_ACTIONS = VPC_DESCRIBE_ACTIONS + XRAY_ACTIONS


def permissions_boundary_name(environment: str) -> str:
    """The managed policy every role of `environment`'s stacks carries as its boundary.

    One per environment (copies with a suffix share it), outside the `<env>-trading-processor-*`
    role names the deploy role manages; the deploy role has no permission on managed policies.
    """
    return f"{environment}-trading-workload-boundary"


def permissions_boundary_arn(account_id: str, environment: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{permissions_boundary_name(environment)}"


@dataclass(frozen=True)
class ProcessorAccess:
    """The resolved ARNs the function may touch, and where it runs."""

    log_group_arn: str
    table_arn: str
    ingest_bucket_arn: str
    archive_bucket_arn: str
    failure_queue_arn: str
    region: str
    account_id: str
    tracing: bool
    #: The secret of the database's credentials, where there is a database.
    database_secret_arn: str | None = None
    #: Narrows `database_secret_arn` (then a pattern) to the secrets RDS manages for the
    #: clusters this ARN pattern matches: secret names carry no cluster name, their tag does.
    database_cluster_arn: str | None = None


def lambda_trust_policy() -> dict[str, Any]:
    """Only the Lambda service may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def processor_policy(access: ProcessorAccess) -> dict[str, Any]:
    """Read from the ingest bucket's `incoming/`, write bars and the archive, log, fail over."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [access.log_group_arn, f"{access.log_group_arn}:log-stream:*"],
        },
        {
            "Sid": "MergeBars",
            "Effect": "Allow",
            "Action": list(TABLE_ACTIONS),
            "Resource": [access.table_arn],
        },
        {
            "Sid": "ReadIncomingMarketData",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": [f"{access.ingest_bucket_arn}/{INGEST_PREFIX}*"],
        },
        # Without ListBucket, S3 answers a GetObject of a deleted key with 403, not 404, and the
        # handler could not tell "object gone" from "access denied". Only under incoming/.
        {
            "Sid": "ListIncomingMarketData",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [access.ingest_bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{INGEST_PREFIX}*"]}},
        },
        {
            "Sid": "ArchiveTrades",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{access.archive_bucket_arn}/{prefix}*" for prefix in ARCHIVE_PREFIXES],
        },
        {
            "Sid": "SendFailedEvents",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [access.failure_queue_arn],
        },
        {
            "Sid": "ManageVpcNetworkInterfaces",
            "Effect": "Allow",
            "Action": list(NETWORK_INTERFACE_ACTIONS),
            "Resource": [
                f"arn:aws:ec2:{access.region}:{access.account_id}:{kind}/*"
                for kind in NETWORK_INTERFACE_RESOURCES
            ],
        },
        {
            "Sid": "DescribeVpcNetwork",
            "Effect": "Allow",
            "Action": list(VPC_DESCRIBE_ACTIONS),
            "Resource": "*",
        },
    ]
    if access.tracing:
        statements.append(
            {
                "Sid": "UploadTraces",
                "Effect": "Allow",
                "Action": list(XRAY_ACTIONS),
                "Resource": "*",
            }
        )
    if access.database_secret_arn is not None:
        statements.append(_database_secret_statement(access))
    return {"Version": "2012-10-17", "Statement": statements}


def _database_secret_statement(access: ProcessorAccess) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "ReadDatabaseSecret",
        "Effect": "Allow",
        "Action": list(DATABASE_SECRET_ACTIONS),
        "Resource": [access.database_secret_arn],
    }
    if access.database_cluster_arn is not None:
        tag = f"secretsmanager:ResourceTag/{DATABASE_SECRET_CLUSTER_TAG}"
        statement["Condition"] = {"StringLike": {tag: access.database_cluster_arn}}
    return statement


def workload_boundary_policy(
    environment: str, region: str, account_id: str, organisation: Organisation
) -> dict[str, Any]:
    """The most any role of `environment` may do: the function's own grants, over every copy.

    It is `processor_policy` with each resource widened to a name pattern that matches the
    environment's resources with or without an `environmentSuffix`, with tracing on and with a
    database (its secret: any that RDS manages for the environment's clusters, recognised by the
    tag RDS puts on it), so a function role is always inside it and nothing else is. Growing
    the function's grants means growing this too, by running the bootstrap again, which is the
    point: the pipeline alone cannot.
    """
    names = ResourceNames.derive(environment, region, None, organisation)

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{account_id}:{resource}"

    every_copy = ProcessorAccess(
        log_group_arn=arn("logs", f"log-group:{names.log_group}*"),
        table_arn=arn("dynamodb", f"table/{names.table}*"),
        ingest_bucket_arn=f"arn:aws:s3:::{names.ingest_bucket}*",
        archive_bucket_arn=f"arn:aws:s3:::{names.archive_bucket}*",
        failure_queue_arn=arn("sqs", f"{names.failure_queue}*"),
        region=region,
        account_id=account_id,
        tracing=True,
        # RDS names the secret it manages `rds!cluster-<cluster resource id>-<random>`.
        database_secret_arn=arn("secretsmanager", "secret:rds!cluster-*"),
        database_cluster_arn=arn("rds", f"cluster:{names.database}*"),
    )
    return processor_policy(every_copy)


@dataclass(frozen=True)
class ProcessorRoleArgs:
    role_name: str
    log_group_arn: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    ingest_bucket_arn: pulumi.Input[str]
    archive_bucket_arn: pulumi.Input[str]
    failure_queue_arn: pulumi.Input[str]
    region: str
    account_id: pulumi.Input[str]
    tracing: bool
    # The ARN of the environment's boundary (`permissions_boundary_arn`).
    permissions_boundary: pulumi.Input[str]
    #: The database's credentials secret, where there is a database.
    database_secret_arn: pulumi.Input[str] | None = None


class ProcessorRole(PlatformComponent):
    """One execution role per environment with one inline least-privilege policy."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy

    def __init__(
        self, name: str, args: ProcessorRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:ProcessorRole", name, opts)
        child = self.child_options()
        self.role = aws.iam.Role(
            self.child_name("role"),
            name=args.role_name,
            description="Execution role of the market-data processor",
            assume_role_policy=json.dumps(lambda_trust_policy()),
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        document = pulumi.Output.all(
            args.log_group_arn,
            args.table_arn,
            args.ingest_bucket_arn,
            args.archive_bucket_arn,
            args.failure_queue_arn,
            args.account_id,
            args.database_secret_arn,
        ).apply(lambda values: json.dumps(processor_policy(self._access(values, args))))
        self.policy = aws.iam.RolePolicy(
            self.child_name("policy"),
            name="processor-access",
            role=self.role.id,
            policy=document,
            opts=child,
        )
        self.register_outputs({"role_arn": self.role.arn})

    @staticmethod
    def _access(values: list[Any], args: ProcessorRoleArgs) -> ProcessorAccess:
        log_group, table, ingest, archive, queue, account_id, secret = values
        return ProcessorAccess(
            log_group,
            table,
            ingest,
            archive,
            queue,
            args.region,
            account_id,
            args.tracing,
            database_secret_arn=secret,
        )
