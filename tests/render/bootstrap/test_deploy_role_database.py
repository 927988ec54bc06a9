"""The deploy role and the optional database: each environment's deploy role can create, read,
change and delete its own database (and every copy's), the default groups and the secret RDS
creates with the caller's permissions — and nothing of another environment's database.

The requests are those of the Service Authorization Reference for each call the AWS provider
makes, on the ARNs of the real stacks rendered with the database on; IAM's answer comes from
`tests.render.iam.model`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from trading_bootstrap.policies import deploy_database_policy, deploy_policy, preview_policy

from platform_core.offline import RenderedStack, render_stack
from platform_core.organisation import Organisation
from tests.render.bootstrap.test_deploy_role import ACCOUNT, scope
from tests.render.iam.model import Decision, Request, as_list, decide
from tests.render.iam.reference import access_levels
from tests.repository import ENVIRONMENTS, STACKS_DIR

ALLOWED, IMPLICIT = Decision.ALLOWED, Decision.IMPLICITLY_DENIED
ON = {"platform:database": "aurora-postgresql"}
COPY = "dev-pr-7"
# What RDS names a master user secret: `rds!cluster-<cluster resource id>-<6 random characters>`.
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-5c1e4f0a-9d2b-Qx7Lm2"
VIA_RDS = {"aws:ViaAWSService": "true"}


@pytest.fixture(scope="module")
def stacks(rendered_with_database) -> Mapping[str, RenderedStack]:
    """Every environment with its database on, and a suffixed copy of dev with protection and
    a final snapshot (so every kind of request appears)."""
    rendered = dict(rendered_with_database)
    rendered[COPY] = render_stack(STACKS_DIR / "dev", overrides={
        **ON, "platform:environmentSuffix": "pr-7", "platform:databaseFinalSnapshot": "true",
        "platform:databaseDeletionProtection": "true",
    })  # fmt: skip
    return rendered


def rds(resource: str) -> str:
    return f"arn:aws:rds:us-east-1:{ACCOUNT}:{resource}"


def own_requests(stack: RenderedStack) -> Iterator[Request]:
    """The requests on the database's own resources: create, tag, read, change, delete."""
    cluster = stack.one("aws:rds/cluster:Cluster")
    subnets = rds(f"subgrp:{stack.one('aws:rds/subnetGroup:SubnetGroup').inputs['name']}")
    yield from (Request(a, subnets) for a in (
        "rds:CreateDBSubnetGroup", "rds:AddTagsToResource", "rds:DescribeDBSubnetGroups",
        "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup", "rds:ListTagsForResource",
    ))  # fmt: skip
    arn = str(cluster.state["arn"])
    yield from (Request(a, arn) for a in (
        "rds:CreateDBCluster", "rds:AddTagsToResource", "rds:DescribeDBClusters",
        "rds:ListTagsForResource", "rds:ModifyDBCluster", "rds:DeleteDBCluster",
    ))  # fmt: skip
    yield Request("rds:CreateDBCluster", subnets)
    snapshot = cluster.inputs.get("finalSnapshotIdentifier")
    if snapshot:
        yield from (Request(a, rds(f"cluster-snapshot:{snapshot}")) for a in (
            "rds:DeleteDBCluster", "rds:CreateDBClusterSnapshot", "rds:AddTagsToResource",
        ))  # fmt: skip
        yield Request("rds:CreateDBClusterSnapshot", arn)
    for instance in stack.of_type("aws:rds/clusterInstance:ClusterInstance"):
        db = rds(f"db:{instance.inputs['identifier']}")
        yield from (Request(a, db) for a in (
            "rds:CreateDBInstance", "rds:AddTagsToResource", "rds:DescribeDBInstances",
            "rds:ModifyDBInstance", "rds:RebootDBInstance", "rds:DeleteDBInstance",
        ))  # fmt: skip
        yield Request("rds:CreateDBInstance", arn)
        yield Request("rds:CreateDBInstance", subnets)


