"""Each policy fed a violating resource (mostly a real resource of a rendered stack with one
property broken): it reports a message naming the resource, the fault and the requirement."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs
from trading_policies import Violation, evaluate, policy_named
from trading_policies.resource_rules import wildcard_grants

from platform_core.offline import RenderedStack
from tests.render.policy.views import (
    DEV_TAGS,
    resource_args,
    resource_view,
    stack_of,
    stack_resource,
    stack_view,
)
from tests.repository import ORGANISATION

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUCKET = "aws:s3/bucket:Bucket"
TABLE = "aws:dynamodb/table:Table"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"

ORG = ORGANISATION.prefix


def check(policy: str, args: ResourceValidationArgs) -> list[str]:
    return [violation.message for violation in evaluate([policy_named(policy)], [args])]


def real(rendered: RenderedStack, type_: str, name: str | None = None) -> ResourceValidationArgs:
    """The real resource's args from the rendered stack (first of its type, or by name)."""
    return next(
        args
        for args in resource_view(rendered)
        if args.resource_type == type_ and name in (None, args.name)
    )


def with_props(args: ResourceValidationArgs, **changes: Any) -> ResourceValidationArgs:
    props = {key: value for key, value in args.props.items() if key not in changes}
    props.update({key: value for key, value in changes.items() if value is not None})
    return ResourceValidationArgs(
        args.resource_type, props, args.urn, args.name, args.opts, args.provider
    )


@pytest.fixture(scope="module")
def dev(rendered_stacks: Mapping[str, RenderedStack]) -> RenderedStack:
    return rendered_stacks["dev"]


# --- lambda-arm64 ---------------------------------------------------------------------------


@pytest.mark.parametrize("architectures", [["x86_64"], None])
def test_arm64_policy_rejects_other_architectures(
    dev: RenderedStack, architectures: list[str] | None
) -> None:
    function = with_props(real(dev, FUNCTION), architectures=architectures)
    [message] = check("lambda-arm64", function)
    assert "'trading-analytics-processor-function' (dev-trading-processor-us-east-1)" in message
    assert "['x86_64']" in message
    assert "required: architectures ['arm64']" in message


# --- log-group-retention --------------------------------------------------------------------


@pytest.mark.parametrize("retention", [None, 0])
def test_retention_policy_rejects_log_groups_that_never_expire(
    dev: RenderedStack, retention: int | None
) -> None:
    group = with_props(real(dev, LOG_GROUP), retentionInDays=retention)
    if retention == 0:
        group = with_props(group, retentionInDays=0)
    [message] = check("log-group-retention", group)
    assert "/aws/lambda/dev-trading-processor-us-east-1" in message
    assert "retentionInDays unset (never expire)" in message
    assert "required: a retention in days" in message


# --- lambda-log-group-exists ----------------------------------------------------------------


def test_log_group_policy_rejects_a_function_without_its_log_group(dev: RenderedStack) -> None:
    stack = stack_view(dev)
    stack.resources = [r for r in stack.resources if r.resource_type != LOG_GROUP]
    [violation] = evaluate([policy_named("lambda-log-group-exists")], [], stack)
    function = next(r for r in stack.resources if r.resource_type == FUNCTION)
    assert violation.urn == function.urn
    assert "dev-trading-processor-us-east-1" in violation.message
    assert "'/aws/lambda/dev-trading-processor-us-east-1', which this stack does not manage" in (
        violation.message
    )


def test_log_group_policy_rejects_a_function_created_independently_of_it() -> None:
    name = "dev-trading-processor-us-east-1"
    group = stack_resource(LOG_GROUP, "log-group", {"name": f"/aws/lambda/{name}"})
    function = stack_resource(FUNCTION, "function", {"name": name})
    [violation] = evaluate([policy_named("lambda-log-group-exists")], [], stack_of(group, function))
    assert "does not depend on its log group" in violation.message
    linked = stack_resource(FUNCTION, "function", {"name": name}, dependencies=[group])
    assert evaluate([policy_named("lambda-log-group-exists")], [], stack_of(group, linked)) == []


# --- s3-encrypted-and-private ---------------------------------------------------------------


