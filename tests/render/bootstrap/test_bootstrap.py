"""The bootstrap program under the mock engine, per environment: state bucket, secrets
key and CI roles, named as the stacks and the pipelines expect, each confined to its own
environment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
import yaml
from trading_bootstrap import build_bootstrap_config
from trading_bootstrap.policies import (
    DeployScope,
    deploy_policy,
    deploy_resources_policy,
    preview_policy,
)
from trading_policies import POLICIES, evaluate

from platform_core import ConfigError
from platform_core.offline import RegisteredResource, RenderedStack
from tests.render.bootstrap.rendering import render_bootstrap
from tests.render.iam.reference import access_levels, has_resource_level_permissions
from tests.render.policy.views import resource_view, stack_view
from tests.repository import ENVIRONMENTS, ORGANISATION
from tests.repository import REPO_ROOT as ROOT

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "production": "333333333333"}


def named(rendered: RenderedStack, type_: str, name: str) -> RegisteredResource:
    return next(r for r in rendered.of_type(type_) if r.name == name)


def document(resource: RegisteredResource, key: str = "policy") -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(resource.inputs[key])
    return parsed


def statements(policy: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_state_bucket_is_the_stacks_backend_and_is_private_versioned_encrypted_tls_only(
    rendered_bootstraps: Mapping[str, RenderedStack], environment: str
) -> None:
    rendered = rendered_bootstraps[environment]
    stack_project = yaml.safe_load((ROOT / "stacks" / environment / "Pulumi.yaml").read_text())
    assert rendered.outputs["backend_url"] == stack_project["backend"]["url"]
    bucket = rendered.one("aws:s3/bucket:Bucket")
    assert f"s3://{bucket.inputs['bucket']}?" in stack_project["backend"]["url"]
    assert bucket.inputs["forceDestroy"] is False  # state is never destroyed with the stack
    versioning = rendered.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    block = rendered.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block[flag] is True for flag in flags)
    sse = rendered.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    [deny] = document(rendered.one("aws:s3/bucketPolicy:BucketPolicy"))["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_secrets_key_rotates_and_is_the_stacks_secrets_provider(
    rendered_bootstraps: Mapping[str, RenderedStack], environment: str
) -> None:
    rendered = rendered_bootstraps[environment]
    key = rendered.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    alias = rendered.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == f"alias/trading-analytics-pulumi-{environment}"
    assert rendered.outputs["secrets_provider"] == (
        f"awskms://alias/trading-analytics-pulumi-{environment}?region=us-east-1"
    )
    principals = {s["Principal"]["AWS"] for s in document(key)["Statement"]}
    assert principals == {f"arn:aws:iam::{ACCOUNTS[environment]}:root"}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_role_trusts_only_its_own_github_environment_of_this_repository(
    rendered_bootstraps: Mapping[str, RenderedStack], environment: str
) -> None:
    rendered = rendered_bootstraps[environment]
    subjects = {}
    for role in rendered.of_type(ROLE):
        [trust] = document(role, "assumeRolePolicy")["Statement"]
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert trust["Principal"] == {
            "Federated": f"arn:aws:iam::{ACCOUNTS[environment]}:oidc-provider/"
            "token.actions.githubusercontent.com"
        }
        condition = trust["Condition"]["StringEquals"]  # exact match: no wildcard subject
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        subjects[role.inputs["name"]] = condition["token.actions.githubusercontent.com:sub"]
        oidc_provider = rendered.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        assert oidc_provider.urn in role.dependencies  # IAM needs the principal to exist
    repo = "repo:example-org/trading-analytics:environment"
    assert subjects == {
        f"{environment}-pulumi-deploy": f"{repo}:{environment}",
        f"{environment}-pulumi-preview": f"{repo}:{environment}-preview",
    }
    oidc = rendered.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_role_policies_name_only_their_own_environment(
    rendered_bootstraps: Mapping[str, RenderedStack], environment: str
) -> None:
    rendered = rendered_bootstraps[environment]
    account = ACCOUNTS[environment]
    others = [env for env in ENVIRONMENTS if env != environment]
    # Beside its own: AWS's public images and parameters, the account's autoscaling role, the
    # hosted zones of interface endpoints' private DNS, and the resources that have no name in
    # their ARN, scoped to this account and region.
    shared = (":image/", ":parameter/aws/service/", ":role/aws-service-role/", ":hostedzone/")
    unnamed = (
        f"arn:aws:ec2:us-east-1:{account}:*",
        f"arn:aws:application-autoscaling:us-east-1:{account}:scalable-target/*",
    )
    for policy in rendered.of_type(ROLE_POLICY):
        text = policy.inputs["policy"]
        assert all(f"{other}-" not in text and f"-{other}" not in text for other in others)
        for statement in document(policy)["Statement"]:
            if statement["Effect"] == "Deny":
                continue
            for resource in as_list(statement["Resource"]):
                assert resource in ("*", rendered.outputs["kms_key_arn"], *unnamed) or any(
                    part in resource for part in (environment, *shared)
                ), resource


def _scope(environment: str) -> DeployScope:
    config = build_bootstrap_config(environment, {
        "accountId": ACCOUNTS[environment], "githubOrganization": "o", "githubRepository": "r",
        "team": "t", "costCenter": "c", "aws:region": "us-east-1",
    }, ORGANISATION, ENVIRONMENTS)  # fmt: skip
    return DeployScope(config, f"arn:aws:s3:::{config.state_bucket}", "arn:aws:kms:k")


def test_preview_role_can_only_read_lock_and_decrypt() -> None:
    policy = statements(preview_policy(_scope("production")))
    actions = {action for s in policy.values() for action in as_list(s["Action"])}
    # Every action at AWS's Read or List access level, but the lock's and the key's.
    beyond_reading = {a for a in actions if access_levels(a) - {"Read", "List"}}
    assert beyond_reading == {
        "s3:PutObject", "s3:DeleteObject", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"
    }  # fmt: skip
    assert policy["WriteState"]["Resource"].endswith(
        f"{ORGANISATION.prefix}-pulumi-state-production/.pulumi/locks/*"
    )
    assert as_list(policy["StackSecrets"]["Resource"]) == ["arn:aws:kms:k"]


def test_deploy_role_wildcards_and_star_resources_are_the_justified_ones() -> None:
    deploy_scope = _scope("staging")
    inline = deploy_policy(deploy_scope)["Statement"]
    resources = deploy_resources_policy(deploy_scope.config)["Statement"]
    policy = statements({"Statement": [*inline, *resources]})
    allows = {sid: s for sid, s in policy.items() if s["Effect"] == "Allow"}
    service_wide = {sid for sid, s in allows.items() if any("*" in a for a in as_list(s["Action"]))}
    assert service_wide == {
        "EnvironmentBuckets", "EnvironmentTable", "EnvironmentFunction", "EnvironmentLogGroup",
        "EnvironmentQueues", "EnvironmentTopics",
    }  # fmt: skip
    for sid in service_wide:
        assert all("staging-trading-" in r for r in as_list(policy[sid]["Resource"])), sid
    star = {sid for sid, s in allows.items() if "*" in as_list(s["Resource"])}
    assert star == {"ListAvailabilityZones", "DescribeForRefresh"}
    for sid in star:  # "*" alone, for actions that AWS lets name no resource
        assert as_list(policy[sid]["Resource"]) == ["*"]
        scopable = [a for a in as_list(policy[sid]["Action"]) if has_resource_level_permissions(a)]
        assert scopable == [], sid
    describe = as_list(policy["DescribeForRefresh"]["Action"])
    assert all(a.split(":")[1].startswith(("Describe", "List")) for a in describe)
    tagged = {sid for sid, s in policy.items() if "aws:RequestTag/Environment" in json.dumps(s)}
    assert tagged == {"CreateTaggedNetwork"}
    assert policy["ManageOwnNetwork"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/Environment": "staging"}
    }


def test_no_role_reads_every_parameter_or_secret() -> None:
    for policy in (preview_policy(_scope("dev")), deploy_policy(_scope("dev"))):
        for statement in policy["Statement"]:
            actions = as_list(statement["Action"])
            if any(a.startswith(("ssm:", "secretsmanager:")) for a in actions):
                assert statement["Resource"] == (
                    "arn:aws:ssm:us-east-1::parameter"
                    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
                )


def test_policy_pack_on_the_bootstrap_reports_only_its_deliberate_exceptions(
    rendered_bootstraps: Mapping[str, RenderedStack],
) -> None:
    """The pack is written for the workload stacks; on the bootstrap it finds exactly the
    deploy role's scoped service-wide actions (its resources policy's and its database
    policy's) and the state bucket that destroy never empties."""
    for environment, rendered in rendered_bootstraps.items():
        found = {
            (v.policy, v.urn.rsplit("::", 1)[1])
            for v in evaluate(POLICIES, resource_view(rendered), stack_view(rendered))
        }
        expected = {
            ("iam-no-wildcard-actions", "deploy-resources-policy"),
            ("iam-no-wildcard-actions", "deploy-database-policy"),
        }
        if environment != "production":
            expected.add(("destroyable-non-production", "state-bucket"))
        assert found == expected, environment


