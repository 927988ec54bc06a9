"""The analytics table's key schema, as the infrastructure and the function share it."""

from __future__ import annotations

from typing import Any

from processor.contract import TABLE_PARTITION_KEY, TABLE_SORT_KEY


def create_analytics_table(ddb: Any, name: str, **options: Any) -> None:
    """Create table ``name`` on ``ddb`` (moto) with the analytics table's keys, on demand;
    ``options`` go to ``create_table`` as they are (a stream, for example)."""
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": TABLE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": TABLE_SORT_KEY, "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": TABLE_SORT_KEY, "KeyType": "RANGE"},
        ],
        **options,
    )
