"""DynamoDB adapter: the batch ledger and exactly-once, order-free merging of bars.

Design (see README "Exactly-once merge"): every touched bar is written by one
``TransactWriteItems`` of two puts — an *applied marker* ``(bar, batch)`` that must not exist
yet, and the merged bar, conditioned on the ``trade_count`` we read (a strictly growing
version). A redelivered batch finds its markers and changes nothing; a concurrent writer
makes our condition fail, DynamoDB hands back the current bar (``ALL_OLD``) and we merge
again. Markers and the ledger carry ``expires_at`` (TTL); bars never do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from processor.bars import Bar, BarKey, merge, minute_label
from processor.errors import BarContentionError, BatchConflictError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["BarStore", "Ledger", "bar_from_item", "bar_item", "bar_keys"]

MAX_ATTEMPTS: Final = 12
_BATCH_GET_LIMIT: Final = 100
_LEDGER_SK: Final = "LEDGER"

Item = Mapping[str, Any]


def bar_keys(symbol: str, minute_ms: int) -> dict[str, dict[str, str]]:
    """The table key of a bar (SPEC §5)."""
    return {"pk": {"S": f"SYMBOL#{symbol}"}, "sk": {"S": f"BAR#1m#{minute_label(minute_ms)}"}}


def bar_item(bar: Bar) -> dict[str, dict[str, str]]:
    """A bar as a DynamoDB item: exact decimals as Number strings, never floats."""
    item = bar_keys(bar.symbol, bar.minute_ms)
    for name in ("open", "high", "low", "close", "volume", "notional"):
        item[name] = {"N": str(getattr(bar, name))}
    item["vwap"] = {"N": str(bar.vwap)}
    for name in ("trade_count", "open_ts", "close_ts"):
        item[name] = {"N": str(getattr(bar, name))}
    item["open_trade_id"] = {"S": bar.open_trade_id}
    item["close_trade_id"] = {"S": bar.close_trade_id}
    return item


def bar_from_item(item: Item) -> Bar:
    def n(name: str) -> Decimal:
        return Decimal(item[name]["N"])

    open_ts = int(item["open_ts"]["N"])
    return Bar(
        item["pk"]["S"].removeprefix("SYMBOL#"),
        open_ts - open_ts % 60_000,
        n("open"),
        n("high"),
        n("low"),
        n("close"),
        n("volume"),
        n("notional"),
        int(item["trade_count"]["N"]),
        open_ts,
        item["open_trade_id"]["S"],
        int(item["close_ts"]["N"]),
        item["close_trade_id"]["S"],
    )


@dataclass(frozen=True, slots=True)
class Ledger:
    """The batch's ledger entry: when it was first received and whether it completed."""

    received_at_ms: int
    complete: bool


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