def test_an_existing_oidc_provider_is_referenced_not_created() -> None:
    rendered = render_bootstrap("staging", {"bootstrap:createOidcProvider": "false"})
    assert rendered.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    [trust] = document(named(rendered, ROLE, "deploy-role"), "assumeRolePolicy")["Statement"]
    assert trust["Principal"]["Federated"].endswith(
        ":oidc-provider/token.actions.githubusercontent.com"
    )


def test_bad_config_names_key_value_and_rule() -> None:
    raw = {"accountId": "12345", "githubOrganization": "o", "githubRepository": "bad repo",
           "team": "t", "costCenter": "c", "aws:region": "us-east-1"}  # fmt: skip
    with pytest.raises(ConfigError) as error:
        build_bootstrap_config("qa", raw, ORGANISATION, ENVIRONMENTS)
    message = str(error.value)
    assert (
        "stack 'qa' is not an environment: allowed are dev, staging, production (the directories of stacks/)"
        in message
    )
    assert "bootstrap:accountId = '12345': must be a 12-digit AWS account id" in message
    assert "bootstrap:githubRepository = 'bad repo': must be a GitHub repository name" in message


def test_provider_is_pinned_to_the_environment_account_and_tags_everything(
    rendered_bootstraps: Mapping[str, RenderedStack],
) -> None:
    provider = rendered_bootstraps["production"].one("pulumi:providers:aws").inputs
    assert json.loads(provider["allowedAccountIds"]) == [ACCOUNTS["production"]]
    tags = json.loads(provider["defaultTags"])["tags"]
    assert tags["Environment"] == "production"
    assert tags["ManagedBy"] == "Pulumi"
