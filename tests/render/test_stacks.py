"""The real stack programs, rendered with their real config.

Every environment found under stacks/ must hold the invariants (arm64, private network, log group
first, explicit provider, exports, …); dev, staging and production must also show their
documented per-environment values, written out here by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from platform_core import EXPORT_NAMES
from platform_core.offline import RegisteredResource, RenderedStack, render_stack
from tests.repository import ENVIRONMENTS, ORGANISATION

ORG = ORGANISATION.prefix

# The specified values as the deployed inputs must show them: env -> expected value.
MEMORY = {"dev": 512, "staging": 1024, "production": 2048}
RETENTION = {"dev": 7, "staging": 30, "production": 90}
TRACING = {"dev": "PassThrough", "staging": "Active", "production": "Active"}
RESERVED = {"dev": -1, "staging": 50, "production": 100}
BILLING = {"dev": "PAY_PER_REQUEST", "staging": "PAY_PER_REQUEST", "production": "PROVISIONED"}
PITR = {"dev": False, "staging": False, "production": True}
VERSIONING = {"dev": "Disabled", "staging": "Disabled", "production": "Enabled"}
CIDR = {"dev": "10.2.0.0/16", "staging": "10.1.0.0/16", "production": "10.0.0.0/16"}
ALARMS = {"dev": 0, "staging": 6, "production": 6}


SPECIFIED = [env for env in ENVIRONMENTS if env in MEMORY]


@pytest.fixture(params=ENVIRONMENTS)
def env(request) -> str:
    """Every environment of the repository."""
    return str(request.param)


@pytest.fixture(params=SPECIFIED)
def specified(request) -> str:
    """The environments whose dial values are documented (and written out here)."""
    return str(request.param)


def function(stack: RenderedStack) -> RegisteredResource:
    return stack.one("aws:lambda/function:Function")


def test_lambda_invariants(rendered_stacks: Mapping[str, RenderedStack], env: str):
    inputs = function(rendered_stacks[env]).inputs
    assert inputs["architectures"] == ["arm64"]
    assert inputs["runtime"] in ("python3.12", "python3.13")
    assert inputs["handler"] == "processor.handler.handler"
    assert inputs["loggingConfig"]["logFormat"] == "JSON"


def test_lambda_dials(rendered_stacks: Mapping[str, RenderedStack], specified: str):
    inputs = function(rendered_stacks[specified]).inputs
    assert inputs["memorySize"] == MEMORY[specified]
    assert inputs["tracingConfig"] == {"mode": TRACING[specified]}
    assert inputs["reservedConcurrentExecutions"] == RESERVED[specified]
    assert inputs["timeout"] == 60


def test_function_environment_names_its_own_table_and_archive(rendered_stacks, env):
    variables = function(rendered_stacks[env]).inputs["environment"]["variables"]
    assert variables == {
        "TABLE_NAME": f"{env}-trading-analytics-us-east-1",
        "ARCHIVE_BUCKET": f"{ORG}-{env}-trading-archive-us-east-1",
        "INGEST_BUCKET": f"{ORG}-{env}-trading-ingest-us-east-1",
        "ENVIRONMENT": env,
    }


def test_log_group_exists_first_with_retention(rendered_stacks, env):
    stack = rendered_stacks[env]
    log_group = stack.one("aws:cloudwatch/logGroup:LogGroup")
    fn = function(stack)
    assert log_group.inputs["name"] == f"/aws/lambda/{fn.inputs['name']}"
    if env in RETENTION:
        assert log_group.inputs["retentionInDays"] == RETENTION[env]
    assert log_group.urn in fn.dependencies
    assert stack.resources.index(log_group) < stack.resources.index(fn)
    assert fn.inputs["loggingConfig"]["logGroup"] == log_group.inputs["name"]


def test_table_contract(rendered_stacks, env):
    table = rendered_stacks[env].one("aws:dynamodb/table:Table").inputs
    assert table["hashKey"] == "pk" and table["rangeKey"] == "sk"
    assert table["attributes"] == [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}]
    assert table["serverSideEncryption"] == {"enabled": True}
    assert table["deletionProtectionEnabled"] is False
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}


def test_table_billing(rendered_stacks, specified):
    table = rendered_stacks[specified].one("aws:dynamodb/table:Table").inputs
    assert table["billingMode"] == BILLING[specified]
    assert table["pointInTimeRecovery"] == {"enabled": PITR[specified]}


def test_production_table_autoscales_and_leaves_capacity_to_autoscaling(rendered_stacks):
    stack = rendered_stacks["production"]
    table = stack.one("aws:dynamodb/table:Table")
    assert (table.inputs["readCapacity"], table.inputs["writeCapacity"]) == (5, 5)
    assert set(table.ignore_changes) == {"readCapacity", "writeCapacity"}
    targets = {
        t.inputs["scalableDimension"]: t.inputs
        for t in stack.of_type("aws:appautoscaling/target:Target")
    }
    assert set(targets) == {"dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"}
    for target in targets.values():
        assert (target["minCapacity"], target["maxCapacity"]) == (5, 100)
        assert target["resourceId"] == "table/production-trading-analytics-us-east-1"
    policies = stack.of_type("aws:appautoscaling/policy:Policy")
    assert sorted(
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]
        for p in policies
    ) == ["DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"]
    assert {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["targetValue"] for p in policies
    } == {70}


def test_staging_is_capped_at_half_of_production(rendered_stacks):
    staging = rendered_stacks["staging"].one("aws:dynamodb/table:Table").inputs
    assert staging["onDemandThroughput"] == {"maxReadRequestUnits": 50, "maxWriteRequestUnits": 50}
    assert "onDemandThroughput" not in rendered_stacks["dev"].one("aws:dynamodb/table:Table").inputs
    assert not rendered_stacks["staging"].of_type("aws:appautoscaling/target:Target")


def bucket_parts(stack: RenderedStack, component: str) -> dict[str, RegisteredResource]:
    parent = stack.named("platform:index:SecureBucket", component).urn
    return {r.type.rsplit(":", 1)[-1]: r for r in stack.resources if r.parent == parent}


@pytest.mark.parametrize("component", ["ingest", "archive"])
def test_every_bucket_is_private_encrypted_tls_only_and_versioned_per_env(
    rendered_stacks, specified, component
):
    env = specified
    parts = bucket_parts(rendered_stacks[env], component)
    bucket = parts["Bucket"].inputs
    assert bucket["bucket"] == f"{ORG}-{env}-trading-{component}-us-east-1"
    block = parts["BucketPublicAccessBlock"].inputs
    assert all(
        block[key] is True
        for key in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    encryption = parts["BucketServerSideEncryptionConfiguration"].inputs["rules"][0]
    assert encryption["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")
    assert parts["BucketVersioning"].inputs["versioningConfiguration"]["status"] == VERSIONING[env]
    policy = json.loads(parts["BucketPolicy"].inputs["policy"])
    deny = policy["Statement"][0]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert f"arn:aws:s3:::{bucket['bucket']}/*" in deny["Resource"]
    assert (
        parts["BucketOwnershipControls"].inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    )


def test_force_destroy_everywhere_but_in_production(rendered_stacks, specified):
    """Production's buckets hold market data that may exist nowhere else: archived trades, and
    uploads not processed yet or whose events wait in the failure queue for a redrive."""
    env = specified
    buckets = {
        b.inputs["bucket"]: b.inputs.get("forceDestroy")
        for b in rendered_stacks[env].of_type("aws:s3/bucket:Bucket")
    }
    assert buckets == {
        f"{ORG}-{env}-trading-ingest-us-east-1": env != "production",
        f"{ORG}-{env}-trading-archive-us-east-1": env != "production",
    }


def test_archive_goes_to_glacier_after_90_days_only_in_production(rendered_stacks, specified):
    env = specified
    lifecycles = rendered_stacks[env].of_type(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    if env != "production":
        assert lifecycles == []
        return
    (lifecycle,) = lifecycles
    assert (
        lifecycle.parent == rendered_stacks[env].named("platform:index:SecureBucket", "archive").urn
    )
    versioning = next(
        r
        for r in rendered_stacks[env].of_type("aws:s3/bucketVersioning:BucketVersioning")
        if r.parent == lifecycle.parent
    )
    assert versioning.urn in lifecycle.dependencies
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]


def test_ingest_uploads_under_incoming_trigger_the_function(rendered_stacks, env):
    stack = rendered_stacks[env]
    notification = stack.one("aws:s3/bucketNotification:BucketNotification")
    permission = stack.one("aws:lambda/permission:Permission")
    fn = function(stack)
    assert notification.inputs["bucket"] == f"{ORG}-{env}-trading-ingest-us-east-1"
    (target,) = notification.inputs["lambdaFunctions"]
    assert target["filterPrefix"] == "incoming/"
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert target["lambdaFunctionArn"].endswith(f":function:{fn.inputs['name']}")
    assert permission.urn in notification.dependencies
    assert permission.inputs["principal"] == "s3.amazonaws.com"
    assert permission.inputs["sourceArn"] == f"arn:aws:s3:::{ORG}-{env}-trading-ingest-us-east-1"
    assert permission.inputs["sourceAccount"]


def test_async_failures_go_to_a_queue_after_bounded_retries(rendered_stacks, env):
    stack = rendered_stacks[env]
    config = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs
    queue = stack.one("aws:sqs/queue:Queue").inputs
    assert config["maximumRetryAttempts"] == 2
    assert 60 <= config["maximumEventAgeInSeconds"] <= 21600
    assert config["destinationConfig"]["onFailure"]["destination"].endswith(f":{queue['name']}")
    assert queue["sqsManagedSseEnabled"] is True


def test_vpc_cidr(rendered_stacks, specified):
    assert rendered_stacks[specified].one("aws:ec2/vpc:Vpc").inputs["cidrBlock"] == CIDR[specified]


def test_network_is_private_with_gateway_endpoints(rendered_stacks, env):
    stack = rendered_stacks[env]
    subnets = stack.of_type("aws:ec2/subnet:Subnet")
    assert len({s.inputs["availabilityZone"] for s in subnets}) >= 2
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    assert not stack.of_type("aws:ec2/internetGateway:InternetGateway")
    assert not stack.of_type("aws:ec2/natGateway:NatGateway")
    gateways = [
        e.inputs
        for e in stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Gateway"
    ]
    assert sorted(e["serviceName"] for e in gateways) == [
        "com.amazonaws.us-east-1.dynamodb",
        "com.amazonaws.us-east-1.s3",
    ]
    routes = stack.one("aws:ec2/routeTable:RouteTable")
    assert all(e["routeTableIds"] == [routes.state["id"]] for e in gateways)
    assert not routes.inputs.get("routes")
    group = stack.named("aws:ec2/securityGroup:SecurityGroup", "function-security-group").inputs
    assert not group.get("ingress")
    fn = function(stack).inputs["vpcConfig"]
    assert sorted(fn["subnetIds"]) == sorted(s.state["id"] for s in subnets)
    assert fn["securityGroupIds"] == [
        stack.named("aws:ec2/securityGroup:SecurityGroup", "function-security-group").state["id"]
    ]


def test_traced_environments_reach_xray_without_nat(rendered_stacks, specified):
    endpoints = [
        e.inputs["serviceName"]
        for e in rendered_stacks[specified].of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    ]
    assert ("com.amazonaws.us-east-1.xray" in endpoints) == (specified != "dev")


def test_alarms_per_environment(rendered_stacks, specified):
    env, stack = specified, rendered_stacks[specified]
    alarms = {
        stack.local_name(a): a.inputs
        for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert len(alarms) == ALARMS[env]
    if env == "dev":
        return
    assert {
        "errors",
        "throttles",
        "duration-p99",
        "table-read-throttles",
        "table-write-throttles",
    } <= set(alarms)
    topic = rendered_stacks[env].one("aws:sns/topic:Topic").state["arn"]
    assert all(alarm["alarmActions"] == [topic] for alarm in alarms.values())


def thresholds(stack: RenderedStack) -> dict[str, float]:
    return {
        stack.local_name(a): a.inputs["threshold"]
        for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }


def test_strict_thresholds_are_tighter_than_relaxed(rendered_stacks):
    staging = thresholds(rendered_stacks["staging"])
    production = thresholds(rendered_stacks["production"])
    assert set(staging) == set(production)
    assert all(production[name] <= staging[name] for name in staging)
    assert any(production[name] < staging[name] for name in staging)


def test_explicit_provider_with_default_tags_is_used_by_every_resource(rendered_stacks, env):
    stack = rendered_stacks[env]
    provider = stack.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    reference = f"{provider.urn}::{provider.state['id']}"
    custom = [r for r in stack.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    assert custom and all(r.provider == reference for r in custom)
    # Lookups too: with default providers disabled, an invoke without it would fail.
    assert stack.invokes and all(provider == reference for _, provider in stack.invokes)


def test_allowed_account_ids_reach_the_provider(stacks_dir):
    stack = render_stack(
        stacks_dir / "production", overrides={"platform:allowedAccountIds": ["333333333333"]}
    )
    assert stack.one("pulumi:providers:aws").inputs["allowedAccountIds"] == '["333333333333"]'


def test_nothing_is_protected_or_retained(rendered_stacks, env):
    for resource in rendered_stacks[env].resources:
        assert not resource.protect, resource.urn
        assert not resource.retain_on_delete, resource.urn


def test_exports(rendered_stacks, specified):
    env = specified
    outputs = rendered_stacks[env].outputs
    alarms = ("alarm_topic_arn",) if rendered_stacks[env].of_type("aws:sns/topic:Topic") else ()
    assert tuple(outputs) == EXPORT_NAMES + alarms
    assert outputs["environment"] == env
    assert outputs["region"] == "us-east-1"
    assert outputs["lambda_function_name"] == f"{env}-trading-processor-us-east-1"
    assert outputs["lambda_function_arn"].endswith(f":function:{env}-trading-processor-us-east-1")
    assert outputs["dynamodb_table_name"] == f"{env}-trading-analytics-us-east-1"
    assert outputs["s3_bucket_name"] == f"{ORG}-{env}-trading-archive-us-east-1"
    assert outputs["ingest_bucket_name"] == f"{ORG}-{env}-trading-ingest-us-east-1"
    assert outputs["log_group_name"] == f"/aws/lambda/{env}-trading-processor-us-east-1"
    assert outputs["vpc_id"] == rendered_stacks[env].one("aws:ec2/vpc:Vpc").state["id"]
    assert len(outputs["private_subnet_ids"]) == 2


@pytest.mark.parametrize("mode", ["nat-gateway", "nat-instance"])
def test_egress_dial_adds_a_public_tier_and_a_default_route(stacks_dir, mode):
    stack = render_stack(stacks_dir / "dev", overrides={"platform:egressMode": mode})
    subnets = stack.of_type("aws:ec2/subnet:Subnet")
    public = [s for s in subnets if stack.local_name(s).startswith("public-")]
    assert len(public) == 2 and len(subnets) == 4
    gateway = stack.one("aws:ec2/internetGateway:InternetGateway")
    public_routes = stack.named("aws:ec2/routeTable:RouteTable", "public-routes").inputs["routes"]
    assert public_routes == [{"cidrBlock": "0.0.0.0/0", "gatewayId": gateway.state["id"]}]
    route = stack.one("aws:ec2/route:Route").inputs
    private = stack.named("aws:ec2/routeTable:RouteTable", "private-routes")
    assert route["routeTableId"] == private.state["id"]
    assert route["destinationCidrBlock"] == "0.0.0.0/0"
    if mode == "nat-gateway":
        nat = stack.one("aws:ec2/natGateway:NatGateway")
        assert route["natGatewayId"] == nat.state["id"]
        first_public = stack.named("aws:ec2/subnet:Subnet", "public-subnet-0")
        assert nat.inputs["subnetId"] == first_public.state["id"]
    else:
        instance = stack.one("aws:ec2/instance:Instance")
        assert route["networkInterfaceId"] == instance.state["primaryNetworkInterfaceId"]
        assert instance.inputs["sourceDestCheck"] is False
        assert instance.inputs["instanceType"] == "t4g.nano"
        assert instance.inputs["metadataOptions"]["httpTokens"] == "required"
    # The function itself stays in the private subnets.
    assert sorted(function(stack).inputs["vpcConfig"]["subnetIds"]) == sorted(
        s.state["id"] for s in subnets if stack.local_name(s).startswith("private-")
    )
