"""The emulator authorises as AWS documents it (moto in-process, IAM enforced, an assumed role)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

from local_platform import authorisation
from local_platform.authorisation import questions_for_dynamodb, questions_for_s3
from local_platform.emulator import serialise_moto_dynamodb
from local_platform.policy_evaluation import Question

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test

REGION, ACCOUNT = "us-east-1", "123456789012"
OWN, OTHER = "dev-table", "staging-table"
INGEST, ARCHIVE = "dev-ingest", "dev-archive"


def arn(table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"


def function_policy(list_incoming: bool = True) -> dict[str, Any]:
    """Shaped like the function's: table actions on its table ARN, incoming/ reads, archive writes."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:BatchGetItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ],
            "Resource": [arn(OWN)],
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": [f"arn:aws:s3:::{INGEST}/incoming/*"],
        },
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{ARCHIVE}/raw/*"],
        },
    ]
    if list_incoming:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{INGEST}"],
                "Condition": {"StringLike": {"s3:prefix": ["incoming/*"]}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def assume(
    iam: Any, sts: Any, name: str, policy: dict[str, Any], boundary: str | None = None
) -> dict[str, str]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **extra)[
        "Role"
    ]
    iam.put_role_policy(RoleName=name, PolicyName="access", PolicyDocument=json.dumps(policy))
    credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="test")["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    serialise_moto_dynamodb()
    authorisation.install()
    with mock_aws():
        admin: Any = {"region_name": REGION, "aws_access_key_id": "a", "aws_secret_access_key": "a"}
        ddb, s3 = boto3.client("dynamodb", **admin), boto3.client("s3", **admin)
        iam, sts = boto3.client("iam", **admin), boto3.client("sts", **admin)
        for table in (OWN, OTHER):
            ddb.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            )
        for bucket in (INGEST, ARCHIVE):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=INGEST, Key="incoming/trades.jsonl", Body=b"{}\n")
        s3.put_object(Bucket=INGEST, Key="elsewhere/secret.jsonl", Body=b"{}\n")
        boundary = iam.create_policy(
            PolicyName="boundary",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}
                    ],
                }
            ),
        )["Policy"]["Arn"]
        iam.create_user(UserName="admin")
        everything = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName="admin", PolicyName="all", PolicyDocument=json.dumps(everything)
        )
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        operator = {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }
        roles = {
            "admin": operator,
            "function": assume(iam, sts, "function", function_policy()),
            "no-list": assume(iam, sts, "no-list", function_policy(list_incoming=False)),
            "bounded": assume(
                iam,
                sts,
                "bounded",
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
                },
                boundary,
            ),
        }
        trusting = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName="operator-role", AssumeRolePolicyDocument=json.dumps(trusting))
        with enable_iam_authentication():
            yield {
                name: {
                    "ddb": boto3.client("dynamodb", region_name=REGION, **keys),
                    "s3": boto3.client("s3", region_name=REGION, **keys),
                    "sts": boto3.client("sts", region_name=REGION, **keys),
                }
                for name, keys in roles.items()
            }


def code(call) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "allowed"


def status(call) -> int:
    try:
        call()
    except ClientError as error:
        return int(error.response["ResponseMetadata"]["HTTPStatusCode"])
    return 200


def item(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def put(table: str, pk: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item(pk)}}


def test_table_actions_are_checked_against_the_table_arn(aws):
    ddb = aws["function"]["ddb"]
    assert code(lambda: ddb.put_item(TableName=OWN, Item=item("a"))) == "allowed"
    assert code(lambda: ddb.get_item(TableName=OWN, Key=item("a"))) == "allowed"
    assert code(lambda: ddb.put_item(TableName=OTHER, Item=item("a"))) == "AccessDeniedException"
    assert code(lambda: ddb.delete_item(TableName=OWN, Key=item("a"))) == "AccessDeniedException"


def test_the_denial_names_the_action_and_the_resource(aws):
    with pytest.raises(ClientError) as raised:
        aws["function"]["ddb"].get_item(TableName=OTHER, Key=item("a"))
    message = raised.value.response["Error"]["Message"]
    assert "assumed-role/function/test is not authorized to perform: dynamodb:GetItem" in message
    assert f"on resource: {arn(OTHER)}" in message


def test_a_transaction_is_authorised_item_by_item(aws):
    ddb, admin = aws["function"]["ddb"], aws["admin"]["ddb"]
    assert (
        code(lambda: ddb.transact_write_items(TransactItems=[put(OWN, "t1"), put(OWN, "t2")]))
        == "allowed"
    )
    both = [put(OWN, "t3"), put(OTHER, "t3")]
    assert code(lambda: ddb.transact_write_items(TransactItems=both)) == "AccessDeniedException"
    assert "Item" not in admin.get_item(TableName=OWN, Key=item("t3"))  # nothing of it applied
    check = {
        "ConditionCheck": {
            "TableName": OWN,
            "Key": item("t1"),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    assert (
        code(lambda: ddb.transact_write_items(TransactItems=[put(OWN, "t4"), check]))
        == "AccessDeniedException"
    )
    delete = {"Delete": {"TableName": OWN, "Key": item("t1")}}
    assert code(lambda: ddb.transact_write_items(TransactItems=[delete])) == "AccessDeniedException"


def test_a_batch_is_authorised_for_each_table_it_names(aws):
    ddb = aws["function"]["ddb"]
    own = {OWN: {"Keys": [item("a")]}}
    assert code(lambda: ddb.batch_get_item(RequestItems=own)) == "allowed"
    both = {OWN: {"Keys": [item("a")]}, OTHER: {"Keys": [item("a")]}}
    assert code(lambda: ddb.batch_get_item(RequestItems=both)) == "AccessDeniedException"


def test_a_copy_needs_read_access_to_its_source(aws):
    s3 = aws["function"]["s3"]
    readable = {"Bucket": INGEST, "Key": "incoming/trades.jsonl"}
    secret = {"Bucket": INGEST, "Key": "elsewhere/secret.jsonl"}
    assert (
        code(lambda: s3.copy_object(Bucket=ARCHIVE, Key="raw/copy.jsonl", CopySource=readable))
        == "allowed"
    )
    assert (
        code(lambda: s3.copy_object(Bucket=ARCHIVE, Key="raw/leak.jsonl", CopySource=secret))
        == "AccessDenied"
    )
    assert (
        code(lambda: s3.copy_object(Bucket=INGEST, Key="incoming/x", CopySource=readable))
        == "AccessDenied"
    )


def test_listing_follows_the_prefix_condition(aws):
    s3 = aws["function"]["s3"]
    assert code(lambda: s3.list_objects_v2(Bucket=INGEST, Prefix="incoming/")) == "allowed"
    assert code(lambda: s3.list_objects_v2(Bucket=INGEST, Prefix="incoming/dt=2026")) == "allowed"
    assert code(lambda: s3.list_objects_v2(Bucket=INGEST)) == "AccessDenied"
    assert code(lambda: s3.list_objects_v2(Bucket=INGEST, Prefix="elsewhere/")) == "AccessDenied"


def test_a_missing_object_is_404_only_for_a_caller_who_may_list_it(aws):
    with_list, without = aws["function"]["s3"], aws["no-list"]["s3"]
    gone = {"Bucket": INGEST, "Key": "incoming/deleted.jsonl"}
    assert code(lambda: with_list.get_object(**gone)) == "NoSuchKey"
    assert code(lambda: without.get_object(**gone)) == "AccessDenied"
    assert code(lambda: without.get_object(Bucket=INGEST, Key="incoming/trades.jsonl")) == "allowed"
    assert status(lambda: with_list.head_object(**gone)) == 404  # HEAD: no body, a status
    assert status(lambda: without.head_object(**gone)) == 403


def test_the_permissions_boundary_limits_the_role(aws):
    ddb = aws["bounded"]["ddb"]
    aws["admin"]["ddb"].put_item(TableName=OWN, Item=item("b"))
    assert code(lambda: ddb.get_item(TableName=OWN, Key=item("b"))) == "allowed"
    assert code(lambda: ddb.put_item(TableName=OWN, Item=item("c"))) == "AccessDeniedException"


def test_only_a_principal_the_trust_policy_names_may_assume_a_role(aws):
    sts = aws["admin"]["sts"]
    function_role = f"arn:aws:iam::{ACCOUNT}:role/function"  # trusts lambda.amazonaws.com only
    assert (
        code(lambda: sts.assume_role(RoleArn=function_role, RoleSessionName="probe"))
        == "AccessDenied"
    )
    trusting = f"arn:aws:iam::{ACCOUNT}:role/operator-role"  # trusts the account
    assert code(lambda: sts.assume_role(RoleArn=trusting, RoleSessionName="probe")) == "allowed"
    assert (
        code(lambda: aws["function"]["sts"].assume_role(RoleArn=trusting, RoleSessionName="probe"))
        == "AccessDenied"
    )


@pytest.mark.parametrize(
    ("action", "body", "expected"),
    [
        ("PutItem", {"TableName": OWN}, [Question("dynamodb:PutItem", arn(OWN))]),
        ("PutItem", {"TableName": arn(OTHER)}, [Question("dynamodb:PutItem", arn(OTHER))]),
        (
            "Query",
            {"TableName": OWN, "IndexName": "by-day"},
            [Question("dynamodb:Query", arn(OWN) + "/index/by-day")],
        ),
        ("ListTables", {}, [Question("dynamodb:ListTables", "*")]),
        (
            "BatchWriteItem",
            {"RequestItems": {OWN: [], OTHER: []}},
            [
                Question("dynamodb:BatchWriteItem", arn(OWN)),
                Question("dynamodb:BatchWriteItem", arn(OTHER)),
            ],
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    put(OWN, "a"),
                    {"Update": {"TableName": OTHER}},
                    {"ConditionCheck": {"TableName": OWN}},
                ]
            },
            [
                Question(
                    "dynamodb:PutItem",
                    arn(OWN),
                    (("dynamodb:EnclosingOperation", "TransactWriteItems"),),
                ),
                Question(
                    "dynamodb:UpdateItem",
                    arn(OTHER),
                    (("dynamodb:EnclosingOperation", "TransactWriteItems"),),
                ),
                Question(
                    "dynamodb:ConditionCheckItem",
                    arn(OWN),
                    (("dynamodb:EnclosingOperation", "TransactWriteItems"),),
                ),
            ],
        ),
        (
            "TransactGetItems",
            {"TransactItems": [{"Get": {"TableName": OWN}}]},
            [
                Question(
                    "dynamodb:GetItem",
                    arn(OWN),
                    (("dynamodb:EnclosingOperation", "TransactGetItems"),),
                )
            ],
        ),
    ],
)
def test_dynamodb_questions(action, body, expected):
    assert questions_for_dynamodb(action, body, REGION, ACCOUNT) == expected


@pytest.mark.parametrize(
    ("action", "query", "headers", "expected"),
    [
        (
            "s3:ListBucket",
            {"prefix": ["incoming/"]},
            {},
            [Question("s3:ListBucket", "arn:aws:s3:::b", (("s3:prefix", "incoming/"),))],
        ),
        ("s3:ListBucket", {}, {}, [Question("s3:ListBucket", "arn:aws:s3:::b")]),
        (
            "s3:PutObject",
            {},
            {"x-amz-copy-source": "/src/incoming/a%20b.jsonl?versionId=v1"},
            [
                Question("s3:PutObject", "arn:aws:s3:::b"),
                Question("s3:GetObjectVersion", "arn:aws:s3:::src/incoming/a b.jsonl"),
            ],
        ),
        (
            "s3:PutObject",
            {},
            {"x-amz-copy-source": "src/k"},
            [
                Question("s3:PutObject", "arn:aws:s3:::b"),
                Question("s3:GetObject", "arn:aws:s3:::src/k"),
            ],
        ),
    ],
)
def test_s3_questions(action, query, headers, expected):
    assert questions_for_s3(action, "arn:aws:s3:::b", query, headers) == expected
