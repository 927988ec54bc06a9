"""Fixtures of the processor's emulator tests: the function's environment set before
`processor.handler` is imported (it builds its runtime at import), moto before any client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import moto  # noqa: F401 - imported before any boto3 client exists, so all clients are mockable
import pytest
from moto import mock_aws

from local_platform.emulator import serialise_moto_dynamodb
from tests.processor_helpers import ARCHIVE, INGEST, REGION, TABLE, create_resources

for name, value in {
    "TABLE_NAME": TABLE,
    "ARCHIVE_BUCKET": ARCHIVE,
    "INGEST_BUCKET": INGEST,
    "ENVIRONMENT": "dev",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}.items():
    os.environ.setdefault(name, value)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(scope="session")
def clients() -> dict[str, Any]:
    """One pair of clients for the session (creating one costs ~0.3 s); moto, imported
    first, answers them whenever a test's ``mock_aws`` is active."""
    return {
        "dynamodb": boto3.client("dynamodb", region_name=REGION),
        "s3": boto3.client("s3", region_name=REGION),
    }


@pytest.fixture
def aws(clients: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """moto-backed table and buckets, fresh for each test; yields the clients."""
    with mock_aws():
        ddb, s3 = clients["dynamodb"], clients["s3"]
        create_resources(ddb, s3)
        yield {"ddb": ddb, "s3": s3}


class Clock:
    """A settable clock for the service (seconds since the epoch)."""

    def __init__(self, now: float = 1_795_185_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_runtime(aws: dict[str, Any], clock: Clock) -> Callable[..., Any]:
    """A runtime over the test's moto clients: ``make_runtime(limits=..., ddb=..., s3=...)``."""
    from processor.handler import Runtime
    from processor.settings import Settings

    def make(**overrides: Any) -> Any:
        limits = overrides.pop("limits", None)
        settings = Settings.from_env()
        if limits is not None:
            settings = Settings(
                settings.table_name,
                settings.archive_bucket,
                settings.ingest_bucket,
                settings.environment,
                limits=limits,
            )
        options = {"ddb": aws["ddb"], "s3": aws["s3"], "workers": 4, "clock": clock}
        return Runtime.create(settings, **(options | overrides))

    return make


# moto's DynamoDB backend is not thread-safe; make each operation atomic as DynamoDB's are.
serialise_moto_dynamodb()
