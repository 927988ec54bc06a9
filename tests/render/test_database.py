"""The optional database, rendered: every environment's real program with `platform:database`
switched on (and, by default, off), under the mock engine.

What each environment must show is written out by hand: instances 1/1/2, backups 1/7/30 days,
the Graviton classes, deletion protection and a final snapshot in production only, CPU alarms at
90 % (staging) and 80 % (production) and none in dev.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Mapping
from typing import Any

import pytest

import local_platform.run as run_module
from local_platform.emulator import EmulatorError
from platform_core.consistency import compare, inventory, unexplained
from platform_core.database import not_emulated
from platform_core.offline import FAKE_ACCOUNT_ID, RegisteredResource, RenderedStack, render_stack
from tests.render.iam.model import Decision, Request, decide
from tests.repository import ENVIRONMENTS, STACKS_DIR

ON = {"platform:database": "aurora-postgresql"}
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DATABASE_TYPES = (
    "platform:index:Database", CLUSTER, INSTANCE, SUBNET_GROUP, RULE,
)  # fmt: skip

INSTANCES = {"dev": 1, "staging": 1, "production": 2}
RETENTION = {"dev": 1, "staging": 7, "production": 30}
CLASSES = {"dev": "db.t4g.medium", "staging": "db.r6g.large", "production": "db.r6g.xlarge"}
CPU_ALARM = {"dev": None, "staging": 90, "production": 80}
SPECIFIED = [env for env in ENVIRONMENTS if env in INSTANCES]


@pytest.fixture(scope="module")
def with_database(
    rendered_with_database: Mapping[str, RenderedStack],
) -> Mapping[str, RenderedStack]:
    return rendered_with_database


@pytest.fixture(params=ENVIRONMENTS)
def env(request) -> str:
    return str(request.param)


@pytest.fixture(params=SPECIFIED)
def specified(request) -> str:
    return str(request.param)


def cluster(stack: RenderedStack) -> RegisteredResource:
    return stack.one(CLUSTER)


def test_default_stacks_have_no_database(rendered_stacks, env):
    stack = rendered_stacks[env]
    assert not [r for r in stack.resources if r.type in DATABASE_TYPES]
    assert not [r for r in stack.of_type(SECURITY_GROUP) if "database" in r.name]
    assert not {"database_endpoint", "database_secret_arn"} & set(stack.outputs)


def test_database_none_is_the_default(rendered_stacks):
    environment = ENVIRONMENTS[0]
    explicit = render_stack(STACKS_DIR / environment, overrides={"platform:database": "none"})
    assert inventory(explicit, environment) == inventory(rendered_stacks[environment], environment)


ADDED = {
    "platform:index:Database trading-analytics/database",
    "aws:rds/subnetGroup:SubnetGroup trading-analytics/database/subnet-group",
    "aws:rds/cluster:Cluster trading-analytics/database/cluster",
    "aws:rds/clusterInstance:ClusterInstance trading-analytics/database/instance-1",
    "aws:ec2/securityGroup:SecurityGroup trading-analytics/network/database-security-group",
    "aws:ec2/securityGroupRule:SecurityGroupRule trading-analytics/network/database-from-function",
    "aws:ec2/vpcEndpoint:VpcEndpoint trading-analytics/network/secretsmanager-endpoint",
    "aws:ec2/securityGroup:SecurityGroup trading-analytics/network/secretsmanager-endpoint-security-group",
}
ADDED_IN = {
    "dev": ADDED,
    "staging": ADDED | {"aws:cloudwatch/metricAlarm:MetricAlarm trading-analytics/alarms/database-cpu"},
    "production": ADDED | {
        "aws:cloudwatch/metricAlarm:MetricAlarm trading-analytics/alarms/database-cpu",
        "aws:rds/clusterInstance:ClusterInstance trading-analytics/database/instance-2",
    },
}  # fmt: skip
CHANGED = {
    "aws:ec2/securityGroup:SecurityGroup trading-analytics/network/function-security-group",
    "aws:iam/rolePolicy:RolePolicy trading-analytics/processor-role/policy",
    "aws:lambda/function:Function trading-analytics/processor/function",
}


def test_what_the_database_adds_to_each_environment(rendered_stacks, with_database, specified):
    """README's list, checked: these resources are added, these changed, nothing else."""
    env = specified
    without, with_ = inventory(rendered_stacks[env], env), inventory(with_database[env], env)
    assert set(with_) - set(without) == ADDED_IN[env]
    assert set(without) - set(with_) == set()
    assert {path for path in without if without[path] != with_[path]} == CHANGED


