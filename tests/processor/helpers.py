"""Helpers shared by the processor tests: reading back bars and archives."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from typing import Any

TABLE, ARCHIVE, INGEST = "dev-analytics", "dev-archive", "dev-ingest"


def stored_bars(ddb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every bar item, keyed by (pk, sk), numbers as Decimal."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=TABLE):
        for item in page["Items"]:
            if not item["sk"]["S"].startswith("BAR#"):
                continue
            out[(item["pk"]["S"], item["sk"]["S"])] = {
                k: Decimal(v["N"]) if "N" in v else v["S"] for k, v in item.items()
            }
    return out


def all_items(ddb: Any) -> list[dict[str, Any]]:
    return [i for p in ddb.get_paginator("scan").paginate(TableName=TABLE) for i in p["Items"]]


def archive(s3: Any, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Archive objects under ``prefix``: key -> decoded JSON lines."""
    out = {}
    for obj in s3.list_objects_v2(Bucket=ARCHIVE, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=ARCHIVE, Key=obj["Key"])["Body"].read()
        if obj["Key"].endswith(".gz"):
            out[obj["Key"]] = [json.loads(line) for line in gzip.decompress(body).splitlines()]
        else:
            out[obj["Key"]] = [{"bytes": len(body)}]
    return out


def s3_event(
    key: str, etag: str = "e1", bucket: str = INGEST, version: str | None = None
) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": key, "eTag": etag, "size": 1}
    if version:
        obj["versionId"] = version
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": obj},
            }
        ]
    }


def expected_bars(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The bar items one batch of ``records`` must give, computed by the pure core alone."""
    from processor.bars import Bar, aggregate
    from processor.records import RecordError, validate
    from processor.store import bar_item

    trades, seen = [], set()
    for record in records:
        try:
            trade = validate(record)
        except RecordError:
            continue
        if trade.trade_id not in seen:
            seen.add(trade.trade_id)
            trades.append(trade)
    bars: dict[tuple[str, int], Bar] = {}
    aggregate(trades, bars)
    out = {}
    for bar in bars.values():
        item = bar_item(bar)
        out[(item["pk"]["S"], item["sk"]["S"])] = {
            k: Decimal(v["N"]) if "N" in v else v["S"] for k, v in item.items()
        }
    return out
