"""The preview role reads back every resource of its environment's stack, as the drift check's
`pulumi preview --refresh` does, and nothing of another environment or of a copy.

The reads per resource type are written out here from what the AWS provider asks when it
reads one back; every type the stacks create must have an entry, so a new kind of resource
makes this test ask how the drift check will read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import pytest
from trading_bootstrap.policies import preview_policy

from platform_core.observability import ALARM_KEYS
from platform_core.offline import RegisteredResource, RenderedStack, render_stack
from tests.render.bootstrap.test_deploy_role import ACCOUNT, scope
from tests.render.iam.model import Decision, Request, decide
from tests.repository import ENVIRONMENTS, STACKS_DIR

REGION = "us-east-1"
STAR = "*"  # calls AWS lets name no resource


def arn_of(resource: RegisteredResource) -> str:
    return str(resource.state["arn"])


def bucket_of(resource: RegisteredResource) -> str:
    return f"arn:aws:s3:::{resource.inputs['bucket']}"


def alarm_of(resource: RegisteredResource) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{resource.inputs['name']}"


def function_of(resource: RegisteredResource) -> str:
    name = resource.inputs.get("functionName") or resource.inputs["function"]
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def role_of(resource: RegisteredResource) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{resource.inputs['role']}"


def ec2(kind: str) -> Callable[[RegisteredResource], str]:
    return lambda resource: f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{resource.state['id']}"


def scalable_target(_: RegisteredResource) -> str:
    # AWS gives scalable targets a random id: their ARN names no environment.
    return f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0a1b2c3d"


def rds(kind: str, key: str) -> Callable[[RegisteredResource], str]:
    return lambda resource: f"arn:aws:rds:{REGION}:{ACCOUNT}:{kind}:{resource.inputs[key]}"


def star(_: RegisteredResource) -> str:
    return STAR


Reads = tuple[tuple[str, Callable[[RegisteredResource], str]], ...]
# type -> (action, the resource it names)
READS: Mapping[str, Reads] = {
    "aws:s3/bucket:Bucket": tuple(
        (f"s3:{action}", arn_of)
        for action in (
            "ListBucket",
            "GetBucketLocation",
            "GetBucketPolicy",
            "GetBucketAcl",
            "GetBucketCORS",
            "GetBucketWebsite",
            "GetBucketVersioning",
            "GetAccelerateConfiguration",
            "GetBucketRequestPayment",
            "GetBucketLogging",
            "GetLifecycleConfiguration",
            "GetReplicationConfiguration",
            "GetEncryptionConfiguration",
            "GetBucketObjectLockConfiguration",
            "GetBucketTagging",
        )
    ),  # fmt: skip
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        ("s3:GetBucketPublicAccessBlock", bucket_of),
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        ("s3:GetBucketOwnershipControls", bucket_of),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        ("s3:GetEncryptionConfiguration", bucket_of),
    ),
    "aws:s3/bucketVersioning:BucketVersioning": (("s3:GetBucketVersioning", bucket_of),),
    "aws:s3/bucketPolicy:BucketPolicy": (("s3:GetBucketPolicy", bucket_of),),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        ("s3:GetLifecycleConfiguration", bucket_of),
    ),
    "aws:s3/bucketNotification:BucketNotification": (("s3:GetBucketNotification", bucket_of),),
    "aws:dynamodb/table:Table": tuple(
        (f"dynamodb:{action}", arn_of)
        for action in (
            "DescribeTable",
            "DescribeContinuousBackups",
            "DescribeTimeToLive",
            "ListTagsOfResource",
        )
    ),  # fmt: skip
    "aws:lambda/function:Function": tuple(
        (f"lambda:{action}", arn_of)
        for action in (
            "GetFunction",
            "GetFunctionCodeSigningConfig",
            "GetFunctionConcurrency",
            "ListVersionsByFunction",
            "GetRuntimeManagementConfig",
        )
    ),  # fmt: skip
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (
        ("lambda:GetFunctionEventInvokeConfig", function_of),
    ),
    "aws:lambda/permission:Permission": (("lambda:GetPolicy", function_of),),
    "aws:cloudwatch/logGroup:LogGroup": (
        ("logs:DescribeLogGroups", star),
        ("logs:ListTagsForResource", arn_of),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        ("cloudwatch:DescribeAlarms", alarm_of),
        ("cloudwatch:ListTagsForResource", alarm_of),
    ),
    "aws:sqs/queue:Queue": (("sqs:GetQueueAttributes", arn_of), ("sqs:ListQueueTags", arn_of)),
    "aws:sns/topic:Topic": (
        ("sns:GetTopicAttributes", arn_of),
        ("sns:ListTagsForResource", arn_of),
    ),
    "aws:iam/role:Role": (
        ("iam:GetRole", arn_of),
        ("iam:ListRolePolicies", arn_of),
        ("iam:ListAttachedRolePolicies", arn_of),
    ),
    "aws:iam/rolePolicy:RolePolicy": (("iam:GetRolePolicy", role_of),),
    "aws:appautoscaling/target:Target": (
        ("application-autoscaling:DescribeScalableTargets", star),
        ("application-autoscaling:ListTagsForResource", scalable_target),
    ),
    "aws:appautoscaling/policy:Policy": (
        ("application-autoscaling:DescribeScalingPolicies", star),
    ),
    "aws:ec2/vpc:Vpc": (
        ("ec2:DescribeVpcs", star),
        ("ec2:DescribeVpcAttribute", ec2("vpc")),
        ("ec2:DescribeRouteTables", star),
        ("ec2:DescribeNetworkAcls", star),
        ("ec2:DescribeSecurityGroups", star),
    ),
    "aws:ec2/subnet:Subnet": (("ec2:DescribeSubnets", star),),
    "aws:ec2/securityGroup:SecurityGroup": (("ec2:DescribeSecurityGroups", star),),
    "aws:ec2/securityGroupRule:SecurityGroupRule": (("ec2:DescribeSecurityGroupRules", star),),
    "aws:ec2/routeTable:RouteTable": (("ec2:DescribeRouteTables", star),),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (("ec2:DescribeRouteTables", star),),
    "aws:ec2/route:Route": (("ec2:DescribeRouteTables", star),),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        ("ec2:DescribeVpcEndpoints", star),
        ("ec2:DescribePrefixLists", star),
    ),
    "aws:ec2/internetGateway:InternetGateway": (("ec2:DescribeInternetGateways", star),),
    "aws:ec2/natGateway:NatGateway": (("ec2:DescribeNatGateways", star),),
    "aws:ec2/eip:Eip": (("ec2:DescribeAddresses", star),),
    "aws:ec2/instance:Instance": (
        ("ec2:DescribeInstances", star),
        ("ec2:DescribeInstanceAttribute", ec2("instance")),
        ("ec2:DescribeInstanceCreditSpecifications", star),
        ("ec2:DescribeVolumes", star),
    ),
    "aws:rds/cluster:Cluster": (
        ("rds:DescribeDBClusters", rds("cluster", "clusterIdentifier")),
        ("rds:ListTagsForResource", rds("cluster", "clusterIdentifier")),
    ),
    "aws:rds/clusterInstance:ClusterInstance": (
        ("rds:DescribeDBInstances", rds("db", "identifier")),
        ("rds:ListTagsForResource", rds("db", "identifier")),
    ),
    "aws:rds/subnetGroup:SubnetGroup": (
        ("rds:DescribeDBSubnetGroups", rds("subgrp", "name")),
        ("rds:ListTagsForResource", rds("subgrp", "name")),
    ),
}
EVERYTHING_ON = {
    "platform:database": "aurora-postgresql",
    "platform:egressMode": "nat-instance",
    "platform:alarmProfile": "strict",
    "platform:dynamodbBillingMode": "PROVISIONED",
    "platform:dynamodbOnDemandMaxUnits": "none",
    "platform:archiveGlacierAfterDays": "30",
}


@pytest.fixture(scope="module")
def stacks() -> dict[str, RenderedStack]:
    """Every environment with every optional resource, a NAT gateway copy, and a copy of dev."""
    rendered = {
        env: render_stack(STACKS_DIR / env, overrides=EVERYTHING_ON) for env in ENVIRONMENTS
    }
    rendered["nat-gateway"] = render_stack(
        STACKS_DIR / "dev", overrides={**EVERYTHING_ON, "platform:egressMode": "nat-gateway"}
    )
    rendered["dev-pr-7"] = render_stack(
        STACKS_DIR / "dev",
        stack="dev-pr-7",
        config_stack="dev",
        overrides={**EVERYTHING_ON, "platform:environmentSuffix": "pr-7"},
    )
    return rendered


def reads(stack: RenderedStack) -> Iterator[Request]:
    for resource in stack.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers:"):
            for action, resource_of in READS[resource.type]:
                arn = resource_of(resource)
                # EC2 resources are this environment's by their tag (a copy carries it too).
                tag = {"aws:ResourceTag/Environment": stack.stack.split("-")[0]}
                yield Request(action, arn, tag if arn.startswith("arn:aws:ec2:") else {})


def scope_of(request: Request, target: str, environment: str) -> bool | None:
    """Whether `environment`'s role should read it: by name, by tag (EC2), or everywhere (None:
    "*" and scalable targets, which no ARN ties to an environment)."""
    if request.resource == STAR or ":scalable-target/" in request.resource:
        return None
    if request.resource.startswith("arn:aws:ec2:"):
        return target.split("-")[0] == environment
    return target == environment


def test_every_type_the_stacks_create_has_its_reads(stacks):
    created = {
        r.type for stack in stacks.values() for r in stack.resources
        if r.custom and not r.type.startswith("pulumi:providers:")
    }  # fmt: skip
    assert created == set(READS)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_preview_role_reads_back_its_own_stack_and_no_other(stacks, environment):
    policy = preview_policy(scope(environment))
    for target, stack in stacks.items():
        name = target if target != "nat-gateway" else "dev"  # a variant of dev, not a copy
        for request in reads(stack):
            own = scope_of(request, name, environment)
            expected = Decision.ALLOWED if own in (True, None) else Decision.IMPLICITLY_DENIED
            assert decide(policy, request) is expected, (target, request)


def test_reading_data_is_not_reading_back_a_resource():
    policy = preview_policy(scope("dev"))
    archive = "arn:aws:s3:::example-dev-trading-archive-us-east-1"
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/dev-trading-analytics-us-east-1"
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dev-trading-processor-failures-us-east-1"
    for request in (
        Request("s3:GetObject", f"{archive}/raw/dt=2026-11-20/hour=09/b.jsonl.gz"),
        Request("dynamodb:GetItem", table),
        Request("dynamodb:Scan", table),
        Request("sqs:ReceiveMessage", queue),
        Request("lambda:InvokeFunction",
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dev-trading-processor-us-east-1"),
    ):  # fmt: skip
        assert decide(policy, request) is Decision.IMPLICITLY_DENIED, request


def test_the_roles_name_every_alarm_an_environment_can_have(stacks):
    """The roles list alarms by name (`<function>-<key>`), so these must be all of them."""
    for target, stack in stacks.items():
        function = stack.one("aws:lambda/function:Function").inputs["name"]
        alarms = {r.inputs["name"] for r in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
        assert alarms == {f"{function}-{key}" for key in ALARM_KEYS}, target