def test_cluster_settings_per_environment(with_database, specified):
    env = specified
    inputs = cluster(with_database[env]).inputs
    protected = env == "production"
    assert inputs["clusterIdentifier"] == f"{env}-trading-database-us-east-1"
    assert inputs["engine"] == "aurora-postgresql"
    assert inputs["engineVersion"] == "17.6"
    assert inputs["backupRetentionPeriod"] == RETENTION[env]
    assert inputs["storageEncrypted"] is True
    assert inputs["deletionProtection"] is protected
    assert inputs["skipFinalSnapshot"] is (not protected)
    expected_snapshot = f"{env}-trading-database-us-east-1-final" if protected else None
    assert inputs.get("finalSnapshotIdentifier") == expected_snapshot
    assert inputs["port"] == 5432


def test_turning_the_protection_off_to_destroy_keeps_the_final_snapshot():
    """Destroying production: deploy with the protection off, then destroy; the deletion still
    takes the final snapshot, because that is a setting of its own."""
    stack = render_stack(
        STACKS_DIR / "production",
        overrides={**ON, "platform:databaseDeletionProtection": "false"},
    )
    inputs = cluster(stack).inputs
    assert inputs["deletionProtection"] is False
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"] == "production-trading-database-us-east-1-final"


def test_password_is_managed_by_rds_and_never_in_the_program(with_database, env):
    inputs = cluster(with_database[env]).inputs
    assert inputs["manageMasterUserPassword"] is True
    assert "masterPassword" not in inputs
    assert inputs["masterUsername"] == "trading_admin"


def test_instances_per_environment(with_database, specified):
    env = specified
    stack = with_database[env]
    instances = sorted(stack.of_type(INSTANCE), key=lambda r: r.name)
    assert [i.inputs["identifier"] for i in instances] == [
        f"{env}-trading-database-us-east-1-{n}" for n in range(1, INSTANCES[env] + 1)
    ]
    # One after the other, so a change never restarts them all at once.
    for first, second in itertools.pairwise(instances):
        assert first.urn in second.dependencies
    for instance in instances:
        assert instance.inputs["instanceClass"] == CLASSES[env]
        assert instance.inputs["publiclyAccessible"] is False
        assert instance.inputs["clusterIdentifier"] == cluster(stack).state["id"]
        assert instance.inputs["engine"] == "aurora-postgresql"


def test_database_lives_in_the_private_subnets_only(with_database, env):
    """Private subnets only, also when a NAT adds public ones."""
    stack = with_database[env]
    group = stack.one(SUBNET_GROUP).inputs
    private = {
        s.state["id"]
        for s in stack.of_type("aws:ec2/subnet:Subnet")
        if stack.local_name(s).startswith("private-")
    }
    assert set(group["subnetIds"]) == private and len(private) >= 2
    assert cluster(stack).inputs["dbSubnetGroupName"] == group["name"]
    if env != ENVIRONMENTS[0]:
        return
    egress = render_stack(STACKS_DIR / env, overrides={**ON, "platform:egressMode": "nat-gateway"})
    assert len(egress.of_type("aws:ec2/subnet:Subnet")) == 2 * len(private)
    assert set(egress.one(SUBNET_GROUP).inputs["subnetIds"]) == {
        s.state["id"]
        for s in egress.of_type("aws:ec2/subnet:Subnet")
        if egress.local_name(s).startswith("private-")
    }


def test_only_the_function_reaches_the_database_on_5432(with_database, env):
    stack = with_database[env]
    database = stack.named(SECURITY_GROUP, "database-security-group")
    function = stack.named(SECURITY_GROUP, "function-security-group")
    assert cluster(stack).inputs["vpcSecurityGroupIds"] == [database.state["id"]]
    # Its rules are all here: no inline rules, one ingress rule from the function's group.
    assert not database.inputs.get("ingress") and not database.inputs.get("egress")
    [rule] = stack.of_type(RULE)
    assert {key: rule.inputs[key] for key in (
        "type", "securityGroupId", "sourceSecurityGroupId", "protocol", "fromPort", "toPort"
    )} == {
        "type": "ingress", "securityGroupId": database.state["id"],
        "sourceSecurityGroupId": function.state["id"], "protocol": "tcp",
        "fromPort": 5432, "toPort": 5432,
    }  # fmt: skip
    assert "cidrBlocks" not in rule.inputs
    # The function may leave on 5432 towards that group only (and on 443 as before).
    ports = {(e["fromPort"], e["toPort"]): e for e in function.inputs["egress"]}
    assert set(ports) == {(443, 443), (5432, 5432)}
    assert ports[(5432, 5432)]["securityGroups"] == [database.state["id"]]
    assert not ports[(5432, 5432)].get("cidrBlocks")
    assert not function.inputs.get("ingress")


