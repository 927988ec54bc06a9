"""What the infrastructure and the function must agree on, stated once.

The processor reads these at run time; ``platform_core`` reads them when it builds a stack
(environment variables, table keys, bucket prefixes, retention). Standard library only: the
module ships inside the function's artifact and must not slow its cold start.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ARCHIVE_PREFIXES",
    "BAR_SORT_KEY_PREFIX",
    "DATABASE_ENVIRONMENT",
    "DATABASE_PORT",
    "DEDUPLICATION_HORIZON_S",
    "DEDUPLICATION_MARGIN_S",
    "ENV_ARCHIVE_BUCKET",
    "ENV_DATABASE_ENDPOINT",
    "ENV_DATABASE_SECRET_ARN",
    "ENV_ENVIRONMENT",
    "ENV_INGEST_BUCKET",
    "ENV_TABLE_NAME",
    "FAILURE_QUEUE_RETENTION_S",
    "FUNCTION_ENVIRONMENT",
    "HANDLER",
    "INGEST_PREFIX",
    "MAX_EVENT_AGE_S",
    "RAW_ARCHIVE_PREFIX",
    "REJECTED_ARCHIVE_PREFIX",
    "SYMBOL_PARTITION_KEY_PREFIX",
    "TABLE_PARTITION_KEY",
    "TABLE_SORT_KEY",
    "TABLE_TTL_ATTRIBUTE",
    "bar_partition_key",
    "bar_sort_key",
]

_HOUR_S: Final = 3_600
_DAY_S: Final = 24 * _HOUR_S

#: The function's entry point, as Lambda's ``handler`` setting spells it.
HANDLER: Final = "processor.handler.handler"

# Environment variables the infrastructure sets and the function reads.
ENV_TABLE_NAME: Final = "TABLE_NAME"
ENV_ARCHIVE_BUCKET: Final = "ARCHIVE_BUCKET"
ENV_ENVIRONMENT: Final = "ENVIRONMENT"
#: The one bucket whose notifications the function accepts (any other bucket is refused).
ENV_INGEST_BUCKET: Final = "INGEST_BUCKET"
FUNCTION_ENVIRONMENT: Final = (
    ENV_TABLE_NAME,
    ENV_ARCHIVE_BUCKET,
    ENV_INGEST_BUCKET,
    ENV_ENVIRONMENT,
)
# Set only where the environment has a database: the cluster's writer endpoint (a host name)
# and the ARN of the Secrets Manager secret RDS keeps the master user's credentials in
# (JSON with `username` and `password`; RDS rotates it, so read it when connecting).
ENV_DATABASE_ENDPOINT: Final = "DATABASE_ENDPOINT"
ENV_DATABASE_SECRET_ARN: Final = "DATABASE_SECRET_ARN"
DATABASE_ENVIRONMENT: Final = (ENV_DATABASE_ENDPOINT, ENV_DATABASE_SECRET_ARN)
#: PostgreSQL's port: the database listens on it and the function's security group may reach it.
DATABASE_PORT: Final = 5432

# The analytics table: string keys, and the attribute DynamoDB's TTL deletes items by.
TABLE_PARTITION_KEY: Final = "pk"
TABLE_SORT_KEY: Final = "sk"
TABLE_TTL_ATTRIBUTE: Final = "expires_at"
SYMBOL_PARTITION_KEY_PREFIX: Final = "SYMBOL#"
#: Bars sort under this prefix; bookkeeping items share the partition, so query with
#: ``begins_with(sk, BAR_SORT_KEY_PREFIX)``.
BAR_SORT_KEY_PREFIX: Final = "BAR#1m#"

# Bucket prefixes: uploads under INGEST_PREFIX trigger the function; it writes the archive.
INGEST_PREFIX: Final = "incoming/"
RAW_ARCHIVE_PREFIX: Final = "raw/"
REJECTED_ARCHIVE_PREFIX: Final = "rejected/"
ARCHIVE_PREFIXES: Final = (RAW_ARCHIVE_PREFIX, REJECTED_ARCHIVE_PREFIX)

# How late the same batch can arrive again, and so how long deduplication must remember it.
#: The failure queue keeps an event this long (SQS's maximum), for operators to redrive.
FAILURE_QUEUE_RETENTION_S: Final = 14 * _DAY_S
#: Lambda keeps an asynchronous event for retries at most this long (its maximum).
MAX_EVENT_AGE_S: Final = 6 * _HOUR_S
#: Slack for a redrive started on the queue's last day, and for clock skew.
DEDUPLICATION_MARGIN_S: Final = 3 * _DAY_S
#: Ledger entries and applied-markers live this long after a batch is first received: a
#: redelivery or redrive within it changes nothing.
DEDUPLICATION_HORIZON_S: Final = (
    FAILURE_QUEUE_RETENTION_S + MAX_EVENT_AGE_S + DEDUPLICATION_MARGIN_S
)


def bar_partition_key(symbol: str) -> str:
    """``SYMBOL#<SYMBOL>``: every item of one symbol shares this partition."""
    return f"{SYMBOL_PARTITION_KEY_PREFIX}{symbol}"


def bar_sort_key(minute: str) -> str:
    """``BAR#1m#<YYYY-MM-DDTHH:MM>Z`` for a minute label such as ``2026-11-22T10:05Z``."""
    return f"{BAR_SORT_KEY_PREFIX}{minute}"