def _bucket_violations(dev: RenderedStack, keep: Any) -> list[Violation]:
    stack = stack_view(dev)
    stack.resources = [r for r in stack.resources if keep(r)]
    return evaluate([policy_named("s3-encrypted-and-private")], [], stack)


def test_bucket_policy_rejects_a_bucket_without_default_encryption(dev: RenderedStack) -> None:
    [violation] = _bucket_violations(
        dev,
        lambda r: not (r.resource_type == SSE and r.name == "trading-analytics-ingest-encryption"),
    )
    assert (
        f"'trading-analytics-ingest-bucket' ({ORG}-dev-trading-ingest-us-east-1) has no "
        "default encryption" in (violation.message)
    )
    assert "required: a BucketServerSideEncryptionConfiguration" in violation.message


def test_bucket_policy_rejects_a_bucket_without_public_access_block(dev: RenderedStack) -> None:
    [violation] = _bucket_violations(
        dev,
        lambda r: not (
            r.resource_type == PUBLIC_ACCESS and r.name.startswith("trading-analytics-archive")
        ),
    )
    assert (
        f"({ORG}-dev-trading-archive-us-east-1) has no BucketPublicAccessBlock" in violation.message
    )
    assert "blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets" in (
        violation.message
    )


def test_bucket_policy_rejects_each_public_access_flag_left_off() -> None:
    bucket = stack_resource(BUCKET, "b", {"bucket": "dev-b"})
    sse = stack_resource(
        SSE, "b-sse", {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        dependencies=[bucket],
    )  # fmt: skip
    flags = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True}
    block = stack_resource(
        PUBLIC_ACCESS, "b-pab", {**flags, "restrictPublicBuckets": False}, dependencies=[bucket]
    )
    [violation] = evaluate(
        [policy_named("s3-encrypted-and-private")], [], stack_of(bucket, sse, block)
    )
    assert "'b' (dev-b) has a BucketPublicAccessBlock with restrictPublicBuckets not true" in (
        violation.message
    )
    assert violation.urn == bucket.urn


# --- iam-no-wildcard-actions ----------------------------------------------------------------


@pytest.mark.parametrize("action", ["*", "s3:*", "s3:Get*", "dynamodb:*Item"])
def test_wildcard_policy_rejects_wildcard_actions_in_the_real_role_policy(
    dev: RenderedStack, action: str
) -> None:
    policy = real(dev, ROLE_POLICY)
    document = json.loads(policy.props["policy"])
    document["Statement"].append({"Sid": "TooBroad", "Effect": "Allow", "Action": [action],
                                  "Resource": "*"})  # fmt: skip
    [message] = check("iam-no-wildcard-actions", with_props(policy, policy=json.dumps(document)))
    expected = f"statement 'TooBroad' allows the wildcard action '{action}'"
    assert (
        f"'trading-analytics-processor-role-policy' (processor-access): policy {expected}"
        in message
    )
    assert "required: Allow statements list exact actions" in message


def test_wildcard_policy_rejects_not_action_and_inline_role_policies() -> None:
    document = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}
    role = resource_args(
        "aws:iam/role:Role", {"name": "dev-r", "inlinePolicies": [{"policy": json.dumps(document)}]}
    )
    [message] = check("iam-no-wildcard-actions", role)
    assert (
        "inlinePolicies[0].policy statement '#0' allows the wildcard action 'NotAction" in message
    )


def test_wildcard_policy_allows_wildcards_that_only_deny(dev: RenderedStack) -> None:
    bucket_policy = real(dev, "aws:s3/bucketPolicy:BucketPolicy")
    assert '"s3:*"' in bucket_policy.props["policy"]  # the TLS-only deny
    assert check("iam-no-wildcard-actions", bucket_policy) == []
    assert wildcard_grants({"Statement": {"Effect": "Deny", "Action": "*"}}) == []


# --- mandatory-tags -------------------------------------------------------------------------


def test_tag_policy_rejects_a_resource_missing_a_mandatory_tag(dev: RenderedStack) -> None:
    table = real(dev, TABLE)
    tags = {key: value for key, value in DEV_TAGS.items() if key != "CostCenter"}
    untagged = resource_args(TABLE, table.props, name=table.name, tags=tags)
    [message] = check("mandatory-tags", untagged)
    assert (
        "'trading-analytics-analytics-table' (dev-trading-analytics-us-east-1) lacks the mandatory tag(s) CostCenter"
        in (message)
    )
    assert "required: Environment, ManagedBy, Project, Team, CostCenter" in message


