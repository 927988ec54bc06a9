"""Probes of the function's role: what it must not do is refused, what it needs answers right.

Each probe makes one call with the credentials the handler ran with and records how the
emulator, enforcing the role's policy and boundary, answered. The handler's own run shows that
the role is sufficient; these show it is not more than that, and that a deleted upload takes
the handler's "object gone" path (404, not 403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from local_platform.provision import LocalEnvironment
from platform_core import discover_environments
from platform_core.naming import Service, compose_name
from processor.contract import INGEST_PREFIX, bar_partition_key, bar_sort_key

__all__ = ["Probe", "probe_role"]

OUTSIDE_INCOMING = "elsewhere/probe.jsonl"


@dataclass(frozen=True)
class Probe:
    label: str
    call: str
    expected: str  # the error code AWS answers with
    outcome: str  # the error code the emulator answered with, or "allowed"

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response.get("Error", {}).get("Code", "error"))
    return "allowed"


def _other_environment_table(environment: str, region: str) -> str:
    """The table another environment of this repository has in the same region."""
    other = next(name for name in discover_environments() if name != environment)
    return compose_name(other, Service.ANALYTICS_TABLE, region, suffix=None)


def probe_role(
    role_client: Callable[[str], Any],
    operator_client: Callable[[str], Any],
    resources: LocalEnvironment,
    environment: str,
    region: str,
) -> list[Probe]:
    """Run the probes; ``role_client``/``operator_client`` make clients for a service."""
    s3, ddb = role_client("s3"), role_client("dynamodb")
    ingest, table = resources.ingest_bucket, resources.table_name
    other_table = _other_environment_table(environment, region)
    operator_client("s3").put_object(Bucket=ingest, Key=OUTSIDE_INCOMING, Body=b"{}\n")
    gone = f"{INGEST_PREFIX}deleted-before-it-was-processed.jsonl"
    key = {"pk": {"S": bar_partition_key("PROBE")}, "sk": {"S": bar_sort_key("2026-01-01T00:00Z")}}

    def transact_into_both() -> Any:
        return ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": key}},
                {"Put": {"TableName": other_table, "Item": key}},
            ]
        )

    return [
        Probe(
            "write to the ingest bucket (the function's own trigger)",
            f"PutObject s3://{ingest}/{INGEST_PREFIX}probe.jsonl",
            "AccessDenied",
            _outcome(lambda: s3.put_object(Bucket=ingest, Key=f"{INGEST_PREFIX}probe.jsonl")),
        ),
        Probe(
            "read outside incoming/",
            f"GetObject s3://{ingest}/{OUTSIDE_INCOMING}",
            "AccessDenied",
            _outcome(lambda: s3.get_object(Bucket=ingest, Key=OUTSIDE_INCOMING)),
        ),
        Probe(
            "list outside incoming/",
            f"ListObjectsV2 s3://{ingest}/ (no prefix)",
            "AccessDenied",
            _outcome(lambda: s3.list_objects_v2(Bucket=ingest)),
        ),
        Probe(
            "read another environment's table",
            f"GetItem {other_table}",
            "AccessDeniedException",
            _outcome(lambda: ddb.get_item(TableName=other_table, Key=key)),
        ),
        Probe(
            "write another environment's table inside a transaction",
            f"TransactWriteItems {table} + {other_table}",
            "AccessDeniedException",
            _outcome(transact_into_both),
        ),
        Probe(
            "read an upload deleted before it was processed",
            f"GetObject s3://{ingest}/{gone}",
            "NoSuchKey",  # the handler's "object gone" path; 403 would be retried
            _outcome(lambda: s3.get_object(Bucket=ingest, Key=gone)),
        ),
    ]
