"""moto's condition parser, remembered: same answers, same refusals, one parse per expression."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.comparisons import ConditionExpressionParser

from local_platform import conditions
from local_platform.emulator import serialise_moto_dynamodb

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test

TABLE = "conditions-test"


@pytest.fixture
def ddb() -> Iterator[Any]:
    serialise_moto_dynamodb()
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield client


def put_if(client: Any, n: int, expected: int) -> bool:
    """Put n where the stored n equals ``expected``; whether DynamoDB (moto) accepted it."""
    try:
        client.put_item(
            TableName=TABLE,
            Item={"pk": {"S": "k"}, "n": {"N": str(n)}},
            ConditionExpression="n = :n",
            ExpressionAttributeValues={":n": {"N": str(expected)}},
        )
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return False
    return True


def test_installed_by_the_emulator():
    serialise_moto_dynamodb()
    assert conditions.installed()


def test_each_value_gets_its_own_answer(ddb):
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "k"}, "n": {"N": "1"}})
    assert put_if(ddb, 2, expected=1)
    assert not put_if(ddb, 3, expected=1)  # the same expression and value: now false
    assert put_if(ddb, 3, expected=2)  # the same expression, another value
    assert not put_if(ddb, 4, expected=2)
    stored = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "k"}})["Item"]
    assert stored["n"] == {"N": "3"}


def test_a_bad_expression_is_refused_every_time(ddb):
    """Not remembered: it fails again (moto raises its parser's error as it is)."""
    for _ in range(2):
        with pytest.raises(ValueError, match="Bad comparison"):
            ddb.put_item(
                TableName=TABLE,
                Item={"pk": {"S": "k"}},
                ConditionExpression="n = = :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            )


def test_unused_attribute_names_are_still_found(ddb):
    """moto refuses names the expression does not use; a remembered parse must tell it so."""
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            ddb.put_item(
                TableName=TABLE,
                Item={"pk": {"S": "k"}},
                ConditionExpression="attribute_not_exists(#p)",
                ExpressionAttributeNames={"#p": "pk", "#unused": "x"},
            )
        assert "unused" in raised.value.response["Error"]["Message"]


def test_the_same_input_is_parsed_once():
    serialise_moto_dynamodb()
    calls: list[str | None] = []
    patched: Any = ConditionExpressionParser.parse
    real_parse = patched.__wrapped__  # moto's own

    def counting(parser: ConditionExpressionParser) -> Any:
        calls.append(parser.condition_expression)
        return real_parse(parser)

    parse = conditions.remembering(counting, {})
    expression, one, two = "n = :n AND size(s) > :n", {":n": {"N": "1"}}, {":n": {"N": "2"}}
    first = parse(ConditionExpressionParser(expression, None, one))
    again = parse(ConditionExpressionParser(expression, None, one))
    other = parse(ConditionExpressionParser(expression, None, two))
    assert again is first and other is not first
    assert calls == [expression, expression]  # one parse per distinct input
