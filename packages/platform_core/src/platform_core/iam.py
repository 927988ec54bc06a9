"""The processor's execution role (R-10): exact actions on this environment's own ARNs.

Policy documents are plain data built by pure functions from resource ARNs, so tests parse and
check them; the only `Resource: "*"` statements are the ones AWS allows nothing narrower for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from processor.contract import ARCHIVE_PREFIXES, INGEST_PREFIX

__all__ = [
    "ProcessorAccess",
    "ProcessorRole",
    "ProcessorRoleArgs",
    "lambda_trust_policy",
    "processor_policy",
]

# What the processor calls: BatchGetItem/GetItem to read bars and its ledger, PutItem (also what
# authorises the Puts inside its TransactWriteItems) and UpdateItem to write them.
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# A VPC function's ENIs are managed with actions that support no resource-level scoping.
VPC_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


@dataclass(frozen=True)
class ProcessorAccess:
    """The resolved ARNs the function may touch."""

    log_group_arn: str
    table_arn: str
    ingest_bucket_arn: str
    archive_bucket_arn: str
    failure_queue_arn: str
    tracing: bool


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
            "Action": list(VPC_ACTIONS),
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
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class ProcessorRoleArgs:
    role_name: str
    log_group_arn: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    ingest_bucket_arn: pulumi.Input[str]
    archive_bucket_arn: pulumi.Input[str]
    failure_queue_arn: pulumi.Input[str]
    tracing: bool


class ProcessorRole(pulumi.ComponentResource):
    """One execution role per environment with one inline least-privilege policy."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy

    def __init__(
        self, name: str, args: ProcessorRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:ProcessorRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            "role",
            name=args.role_name,
            description="Execution role of the market-data processor",
            assume_role_policy=json.dumps(lambda_trust_policy()),
            opts=child,
        )
        document = pulumi.Output.all(
            args.log_group_arn,
            args.table_arn,
            args.ingest_bucket_arn,
            args.archive_bucket_arn,
            args.failure_queue_arn,
        ).apply(lambda arns: json.dumps(processor_policy(self._access(arns, args.tracing))))
        self.policy = aws.iam.RolePolicy(
            "policy", name="processor-access", role=self.role.id, policy=document, opts=child
        )
        self.register_outputs({"role_arn": self.role.arn})

    @staticmethod
    def _access(arns: list[str], tracing: bool) -> ProcessorAccess:
        log_group, table, ingest, archive, queue = arns
        return ProcessorAccess(log_group, table, ingest, archive, queue, tracing=tracing)
