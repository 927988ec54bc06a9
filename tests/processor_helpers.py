"""Helpers shared by the processor tests: an independent oracle, reading back bars and archives.

``expected_bars`` knows nothing of the processor: it aggregates plain trade dicts with plain
``Decimal`` arithmetic, the way the contract states the bars, so a test that compares stored
bars with it can fail when the processor is wrong.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from tests.analytics_table import create_analytics_table

TABLE, ARCHIVE, INGEST, REGION = "dev-analytics", "dev-archive", "dev-ingest", "us-east-1"
Items = dict[tuple[str, str], dict[str, Any]]


def expected_bars(*batches: Iterable[dict[str, Any]]) -> Items:
    """The bar items of ``batches`` of *valid* trades (epoch-ms timestamps), as the contract
    defines them: a trade id repeated inside one batch counts once (its first occurrence)."""
    trades = []
    for batch in batches:
        seen: set[str] = set()
        for trade in batch:
            if trade["trade_id"] not in seen:
                seen.add(trade["trade_id"])
                trades.append(trade)
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for trade in trades:
        groups[(trade["symbol"].upper(), int(trade["timestamp"]) // 60_000)].append(trade)
    out: Items = {}
    with localcontext() as context:
        context.prec = 200
        for (symbol, minute), members in groups.items():
            ordered = sorted(
                members,
                key=lambda t: (int(t["timestamp"]), t["trade_id"], Decimal(str(t["price"]))),
            )
            prices = [Decimal(str(t["price"])) for t in members]
            quantities = [Decimal(str(t["quantity"])) for t in members]
            volume = sum(quantities, Decimal(0))
            notional = sum((p * q for p, q in zip(prices, quantities, strict=True)), Decimal(0))
            label = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%MZ")
            key = (f"SYMBOL#{symbol}", f"BAR#1m#{label}")
            out[key] = {
                "pk": key[0],
                "sk": key[1],
                "open": Decimal(str(ordered[0]["price"])),
                "high": max(prices),
                "low": min(prices),
                "close": Decimal(str(ordered[-1]["price"])),
                "volume": volume,
                "notional": notional,
                "vwap": (notional / volume).quantize(Decimal("1e-8"), ROUND_HALF_EVEN),
                "trade_count": Decimal(len(members)),
                "open_ts": Decimal(int(ordered[0]["timestamp"])),
                "close_ts": Decimal(int(ordered[-1]["timestamp"])),
                "open_trade_id": ordered[0]["trade_id"],
                "close_trade_id": ordered[-1]["trade_id"],
            }
    return out


def stored_bars(ddb: Any) -> Items:
    """Every bar item, keyed by (pk, sk), numbers as Decimal."""
    out: Items = {}
    for page in ddb.get_paginator("scan").paginate(TableName=TABLE):
        for item in page["Items"]:
            if not item["sk"]["S"].startswith("BAR#"):
                continue
            out[(item["pk"]["S"], item["sk"]["S"])] = {
                k: Decimal(v["N"]) if "N" in v else v["S"] for k, v in item.items()
            }
    return out


def all_items(ddb: Any) -> list[dict[str, Any]]:
    items = [i for p in ddb.get_paginator("scan").paginate(TableName=TABLE) for i in p["Items"]]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def archive_lines(s3: Any, prefix: str = "") -> dict[str, list[bytes]]:
    """Archive objects under ``prefix``: key -> the raw lines of each gzip JSON Lines object."""
    out = {}
    for obj in s3.list_objects_v2(Bucket=ARCHIVE, Prefix=prefix).get("Contents", []):
        if obj["Key"].endswith(".jsonl.gz"):
            body = s3.get_object(Bucket=ARCHIVE, Key=obj["Key"])["Body"].read()
            out[obj["Key"]] = jsonl_lines(gzip.decompress(body))
    return out


def jsonl_lines(data: bytes) -> list[bytes]:
    """The lines of JSON Lines text: split at "\n" only. A raw "\r" is JSON whitespace and may
    sit inside a line kept as received, where ``bytes.splitlines`` would cut it."""
    return data.removesuffix(b"\n").split(b"\n") if data else []


def strict_json(line: bytes) -> Any:
    """``line`` decoded as RFC 8259 JSON: UTF-8, no NaN/Infinity tokens (raises otherwise)."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")

    return json.loads(line.decode("utf-8"), parse_constant=refuse)


def archive(s3: Any, prefix: str = "") -> dict[str, list[Any]]:
    """Archive objects under ``prefix``: key -> decoded lines (strict JSON, or it fails)."""
    return {
        key: [strict_json(line) for line in lines]
        for key, lines in archive_lines(s3, prefix).items()
    }


def archive_keys(s3: Any, prefix: str = "") -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=ARCHIVE, Prefix=prefix).get("Contents", [])]


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


def upload(s3: Any, key: str, body: bytes) -> dict[str, Any]:
    """Put ``body`` at ``key`` of the ingest bucket; the notification S3 would send for it."""
    put = s3.put_object(Bucket=INGEST, Key=key, Body=body)
    return s3_event(key.replace(" ", "+"), etag=put["ETag"], version=put.get("VersionId"))


def jsonl(records: Iterable[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def create_resources(ddb: Any, s3: Any, *, versioned: bool = False) -> None:
    """The table and buckets as the infrastructure defines them (keys, TTL attribute)."""
    create_analytics_table(ddb, TABLE)
    ddb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    for bucket in (ARCHIVE, INGEST):
        s3.create_bucket(Bucket=bucket)
        if versioned:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def as_items(bars: dict[tuple[str, int], Any]) -> dict[tuple[str, str], dict[str, object]]:
    """Bars in the oracle's shape (plain field reads; no code of the store)."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    for bar in bars.values():
        label = datetime.fromtimestamp(bar.minute_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")
        key = (f"SYMBOL#{bar.symbol}", f"BAR#1m#{label}")
        out[key] = (
            {"pk": key[0], "sk": key[1]}
            | {
                name: getattr(bar, name)
                for name in ("open", "high", "low", "close", "volume", "notional", "vwap")
            }
            | {
                "trade_count": Decimal(bar.trade_count),
                "open_ts": Decimal(bar.open_ts),
                "close_ts": Decimal(bar.close_ts),
                "open_trade_id": bar.open_trade_id,
                "close_trade_id": bar.close_trade_id,
            }
        )
    return out
