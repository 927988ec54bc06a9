"""R-10: the execution role's documents, parsed — exact actions, this environment's ARNs only."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from platform_core.iam import VPC_ACTIONS, XRAY_ACTIONS

ENVIRONMENTS = ("dev", "staging", "production")
UNSCOPABLE = set(VPC_ACTIONS) | set(XRAY_ACTIONS)


@pytest.fixture(params=ENVIRONMENTS)
def env(request) -> str:
    return str(request.param)


def statements(stack) -> list[dict[str, Any]]:
    document = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert document["Version"] == "2012-10-17"
    return [
        {**s, "Action": _list(s["Action"]), "Resource": _list(s["Resource"])}
        for s in document["Statement"]
    ]


def _list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_actions_are_exact(rendered_stacks, env):
    for statement in statements(rendered_stacks[env]):
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert re.fullmatch(
                r"[a-z0-9-]+:[A-Za-z0-9]+", action
            ), f"wildcard or malformed: {action}"


def test_star_resource_only_where_aws_allows_nothing_narrower(rendered_stacks, env):
    for statement in statements(rendered_stacks[env]):
        if "*" in statement["Resource"]:
            assert set(statement["Action"]) <= UNSCOPABLE, statement["Sid"]
            assert statement["Resource"] == ["*"]


def test_resources_are_this_environments_own(rendered_stacks, env):
    others = [other for other in ENVIRONMENTS if other != env]
    for statement in statements(rendered_stacks[env]):
        for arn in statement["Resource"]:
            if arn == "*":
                continue
            assert f":{env}-trading-" in arn or f"/{env}-trading-" in arn, arn
            assert not any(f"{other}-trading-" in arn for other in others), arn
            if not arn.startswith("arn:aws:s3:::"):
                assert re.match(r"arn:aws:[a-z0-9-]+:us-east-1:\d{12}:", arn), arn


def test_function_reads_incoming_and_writes_only_to_the_archive(rendered_stacks, env):
    by_action: dict[str, list[str]] = {}
    for statement in statements(rendered_stacks[env]):
        for action in statement["Action"]:
            by_action.setdefault(action, []).extend(statement["Resource"])
    assert by_action["s3:GetObject"] == [f"arn:aws:s3:::{env}-trading-ingest-us-east-1/incoming/*"]
    assert by_action["s3:PutObject"] == [
        f"arn:aws:s3:::{env}-trading-archive-us-east-1/raw/*",
        f"arn:aws:s3:::{env}-trading-archive-us-east-1/rejected/*",
    ]
    assert not any("ingest" in arn for action, arns in by_action.items() if action != "s3:GetObject"
                   and action.startswith("s3:") and action != "s3:GetObjectVersion" for arn in arns)  # fmt: skip
    assert by_action["dynamodb:UpdateItem"] == [
        f"arn:aws:dynamodb:us-east-1:123456789012:table/{env}-trading-analytics-us-east-1"
    ]
    assert ("xray:PutTraceSegments" in by_action) == (env != "dev")


def test_only_lambda_assumes_the_role(rendered_stacks, env):
    role = rendered_stacks[env].one("aws:iam/role:Role").inputs
    assert role["name"] == f"{env}-trading-processor-us-east-1"
    trust = json.loads(role["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


def test_bucket_policies_only_deny(rendered_stacks, env):
    for policy in rendered_stacks[env].of_type("aws:s3/bucketPolicy:BucketPolicy"):
        assert {s["Effect"] for s in json.loads(policy.inputs["policy"])["Statement"]} == {"Deny"}
