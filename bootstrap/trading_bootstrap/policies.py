"""The bootstrap's policy documents, as data built by pure functions (tests parse them).

Two roles per environment, both assumable only through GitHub's OIDC provider by this
repository's jobs running in one GitHub environment:

- the preview role (GitHub environment `<env>-preview`, pull requests): reads the state, takes
  the stack lock, decrypts the stack's secrets; it cannot change anything in AWS;
- the deploy role (GitHub environment `<env>`, main; production's needs an approval): in
  addition manages the resources of its own environment, recognised by name prefix
  (`<env>-trading-*`) or, for EC2 resources that have no name in their ARN, by the
  `Environment` tag that the stack's provider puts on every resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trading_bootstrap.config import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, BootstrapConfig

__all__ = [
    "DeployScope",
    "deploy_policy",
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
# Read-only calls that AWS authorizes only on "*" (no resource-level permissions exist).
DESCRIBE_ACTIONS = (
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "cloudwatch:DescribeAlarms",
    "ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute", "ec2:DescribeAvailabilityZones",
    "ec2:DescribeImages", "ec2:DescribeInstanceAttribute",
    "ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances", "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways", "ec2:DescribeNetworkInterfaces", "ec2:DescribePrefixLists",
    "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets", "ec2:DescribeTags", "ec2:DescribeVolumes", "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpointServices", "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs",
    "logs:DescribeLogGroups",
)  # fmt: skip
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
PROCESSOR_ROLE_ACTIONS = (
    "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole",
    "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
)  # fmt: skip
ALARM_ACTIONS = (
    "cloudwatch:DeleteAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:PutMetricAlarm",
    "cloudwatch:TagResource", "cloudwatch:UntagResource",
)  # fmt: skip
AUTOSCALING_ACTIONS = (
    "application-autoscaling:DeleteScalingPolicy",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:ListTagsForResource", "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:RegisterScalableTarget", "application-autoscaling:TagResource",
    "application-autoscaling:UntagResource",
)  # fmt: skip
DYNAMODB_AUTOSCALING_ROLE = (
    "role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
)
NAT_INSTANCE_AMI_PARAMETERS = "parameter/aws/service/ami-amazon-linux-latest/*"


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


def _lookups(config: BootstrapConfig) -> Statement:
    return {
        "Sid": "ProgramLookups",
        "Effect": "Allow",
        "Action": ["ec2:DescribeAvailabilityZones", "ssm:GetParameter"],
        "Resource": [
            "*",  # DescribeAvailabilityZones has no resource-level permissions
            f"arn:aws:ssm:{config.region}::{NAT_INSTANCE_AMI_PARAMETERS}",
        ],
    }


def preview_policy(scope: DeployScope) -> dict[str, Any]:
    """Pull-request previews: read state, take the stack's lock, read secrets, run lookups."""
    statements = _state_and_secrets(scope, writable_prefix=".pulumi/locks/")
    return {"Version": "2012-10-17", "Statement": [*statements, _lookups(scope.config)]}