def test_function_reaches_secrets_manager_without_nat(with_database, env):
    """Without NAT (the default) the function reads its credentials through an interface
    endpoint in its subnets, which admits HTTPS from the function only; with NAT it needs none."""
    stack = with_database[env]
    [endpoint] = [
        e for e in stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["serviceName"] == "com.amazonaws.us-east-1.secretsmanager"
    ]  # fmt: skip
    function = stack.one("aws:lambda/function:Function").inputs["vpcConfig"]
    assert endpoint.inputs["vpcEndpointType"] == "Interface"
    assert endpoint.inputs["privateDnsEnabled"] is True
    assert sorted(endpoint.inputs["subnetIds"]) == sorted(function["subnetIds"])
    [group_id] = endpoint.inputs["securityGroupIds"]
    [group] = [g for g in stack.of_type(SECURITY_GROUP) if g.state["id"] == group_id]
    assert [(r["fromPort"], r["toPort"], r["securityGroups"]) for r in group.inputs["ingress"]] == [
        (443, 443, function["securityGroupIds"])
    ]
    if env != ENVIRONMENTS[0]:
        return
    nat = render_stack(STACKS_DIR / env, overrides={**ON, "platform:egressMode": "nat-instance"})
    services = [e.inputs["serviceName"] for e in nat.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")]
    assert "com.amazonaws.us-east-1.secretsmanager" not in services


def test_function_gets_the_endpoint_and_the_secret_arn(with_database, env):
    stack = with_database[env]
    variables = stack.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    state = cluster(stack).state
    assert variables["DATABASE_ENDPOINT"] == state["endpoint"]
    assert variables["DATABASE_SECRET_ARN"] == state["masterUserSecrets"][0]["secretArn"]
    assert set(variables) == {
        "TABLE_NAME", "ARCHIVE_BUCKET", "INGEST_BUCKET", "ENVIRONMENT", "DATABASE_ENDPOINT",
        "DATABASE_SECRET_ARN",
    }  # fmt: skip


def test_function_may_read_that_one_secret_and_nothing_more(with_database, rendered_stacks, env):
    stack = with_database[env]
    secret = cluster(stack).state["masterUserSecrets"][0]["secretArn"]
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    secret_statements = [s for s in policy["Statement"] if "secretsmanager" in json.dumps(s)]
    assert secret_statements == [
        {"Sid": "ReadDatabaseSecret", "Effect": "Allow",
         "Action": ["secretsmanager:GetSecretValue"], "Resource": [secret]},
    ]  # fmt: skip
    read = Request("secretsmanager:GetSecretValue", secret)
    assert decide(policy, read) is Decision.ALLOWED
    for other in (
        Request("secretsmanager:GetSecretValue", secret + "x"),
        Request("secretsmanager:PutSecretValue", secret),
    ):
        assert decide(policy, other) is Decision.IMPLICITLY_DENIED
    # The rest of the policy is the one without a database.
    without = json.loads(rendered_stacks[env].one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert [s for s in policy["Statement"] if s not in secret_statements] == without["Statement"]


def test_the_boundary_admits_the_functions_secret_read(with_database, env):
    from platform_core.iam import workload_boundary_policy
    from tests.repository import ORGANISATION

    stack = with_database[env]
    state = cluster(stack).state
    boundary = workload_boundary_policy(env, "us-east-1", FAKE_ACCOUNT_ID, ORGANISATION)
    tag = {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": state["arn"]}
    secret = state["masterUserSecrets"][0]["secretArn"]
    assert decide(boundary, Request("secretsmanager:GetSecretValue", secret, tag)) is (
        Decision.ALLOWED
    )


def test_cpu_alarms_per_environment(with_database, specified):
    env = specified
    stack = with_database[env]
    alarms = [a for a in stack.of_type(ALARM) if stack.local_name(a) == "database-cpu"]
    if CPU_ALARM[env] is None:
        assert alarms == []
        return
    [alarm] = alarms
    topic = stack.one("aws:sns/topic:Topic").state["arn"]
    assert alarm.inputs["namespace"] == "AWS/RDS"
    assert alarm.inputs["metricName"] == "CPUUtilization"
    assert alarm.inputs["dimensions"] == {"DBClusterIdentifier": cluster(stack).state["id"]}
    assert alarm.inputs["statistic"] == "Maximum"
    assert alarm.inputs["threshold"] == CPU_ALARM[env]
    assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm.inputs["alarmActions"] == [topic]


def test_exports_add_the_endpoint_and_the_secret(with_database, env):
    outputs: dict[str, Any] = dict(with_database[env].outputs)
    state = cluster(with_database[env]).state
    assert outputs["database_endpoint"] == state["endpoint"]
    assert outputs["database_secret_arn"] == state["masterUserSecrets"][0]["secretArn"]
    assert list(outputs)[-2:] == ["database_endpoint", "database_secret_arn"]


def test_nothing_of_the_database_is_protected_by_pulumi(with_database, env):
    for resource in with_database[env].resources:
        assert not resource.protect and not resource.retain_on_delete, resource.urn


def test_every_difference_with_the_database_everywhere_is_a_dial(with_database):
    differences = compare({env: inventory(s, env) for env, s in with_database.items()})
    assert unexplained(differences) == []
    attributed = {(d.path.split(" ", 1)[1], d.key): d.dial for d in differences}
    database = "trading-analytics/database"
    # Written out by hand: what each database dial must be found to cause.
    assert attributed[(f"{database}/cluster", "backupRetentionPeriod")] == (
        "platform:databaseBackupRetentionDays"
    )
    assert attributed[(f"{database}/cluster", "deletionProtection")] == (
        "platform:databaseDeletionProtection"
    )
    for key in ("skipFinalSnapshot", "finalSnapshotIdentifier"):
        assert attributed[(f"{database}/cluster", key)] == "platform:databaseFinalSnapshot"
    assert attributed[(f"{database}/instance-1", "instanceClass")] == (
        "platform:databaseInstanceClass"
    )
    assert attributed[(f"{database}/instance-2", "")] == "platform:databaseInstanceCount"
    assert attributed[("trading-analytics/alarms/database-cpu", "")] == "platform:alarmProfile"
    # The rest of the database is the same everywhere.
    assert not [key for key in attributed if key[0] == f"{database}/subnet-group"]
    assert (f"{database}/cluster", "engineVersion") not in attributed


def test_a_database_in_one_environment_only_is_attributed_to_the_database_dial(rendered_stacks):
    environment = ENVIRONMENTS[-1]
    rendered = {**rendered_stacks, environment: render_stack(STACKS_DIR / environment,
                                                             overrides=ON)}  # fmt: skip
    differences = compare({env: inventory(s, env) for env, s in rendered.items()})
    assert unexplained(differences) == []
    attributed = {(d.path.split(" ", 1)[1], d.key): d.dial for d in differences}
    assert attributed[("trading-analytics/database/cluster", "")] == "platform:database"
    assert attributed[("trading-analytics/database/instance-1", "")] == "platform:database"
    assert attributed[("trading-analytics/network/database-security-group", "")] == (
        "platform:database"
    )
    assert attributed[("trading-analytics/network/database-from-function", "")] == (
        "platform:database"
    )
    function = "trading-analytics/processor/function"
    assert attributed[(function, "environment.variables.DATABASE_ENDPOINT")] == "platform:database"
    policy = "trading-analytics/processor-role/policy"
    assert attributed[(policy, "policy.Statement[ReadDatabaseSecret].Action[0]")] == (
        "platform:database"
    )
    egress = [d for d in differences if d.path.endswith("/function-security-group")]
    assert egress and all(d.dial == "platform:database" for d in egress)


def test_the_demo_says_the_database_is_not_emulated(
    rendered_stacks, with_database, monkeypatch, tmp_path
):
    environment = ENVIRONMENTS[0]
    assert not_emulated(rendered_stacks[environment]) == []
    [note] = not_emulated(with_database[environment])
    assert "Aurora PostgreSQL database" in note and "not emulated locally" in note

    # `make demo` says so right after rendering a stack that has one, before anything runs.
    def stop(port: int, region: str) -> None:
        raise EmulatorError("stopped by the test")

    monkeypatch.setattr(run_module, "render_stack", lambda *_, **__: with_database[environment])
    monkeypatch.setattr(run_module, "running_emulator", stop)
    out = io.StringIO()
    with pytest.raises(EmulatorError):
        run_module.run(run_module.Options(environment, tmp_path / "sample.jsonl"), out)
    assert note in out.getvalue()
