"""moto's TransactWriteItems with item snapshots: all-or-nothing, conditions, no table copies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from local_platform import transactions
from local_platform.emulator import serialise_moto_dynamodb
from tests.analytics_table import create_analytics_table

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test

TABLE = "transactions-test"
OTHER = "transactions-other"


@pytest.fixture
def ddb() -> Iterator[Any]:
    serialise_moto_dynamodb()  # what the emulator installs: the snapshot patch inside a lock
    with mock_aws():
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        for name in (TABLE, OTHER):
            create_analytics_table(
                client,
                name,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
        yield client


def key(pk: str, sk: str = "x") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def item(pk: str, n: int, sk: str = "x") -> dict[str, Any]:
    return key(pk, sk) | {"n": {"N": str(n)}}


def everything(client: Any, table: str = TABLE) -> list[dict[str, Any]]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def stream_records(table: str = TABLE) -> int:
    """Records in the table's stream shard (moto's model: its server has no DescribeStream)."""
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"]["us-east-1"].tables[table].stream_shard
    assert shard is not None
    return len(shard.items)


def seed(client: Any) -> None:
    client.put_item(TableName=TABLE, Item=item("put-over", 1))
    client.put_item(TableName=TABLE, Item=item("update-me", 10))
    client.put_item(TableName=TABLE, Item=item("delete-me", 5))
    client.put_item(TableName=TABLE, Item=item("guard", 7))
    client.put_item(TableName=OTHER, Item=item("elsewhere", 3))


def mixed_transaction(guard_expects: int) -> list[dict[str, Any]]:
    """One of each operation, over two tables; the last item's condition decides."""
    return [
        {"Put": {"TableName": TABLE, "Item": item("put-over", 2)}},
        {"Put": {"TableName": TABLE, "Item": item("brand-new", 1)}},
        {
            "Update": {
                "TableName": TABLE,
                "Key": key("update-me"),
                "UpdateExpression": "SET n = n + :one, added = :yes",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":yes": {"BOOL": True}},
            }
        },
        {"Delete": {"TableName": TABLE, "Key": key("delete-me")}},
        {"Put": {"TableName": OTHER, "Item": item("elsewhere", 4)}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": key("guard"),
                "ConditionExpression": "n = :n",
                "ExpressionAttributeValues": {":n": {"N": str(guard_expects)}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]


def test_the_patch_is_what_the_emulator_installs():
    serialise_moto_dynamodb()
    assert transactions.installed()


def test_a_cancelled_transaction_leaves_no_partial_write(ddb):
    seed(ddb)
    before, other_before = everything(ddb), everything(ddb, OTHER)
    streams_before = stream_records()
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(TransactItems=mixed_transaction(guard_expects=8))
    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in error["CancellationReasons"]]
    assert reasons == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert error["CancellationReasons"][-1]["Item"] == item("guard", 7)  # ALL_OLD still works
    assert everything(ddb) == before
    assert everything(ddb, OTHER) == other_before
    assert stream_records() == streams_before  # no trace of the cancelled writes


def test_a_passing_condition_commits_every_operation(ddb):
    seed(ddb)
    ddb.transact_write_items(TransactItems=mixed_transaction(guard_expects=7))
    assert everything(ddb) == [
        item("brand-new", 1),
        item("guard", 7),
        item("put-over", 2),
        item("update-me", 11) | {"added": {"BOOL": True}},
    ]
    assert everything(ddb, OTHER) == [item("elsewhere", 4)]


def test_an_item_that_must_not_exist_cancels_the_whole_transaction(ddb):
    ddb.put_item(TableName=TABLE, Item=item("marker", 1))
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("bar", 1)}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": item("marker", 2),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert everything(ddb) == [item("marker", 1)]


@pytest.mark.parametrize(
    "bad_entry",
    [
        pytest.param({"Delete": {"TableName": TABLE, "Key": key("a")}}, id="same-item-twice"),
        pytest.param(
            {
                "Put": {"TableName": TABLE, "Item": item("c", 1)},
                "Delete": {"TableName": TABLE, "Key": key("d")},
            },
            id="two-operations-in-one-entry",  # moto raises this one without rolling back
        ),
    ],
)
def test_a_request_refused_midway_is_undone_too(ddb, bad_entry):
    """Refused after earlier items were written: none of them stays."""
    ddb.put_item(TableName=TABLE, Item=item("a", 1))
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("a", 2)}},
                {"Put": {"TableName": TABLE, "Item": item("b", 1)}},
                bad_entry,
            ]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert everything(ddb) == [item("a", 1)]


def test_no_transaction_copies_a_whole_table(ddb, monkeypatch):
    """Cost follows the items a transaction names, not the table: no Table is ever deep-copied."""
    for i in range(300):
        ddb.put_item(TableName=TABLE, Item=item(f"existing-{i:03d}", i))

    def refuse(self: Table, memo: Any) -> Table:
        raise AssertionError(f"table {self.name} was deep-copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item(f"new-{i}", i)}} for i in range(100)
        ]
    )
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=mixed_transaction(guard_expects=-1))
    assert len(everything(ddb)) == 400


def test_without_the_patch_moto_copies_the_table(monkeypatch):
    """The guard above can fail: moto's own implementation does copy whole tables."""
    from moto.dynamodb.models import DynamoDBBackend

    copies: list[str] = []

    def record(self: Table, memo: Any) -> Table:
        copies.append(self.name)
        return self

    unpatched = DynamoDBBackend.transact_write_items
    while hasattr(unpatched, "__wrapped__"):  # the serialising lock, then the snapshot patch
        unpatched = unpatched.__wrapped__
    monkeypatch.setattr(Table, "__deepcopy__", record, raising=False)
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
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends["123456789012"]["us-east-1"]
        unpatched(backend, [{"Put": {"TableName": TABLE, "Item": {"pk": {"S": "k"}}}}])
    assert copies == [TABLE]
