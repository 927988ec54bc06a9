"""Fixtures of the processor tests: environment before import, moto before any client."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto  # noqa: F401 - imported before any boto3 client exists, so all clients are mockable
import pytest
from moto import mock_aws

from local_platform.emulator import serialise_moto_dynamodb

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for `benchmarks.market_data`

TABLE, ARCHIVE, INGEST, REGION = "dev-analytics", "dev-archive", "dev-ingest", "us-east-1"
for name, value in {
    "TABLE_NAME": TABLE,
    "ARCHIVE_BUCKET": ARCHIVE,
    "ENVIRONMENT": "dev",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}.items():
    os.environ.setdefault(name, value)
os.environ.pop("AWS_ENDPOINT_URL", None)


def create_resources(ddb: Any, s3: Any) -> None:
    """The table and buckets as the infrastructure defines them (keys, TTL attribute)."""
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    ddb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    for bucket in (ARCHIVE, INGEST):
        s3.create_bucket(Bucket=bucket)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto-backed table and buckets; yields the test's own clients."""
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        create_resources(ddb, s3)
        yield {"ddb": ddb, "s3": s3}


# moto's DynamoDB backend is not thread-safe; make each operation atomic as DynamoDB's are.
serialise_moto_dynamodb()