class BarStore:
    """Ledger and bar writes against one table; calls fan out on ``executor``."""

    def __init__(self, ddb: DynamoDBClient, table: str, executor: Executor, ttl_s: int) -> None:
        self._ddb, self._table, self._executor, self._ttl_s = ddb, table, executor, ttl_s

    def _ledger_key(self, batch_id: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"BATCH#{batch_id}"}, "sk": {"S": _LEDGER_SK}}

    def claim(
        self, batch_id: str, fingerprint: str, counts: tuple[int, int], source: str, now_ms: int
    ) -> Ledger:
        """Create the ledger entry, or return the existing one (same trades, else conflict)."""
        item = self._ledger_key(batch_id) | {
            "status": {"S": "pending"},
            "received_at": {"N": str(now_ms)},
            "fingerprint": {"S": fingerprint},
            "accepted": {"N": str(counts[0])},
            "rejected": {"N": str(counts[1])},
            "source": {"S": source},
            "expires_at": {"N": str(now_ms // 1000 + self._ttl_s)},
        }
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as err:
            if _code(err) != "ConditionalCheckFailedException":
                raise
            old: Item = (
                err.response.get("Item")
                or self._ddb.get_item(  # type: ignore[assignment]
                    TableName=self._table, Key=self._ledger_key(batch_id), ConsistentRead=True
                )["Item"]
            )
            if old["fingerprint"]["S"] != fingerprint:
                raise BatchConflictError(
                    f"batch_id {batch_id!r} was already used for different trades; "
                    "a batch id names one set of trades"
                ) from None
            return Ledger(int(old["received_at"]["N"]), old["status"]["S"] == "complete")
        return Ledger(now_ms, complete=False)

    def complete(self, batch_id: str) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key=self._ledger_key(batch_id),
            UpdateExpression="SET #s = :done",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": {"S": "complete"}},
        )

    def read(self, keys: Iterable[BarKey]) -> dict[BarKey, Bar]:
        """Current bars (strongly consistent), 100 keys per request, requests in parallel."""
        wanted = [bar_keys(symbol, minute) for symbol, minute in keys]
        parts = [wanted[i : i + _BATCH_GET_LIMIT] for i in range(0, len(wanted), _BATCH_GET_LIMIT)]
        found: dict[BarKey, Bar] = {}
        for items in self._executor.map(self._batch_get, parts):
            for item in items:
                bar = bar_from_item(item)
                found[bar.key] = bar
        return found

    def _batch_get(self, keys: Sequence[Item]) -> list[Item]:
        items: list[Item] = []
        request: Any = {self._table: {"Keys": list(keys), "ConsistentRead": True}}
        for attempt in range(MAX_ATTEMPTS):
            response = self._ddb.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(self._table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
            time.sleep(min(1.0, 0.02 * 2**attempt))
        raise BarContentionError("BatchGetItem kept returning unprocessed keys")

    def apply(
        self, bars: Iterable[Bar], batch_id: str, expires_at: int, current: Mapping[BarKey, Bar]
    ) -> list[Bar]:
        """Merge each bar of the batch into the table exactly once; return them as stored."""
        jobs = [
            self._executor.submit(self._apply_one, bar, current.get(bar.key), batch_id, expires_at)
            for bar in bars
        ]
        return [job.result() for job in jobs]

    def _apply_one(self, bar: Bar, stored: Bar | None, batch_id: str, expires_at: int) -> Bar:
        keys = bar_keys(bar.symbol, bar.minute_ms)
        marker = {
            "pk": keys["pk"],
            "sk": {"S": f"APPLIED#1m#{minute_label(bar.minute_ms)}#{batch_id}"},
            "expires_at": {"N": str(expires_at)},
        }
        for attempt in range(MAX_ATTEMPTS):
            merged = bar if stored is None else merge(stored, bar)
            put: dict[str, Any] = {
                "TableName": self._table,
                "Item": bar_item(merged),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            if stored is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "trade_count = :n"
                put["ExpressionAttributeValues"] = {":n": {"N": str(stored.trade_count)}}
            try:
                self._ddb.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": marker,
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {"Put": put},  # type: ignore[typeddict-item]
                    ]
                )
                return merged
            except ClientError as err:
                if _code(err) != "TransactionCanceledException":
                    raise
                reasons: Any = err.response.get("CancellationReasons") or [{}, {}]
                marker_code, bar_reason = reasons[0].get("Code"), reasons[1]
                if marker_code == "ConditionalCheckFailed":  # this batch is already in the bar
                    return (
                        bar_from_item(bar_reason["Item"])
                        if "Item" in bar_reason
                        else (stored or merged)
                    )
                if bar_reason.get("Code") == "ConditionalCheckFailed" and "Item" in bar_reason:
                    stored = bar_from_item(bar_reason["Item"])  # someone merged first: redo
                    continue
                if "TransactionConflict" not in (marker_code, bar_reason.get("Code")):
                    raise
                time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))
        raise BarContentionError(
            f"bar {bar.symbol} {minute_label(bar.minute_ms)} changed under every one of "
            f"{MAX_ATTEMPTS} attempts"
        )