def _named_resources(config: BootstrapConfig) -> list[Statement]:
    """Services whose ARNs carry the resource name: the environment's own prefix.

    The service-wide actions (`s3:*`, ...) are deliberate and the only ones: a deploy creates,
    reads back (the AWS provider reads ~20 bucket sub-configurations), changes and destroys
    these resources, so it needs every action on them, and the ARN pattern confines it to
    `<env>-trading-*` of this account and region.
    """
    prefix, region, account = config.resource_prefix, config.region, config.account_id

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    return [
        {"Sid": "EnvironmentBuckets", "Effect": "Allow", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{prefix}*", f"arn:aws:s3:::{prefix}*/*"]},
        {"Sid": "EnvironmentTable", "Effect": "Allow", "Action": "dynamodb:*",
         "Resource": [arn("dynamodb", f"table/{prefix}*"), arn("dynamodb", f"table/{prefix}*/*")]},
        {"Sid": "EnvironmentFunction", "Effect": "Allow", "Action": "lambda:*",
         "Resource": arn("lambda", f"function:{prefix}*")},
        {"Sid": "EnvironmentLogGroup", "Effect": "Allow", "Action": "logs:*",
         "Resource": [arn("logs", f"log-group:/aws/lambda/{prefix}*"),
                      arn("logs", f"log-group:/aws/lambda/{prefix}*:*")]},
        {"Sid": "EnvironmentQueues", "Effect": "Allow", "Action": "sqs:*",
         "Resource": arn("sqs", f"{prefix}*")},
        {"Sid": "EnvironmentTopics", "Effect": "Allow", "Action": "sns:*",
         "Resource": arn("sns", f"{prefix}*")},
        {"Sid": "EnvironmentAlarms", "Effect": "Allow", "Action": list(ALARM_ACTIONS),
         "Resource": arn("cloudwatch", f"alarm:{prefix}*")},
    ]  # fmt: skip


def _roles(config: BootstrapConfig) -> list[Statement]:
    """The processor's execution role only (`<env>-trading-processor-*`), never these CI roles."""
    role = f"arn:aws:iam::{config.account_id}:role/{config.resource_prefix}processor-*"
    return [
        {"Sid": "ProcessorRole", "Effect": "Allow", "Action": list(PROCESSOR_ROLE_ACTIONS),
         "Resource": role},
        {"Sid": "PassProcessorRoleToLambda", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
        {"Sid": "DynamoDbAutoscalingServiceRole", "Effect": "Allow",
         "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:aws:iam::{config.account_id}:{DYNAMODB_AUTOSCALING_ROLE}",
         "Condition": {"StringEquals": {
             "iam:AWSServiceName": "dynamodb.application-autoscaling.amazonaws.com"}}},
    ]  # fmt: skip


def _network_and_scaling(config: BootstrapConfig) -> list[Statement]:
    """EC2 ids and scalable targets carry no name: scope by the Environment tag instead.

    The stack's provider sets `Environment=<env>` as a default tag, which the AWS provider sends
    with every create call, so creates are allowed only with this environment's tag and
    changes only on resources that already carry it.
    """
    environment = config.environment
    return [
        {"Sid": "CreateTaggedNetwork", "Effect": "Allow", "Action": list(NETWORK_CREATE_ACTIONS),
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/Environment": environment}}},
        # A create also names existing resources (the VPC of a subnet, the subnet of a NAT
        # gateway): those must already be this environment's.
        {"Sid": "CreateInOwnNetwork", "Effect": "Allow", "Action": list(NETWORK_CREATE_ACTIONS),
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/Environment": environment}}},
        {"Sid": "LaunchNatInstanceFromAmazonImage", "Effect": "Allow",
         "Action": "ec2:RunInstances", "Resource": f"arn:aws:ec2:{config.region}::image/*"},
        {"Sid": "TagNetworkOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags",
         "Resource": "*",
         "Condition": {"StringEquals": {"ec2:CreateAction": list(NETWORK_CREATE_ACTIONS)}}},
        {"Sid": "ManageOwnNetwork", "Effect": "Allow", "Action": list(NETWORK_MANAGE_ACTIONS),
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/Environment": environment}}},
        # Scalable targets get their ARN from AWS at registration; nothing narrower exists.
        {"Sid": "TableAutoscaling", "Effect": "Allow", "Action": list(AUTOSCALING_ACTIONS),
         "Resource": "*"},
        {"Sid": "DescribeForRefresh", "Effect": "Allow", "Action": list(DESCRIBE_ACTIONS),
         "Resource": "*"},
    ]  # fmt: skip


def deploy_policy(scope: DeployScope) -> dict[str, Any]:
    """`pulumi up` and `pulumi destroy` of one environment, and nothing of any other."""
    config = scope.config
    statements = [
        *_state_and_secrets(scope, writable_prefix=""),
        _lookups(config),
        *_named_resources(config),
        *_roles(config),
        *_network_and_scaling(config),
    ]
    return {"Version": "2012-10-17", "Statement": statements}