def shared_requests(stack: RenderedStack) -> Iterator[Request]:
    """What creating any database also names: the default groups of its engine version, the
    secret RDS creates, RDS's service-linked role, the global clusters a refresh looks up."""
    cluster = stack.one("aws:rds/cluster:Cluster").inputs
    major = str(cluster["engineVersion"]).split(".")[0]
    family = f"default.{cluster['engine']}{major}"
    yield Request("rds:CreateDBCluster", rds(f"cluster-pg:{family}"))
    yield Request("rds:CreateDBCluster", rds(f"og:default:{cluster['engine']}-{major}"))
    yield Request("rds:CreateDBInstance", rds(f"pg:{family}"))
    yield Request("rds:CreateDBInstance", rds(f"og:default:{cluster['engine']}-{major}"))
    yield Request("secretsmanager:CreateSecret", SECRET, VIA_RDS)
    yield Request("secretsmanager:TagResource", SECRET, VIA_RDS)
    yield Request("rds:DescribeGlobalClusters", f"arn:aws:rds::{ACCOUNT}:global-cluster:*")
    yield Request(
        "iam:CreateServiceLinkedRole",
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS",
        {"iam:AWSServiceName": "rds.amazonaws.com"},
    )


def database_policy(environment: str) -> dict[str, Any]:
    return deploy_database_policy(scope(environment).config)


@pytest.mark.parametrize("target", [*ENVIRONMENTS, COPY])
def test_each_deploy_role_manages_its_own_database_and_no_other(stacks, target):
    requests = list(own_requests(stacks[target]))
    assert len(requests) >= 20
    for deployer in ENVIRONMENTS:
        decisions = {decide(database_policy(deployer), r) for r in requests}
        assert decisions == ({ALLOWED} if target.startswith(deployer) else {IMPLICIT}), deployer
        # The preview role reads its own environment's database back (the drift check's
        # refresh), copies' and others' not, and changes nothing.
        preview = preview_policy(scope(deployer))
        reads = [r for r in requests if access_levels(r.action) <= {"Read", "List"}]
        assert {decide(preview, r) for r in requests if r not in reads} == {IMPLICIT}
        own = target == deployer
        assert {decide(preview, r) for r in reads} == {ALLOWED if own else IMPLICIT}, deployer


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_deploy_role_may_name_the_defaults_and_have_rds_create_the_secret(stacks, environment):
    policy = database_policy(environment)
    for request in shared_requests(stacks[environment]):
        assert decide(policy, request) is ALLOWED, request


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        # Only RDS, on the deploy role's behalf, creates secrets; the role itself creates none.
        ("secretsmanager:CreateSecret", SECRET, {}),
        ("secretsmanager:CreateSecret", SECRET, {"aws:ViaAWSService": "false"}),
        ("secretsmanager:CreateSecret", SECRET.replace("rds!cluster", "app"), VIA_RDS),
        # RDS rotates and deletes its secrets itself; nobody here reads them.
        ("secretsmanager:GetSecretValue", SECRET, VIA_RDS),
        ("secretsmanager:DeleteSecret", SECRET, {}),
        ("secretsmanager:PutSecretValue", SECRET, {}),
        # Snapshots: the final one is created on delete; none is ever deleted or copied out.
        ("rds:DeleteDBClusterSnapshot",
         rds("cluster-snapshot:dev-trading-database-us-east-1-final"), {}),
        ("rds:CreateDBClusterSnapshot", rds("cluster-snapshot:dev-trading-database-manual"), {}),
        ("rds:ModifyDBClusterSnapshotAttribute",
         rds("cluster-snapshot:dev-trading-database-us-east-1-final"), {}),
        # The default groups are named, never changed.
        ("rds:ModifyDBClusterParameterGroup", rds("cluster-pg:default.aurora-postgresql17"), {}),
        ("rds:DeleteDBParameterGroup", rds("pg:default.aurora-postgresql17"), {}),
        # Other service-linked roles, and other regions.
        ("iam:CreateServiceLinkedRole",
         f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS",
         {"iam:AWSServiceName": "ec2.amazonaws.com"}),
        ("rds:CreateDBCluster",
         f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:dev-trading-database-us-east-1", {}),
    ],
)  # fmt: skip
def test_the_database_policy_grants_nothing_more(action, resource, context):
    assert decide(database_policy("dev"), Request(action, resource, context)) is IMPLICIT


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deploy_role_carries_its_database_policy_and_cannot_change_it(
    rendered_bootstraps, environment
):
    rendered = rendered_bootstraps[environment]
    [policy] = [
        p for p in rendered.of_type("aws:iam/policy:Policy") if p.name == "deploy-database-policy"
    ]
    assert policy.inputs["name"] == f"{environment}-pulumi-deploy-database"
    account = json.loads(rendered.one("pulumi:providers:aws").inputs["allowedAccountIds"])[0]
    expected = json.dumps(database_policy(environment)).replace(ACCOUNT, account)
    assert json.loads(policy.inputs["policy"]) == json.loads(expected)
    [attachment] = [
        a for a in rendered.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name == "deploy-database-attachment"
    ]  # fmt: skip
    assert attachment.inputs["role"] == f"{environment}-pulumi-deploy"
    assert attachment.inputs["policyArn"] == policy.state["arn"]
    deploy = deploy_policy(scope(environment))
    own = f"arn:aws:iam::{ACCOUNT}:policy/{environment}-pulumi-deploy-database"
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
        assert decide(deploy, Request(action, own)) is not ALLOWED
        assert decide(database_policy(environment), Request(action, own)) is IMPLICIT


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_database_policy_fits_a_managed_policy_even_with_the_longest_names(environment):
    longest = Organisation("x" * 24)
    wide = scope(environment, region="ap-southeast-5", organisation=longest)
    size = len(json.dumps(deploy_database_policy(wide.config), separators=(",", ":")))
    assert size <= 6_144