def test_tag_policy_merges_resource_tags_and_tags_all_over_provider_default_tags() -> None:
    partial = {key: value for key, value in DEV_TAGS.items() if key != "Team"}
    own_tag = resource_args(TABLE, {"name": "t", "tags": {"Team": "x"}}, tags=partial)
    assert check("mandatory-tags", own_tag) == []
    # A real preview: the AWS provider has merged default tags into `tagsAll` already.
    previewed = resource_args(TABLE, {"name": "t", "tagsAll": DEV_TAGS}, tags={})
    assert check("mandatory-tags", previewed) == []
    assert check("mandatory-tags", resource_args(TABLE, {"name": "t"}, tags={}))


def test_tag_policy_rejects_a_foreign_managed_by_and_skips_untaggable_types() -> None:
    table = resource_args(TABLE, {"name": "t"}, tags={**DEV_TAGS, "ManagedBy": "console"})
    [message] = check("mandatory-tags", table)
    assert "ManagedBy='console'; required: ManagedBy='Pulumi'" in message
    assert check("mandatory-tags", resource_args(ROLE_POLICY, {"name": "p"}, tags={})) == []


# --- destroyable-non-production -------------------------------------------------------------


def test_destroyable_policy_rejects_protect_and_retain_on_delete_outside_production(
    dev: RenderedStack,
) -> None:
    table = real(dev, TABLE)
    protected = resource_args(TABLE, table.props, name="table", protect=True, retain_on_delete=True)
    messages = check("destroyable-non-production", protected)
    subject = "aws:dynamodb/table:Table 'table' (dev-trading-analytics-us-east-1)"
    assert messages == [
        f"{subject} in environment 'dev' is protected; required: protect=False",
        f"{subject} in environment 'dev' is retain_on_delete; required: it is deleted",
    ]


def test_destroyable_policy_rejects_deletion_protection_and_undeletable_buckets() -> None:
    staging = {**DEV_TAGS, "Environment": "staging"}
    table = resource_args(TABLE, {"name": "t", "deletionProtectionEnabled": True}, tags=staging)
    [message] = check("destroyable-non-production", table)
    assert "in environment 'staging' sets deletionProtectionEnabled" in message
    bucket = resource_args(BUCKET, {"bucket": "staging-b", "forceDestroy": False}, tags=staging)
    [message] = check("destroyable-non-production", bucket)
    assert "'thing' (staging-b) in environment 'staging' does not set forceDestroy" in message


def test_destroyable_policy_leaves_production_alone(
    rendered_stacks: Mapping[str, RenderedStack],
) -> None:
    archive = real(rendered_stacks["production"], BUCKET, "trading-analytics-archive-bucket")
    assert archive.props.get("forceDestroy") is False  # archived data is never lost by accident
    assert check("destroyable-non-production", archive) == []
    production = {**DEV_TAGS, "Environment": "production"}
    protected = resource_args(TABLE, {"name": "t"}, tags=production, protect=True)
    assert check("destroyable-non-production", protected) == []


# --- dynamodb-encryption --------------------------------------------------------------------


@pytest.mark.parametrize("encryption", [{"enabled": False}, None])
def test_dynamodb_policy_rejects_tables_without_encryption(
    dev: RenderedStack, encryption: dict[str, bool] | None
) -> None:
    table = with_props(real(dev, TABLE), serverSideEncryption=encryption)
    [message] = check("dynamodb-encryption", table)
    assert (
        "'trading-analytics-analytics-table' (dev-trading-analytics-us-east-1) does not enable serverSideEncryption"
        in (message)
    )
    assert "required: serverSideEncryption.enabled = true" in message


def test_violations_of_resource_policies_carry_the_resource_urn(dev: RenderedStack) -> None:
    function = with_props(real(dev, FUNCTION), architectures=["x86_64"])
    [violation] = evaluate([policy_named("lambda-arm64")], [function])
    assert violation == replace(violation, policy="lambda-arm64", urn=function.urn)
