"""IAM policy evaluation as AWS documents it: table-driven, no emulator."""

from __future__ import annotations

from typing import Any

import pytest

from local_platform.errors import UnsupportedPolicyError
from local_platform.policy_evaluation import (
    Decision,
    Question,
    check_supported,
    decide,
)

pytestmark = pytest.mark.unit  # see tests/conftest.py: kinds of test

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/dev-trading-analytics-us-east-1"
BUCKET = "arn:aws:s3:::dev-trading-ingest-us-east-1"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, **extra) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


LIST_INCOMING = allow(
    "s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["incoming/*"]}}
)

ALLOWED, DENIED, NOT_ALLOWED = (
    Decision.ALLOWED,
    Decision.EXPLICITLY_DENIED,
    Decision.NOT_ALLOWED,
)


@pytest.mark.parametrize(
    ("statements", "question", "expected"),
    [
        pytest.param(
            [allow("dynamodb:PutItem", TABLE)],
            Question("dynamodb:PutItem", TABLE),
            ALLOWED,
            id="exact",
        ),
        pytest.param(
            [allow("dynamodb:PutItem", TABLE)],
            Question("dynamodb:PutItem", TABLE + "-pr-1"),
            NOT_ALLOWED,
            id="another-table",
        ),
        pytest.param(
            [allow("dynamodb:PutItem", TABLE)],
            Question("dynamodb:GetItem", TABLE),
            NOT_ALLOWED,
            id="another-action",
        ),
        pytest.param(
            [allow("DynamoDB:putitem", TABLE)],
            Question("dynamodb:PutItem", TABLE),
            ALLOWED,
            id="actions-ignore-case",
        ),
        pytest.param(
            [allow("dynamodb:*Item", TABLE)],
            Question("dynamodb:UpdateItem", TABLE),
            ALLOWED,
            id="action-wildcard",
        ),
        pytest.param(
            [allow("dynamodb:?etItem", TABLE)],
            Question("dynamodb:GetItem", TABLE),
            ALLOWED,
            id="action-single-char",
        ),
        pytest.param(
            [allow("dynamodb:PutItem", TABLE.upper())],
            Question("dynamodb:PutItem", TABLE),
            NOT_ALLOWED,
            id="resources-keep-case",
        ),
        pytest.param(
            [allow("dynamodb:PutItem", TABLE + "*")],
            Question("dynamodb:PutItem", TABLE + "-pr-7"),
            ALLOWED,
            id="resource-wildcard",
        ),
        pytest.param(
            [allow("dynamodb:Query", TABLE)],
            Question("dynamodb:Query", TABLE + "/index/by-day"),
            NOT_ALLOWED,
            id="index-is-not-table",
        ),
        pytest.param(
            [allow("dynamodb:PutItem", "arn:aws:dynamodb:*:123456789012:table/*")],
            Question("dynamodb:PutItem", TABLE),
            ALLOWED,
            id="region-wildcard-segment",
        ),
        pytest.param(
            [allow("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1*")],
            Question("dynamodb:PutItem", TABLE),
            NOT_ALLOWED,
            id="wildcard-stays-in-its-segment",
        ),
        pytest.param(
            [allow("s3:GetObject", BUCKET + "/incoming/*")],
            Question("s3:GetObject", BUCKET + "/incoming/dt=1/a b.jsonl"),
            ALLOWED,
            id="object-under-prefix",
        ),
        pytest.param(
            [allow("s3:GetObject", BUCKET + "/incoming/*")],
            Question("s3:GetObject", BUCKET + "/elsewhere/a.jsonl"),
            NOT_ALLOWED,
            id="object-outside-prefix",
        ),
        pytest.param(
            [allow("s3:GetObject", BUCKET + "/incoming/[ab].json")],
            Question("s3:GetObject", BUCKET + "/incoming/a.json"),
            NOT_ALLOWED,
            id="brackets-are-literal",
        ),
        pytest.param(
            [allow("*", "*")],
            Question("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q"),
            ALLOWED,
            id="everything",
        ),
        pytest.param(
            [
                allow("s3:*", "*"),
                {"Effect": "Deny", "Action": "s3:PutObject", "Resource": BUCKET + "/*"},
            ],
            Question("s3:PutObject", BUCKET + "/incoming/x"),
            DENIED,
            id="deny-wins",
        ),
        pytest.param(
            [{"Effect": "Allow", "NotAction": "s3:PutObject", "Resource": "*"}],
            Question("s3:PutObject", BUCKET + "/x"),
            NOT_ALLOWED,
            id="not-action-excludes",
        ),
        pytest.param(
            [{"Effect": "Allow", "NotAction": "s3:PutObject", "Resource": "*"}],
            Question("s3:GetObject", BUCKET + "/x"),
            ALLOWED,
            id="not-action-includes",
        ),
        pytest.param(
            [{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": BUCKET + "/private/*"}],
            Question("s3:GetObject", BUCKET + "/private/k"),
            NOT_ALLOWED,
            id="not-resource-excludes",
        ),
        pytest.param(
            [LIST_INCOMING],
            Question("s3:ListBucket", BUCKET, (("s3:prefix", "incoming/"),)),
            ALLOWED,
            id="prefix-condition-met",
        ),
        pytest.param(
            [LIST_INCOMING],
            Question("s3:ListBucket", BUCKET, (("s3:prefix", "incoming/dt=1/x.jsonl"),)),
            ALLOWED,
            id="prefix-condition-key",
        ),
        pytest.param(
            [LIST_INCOMING],
            Question("s3:ListBucket", BUCKET, (("s3:prefix", "elsewhere/"),)),
            NOT_ALLOWED,
            id="prefix-condition-unmet",
        ),
        pytest.param(
            [LIST_INCOMING], Question("s3:ListBucket", BUCKET), NOT_ALLOWED, id="prefix-absent"
        ),
        pytest.param(
            [LIST_INCOMING, allow("s3:ListBucket", BUCKET)],
            Question("s3:ListBucket", BUCKET),
            ALLOWED,
            id="unmet-allow-is-not-a-deny",
        ),
        pytest.param(
            [
                allow(
                    "s3:ListBucket", BUCKET, Condition={"StringNotLike": {"s3:prefix": "private/*"}}
                )
            ],
            Question("s3:ListBucket", BUCKET),
            ALLOWED,
            id="negated-absent-is-true",
        ),
        pytest.param(
            [
                allow(
                    "s3:ListBucket",
                    BUCKET,
                    Condition={"StringLikeIfExists": {"s3:prefix": "incoming/*"}},
                )
            ],
            Question("s3:ListBucket", BUCKET),
            ALLOWED,
            id="if-exists-absent-is-true",
        ),
        pytest.param(
            [
                allow(
                    "s3:ListBucket", BUCKET, Condition={"StringEquals": {"S3:Prefix": "incoming/"}}
                )
            ],
            Question("s3:ListBucket", BUCKET, (("s3:prefix", "incoming/"),)),
            ALLOWED,
            id="keys-ignore-case",
        ),
        pytest.param(
            [allow("s3:ListBucket", BUCKET, Condition={"Null": {"s3:prefix": "true"}})],
            Question("s3:ListBucket", BUCKET),
            ALLOWED,
            id="null-true-absent",
        ),
        pytest.param(
            [allow("s3:ListBucket", BUCKET, Condition={"Null": {"s3:prefix": "false"}})],
            Question("s3:ListBucket", BUCKET),
            NOT_ALLOWED,
            id="null-false-absent",
        ),
        pytest.param(
            [
                allow(
                    "dynamodb:PutItem",
                    TABLE,
                    Condition={
                        "StringEquals": {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}
                    },
                )
            ],
            Question("dynamodb:PutItem", TABLE),
            NOT_ALLOWED,
            id="enclosing-operation-absent",
        ),
        pytest.param(
            [
                allow(
                    "dynamodb:PutItem",
                    TABLE,
                    Condition={
                        "StringEquals": {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}
                    },
                )
            ],
            Question(
                "dynamodb:PutItem", TABLE, (("dynamodb:EnclosingOperation", "TransactWriteItems"),)
            ),
            ALLOWED,
            id="enclosing-operation-present",
        ),
        pytest.param([], Question("s3:GetObject", BUCKET + "/x"), NOT_ALLOWED, id="no-policy"),
    ],
)
def test_decisions(statements, question, expected):
    assert decide([policy(*statements)], question) is expected


def test_a_boundary_limits_what_the_identity_allows():
    identity = [policy(allow("dynamodb:*", "*"))]
    boundary = policy(allow("dynamodb:PutItem", TABLE + "*"))
    assert decide(identity, Question("dynamodb:PutItem", TABLE), boundary) is ALLOWED
    assert decide(identity, Question("dynamodb:DeleteItem", TABLE), boundary) is NOT_ALLOWED
    other = TABLE.replace("dev-", "staging-")
    assert decide(identity, Question("dynamodb:PutItem", other), boundary) is NOT_ALLOWED


def test_a_boundary_grants_nothing_by_itself():
    boundary = policy(allow("*", "*"))
    assert decide([], Question("s3:GetObject", BUCKET + "/k"), boundary) is NOT_ALLOWED


def test_a_deny_in_the_boundary_wins():
    identity = [policy(allow("s3:*", "*"))]
    boundary = policy(
        allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    )
    assert decide(identity, Question("s3:DeleteObject", BUCKET + "/k"), boundary) is DENIED


def test_a_single_statement_document_is_read_too():
    document = {"Version": "2012-10-17", "Statement": allow("s3:GetObject", "*")}
    assert decide([document], Question("s3:GetObject", BUCKET + "/k")) is ALLOWED


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "condition operator 'IpAddress'"),
        (
            {"ForAnyValue:StringEquals": {"s3:prefix": ["a"]}},
            "condition operator 'ForAnyValue:StringEquals'",
        ),
        ({"StringEquals": {"aws:PrincipalTag/team": "x"}}, "condition key 'aws:PrincipalTag/team'"),
    ],
)
def test_what_cannot_be_evaluated_is_refused_not_guessed(condition, message):
    document = policy(allow("s3:ListBucket", BUCKET, Sid="Listing", Condition=condition))
    (note,) = check_supported(document, "inline policy p")
    assert note.startswith("inline policy p, statement Listing (s3:ListBucket): ")
    assert message in note
    with pytest.raises(UnsupportedPolicyError, match=message.replace("/", ".")):
        decide([document], Question("s3:ListBucket", BUCKET, (("s3:prefix", "a"),)))
    # a question the statement does not decide is answered as usual
    assert decide([document], Question("s3:GetObject", BUCKET + "/a")) is NOT_ALLOWED


def test_a_principal_in_an_identity_policy_is_an_error():
    document = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(UnsupportedPolicyError, match="a principal belongs in a resource policy"):
        check_supported(document, "inline policy p")


def test_the_rendered_grant_is_supported():
    assert check_supported(policy(LIST_INCOMING), "inline policy") == []