def test_the_database_policy_names_its_resources_and_no_star() -> None:
    policy = {s["Sid"]: s for s in database_policy("staging")["Statement"]}
    service_wide = {sid for sid, s in policy.items() if "*" in json.dumps(s["Action"])}
    assert service_wide == {"EnvironmentDatabase"}
    assert all(
        ":staging-trading-database-us-east-1" in r
        for r in policy["EnvironmentDatabase"]["Resource"]
    )
    assert not [sid for sid, s in policy.items() if "*" in as_list(s["Resource"])]


def test_deploy_role_may_give_an_interface_endpoint_its_private_dns(stacks) -> None:
    """Creating the Secrets Manager endpoint (and X-Ray's) associates the VPC with the hosted
    zone of the endpoint's private DNS name: a dependent action of ec2:CreateVpcEndpoint."""
    services = {
        e.inputs["serviceName"]: e.inputs["privateDnsEnabled"]
        for e in stacks["dev"].of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Interface"
    }
    assert services == {"com.amazonaws.us-east-1.secretsmanager": True}
    zone = Request("route53:AssociateVPCWithHostedZone", "arn:aws:route53:::hostedzone/Z0A1B2C3")
    assert decide(deploy_policy(scope("dev")), zone) is ALLOWED
    assert decide(preview_policy(scope("dev")), zone) is IMPLICIT


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_database_policy_names_only_its_own_environment(environment) -> None:
    """Beside its own database: the engine's default groups, the global clusters a refresh
    reads, the secrets RDS names `rds!cluster-…`, and RDS's service-linked role."""
    text = json.dumps(database_policy(environment))
    others = [env for env in ENVIRONMENTS if env != environment]
    assert all(f"{other}-" not in text for other in others)
    shared = (
        ":cluster-pg:default.", ":pg:default.", ":og:default:", ":global-cluster:*",
        ":secret:rds!cluster-*", ":role/aws-service-role/rds.amazonaws.com/",
    )  # fmt: skip
    for statement in database_policy(environment)["Statement"]:
        for resource in as_list(statement["Resource"]):
            assert f":{environment}-trading-database-" in resource or any(
                part in resource for part in shared
            ), resource
