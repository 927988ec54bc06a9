"""DynamoDB adapter: the batch ledger and exactly-once, order-free merging of bars.

Design (README, "Exactly-once merge"): every touched bar is written with two puts in one
``TransactWriteItems`` — an *applied marker* ``(bar, batch)`` that must not exist yet, and the
merged bar, conditioned on the ``trade_count`` we read (a strictly growing version). A
redelivered batch finds its markers and changes nothing; a concurrent writer makes our
condition fail, DynamoDB hands back the current bar (``ALL_OLD``) and we merge again.
Markers and the ledger carry ``expires_at`` (TTL); bars never do.

One transaction carries the pairs of up to 50 bars (DynamoDB's 100 items), each pair with its
own conditions: a cancelled transaction writes nothing and reports every item's reason, so
each bar is handled exactly as if it were alone, and the rest are simply sent again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec
from botocore.exceptions import ClientError

from processor.bars import MINUTE_MS, Bar, BarKey, exceeds_limits, merge, minute_label
from processor.contract import (
    SYMBOL_PARTITION_KEY_PREFIX,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
    bar_partition_key,
    bar_sort_key,
)
from processor.errors import BarContentionError, BatchConflictError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "Applied",
    "Current",
    "DynamoBarStore",
    "Ledger",
    "bar_from_item",
    "bar_item",
    "bar_keys",
]

MAX_ATTEMPTS: Final = 12
#: Two items per bar; DynamoDB allows 100 items per TransactWriteItems.
BARS_PER_TRANSACTION: Final = 50
_BATCH_GET_LIMIT: Final = 100
_LEDGER_SK: Final = "LEDGER"

Item = Mapping[str, Any]
_T = TypeVar("_T")
_R = TypeVar("_R")


def bar_keys(symbol: str, minute_ms: int) -> dict[str, dict[str, str]]:
    """The table key of a bar."""
    return {
        TABLE_PARTITION_KEY: {"S": bar_partition_key(symbol)},
        TABLE_SORT_KEY: {"S": bar_sort_key(minute_label(minute_ms))},
    }


def _marker_keys(symbol: str, minute_ms: int, batch_id: str) -> dict[str, dict[str, str]]:
    """The key of the item that says "this batch is in this bar"."""
    return {
        TABLE_PARTITION_KEY: {"S": bar_partition_key(symbol)},
        TABLE_SORT_KEY: {"S": f"APPLIED#1m#{minute_label(minute_ms)}#{batch_id}"},
    }


def bar_item(bar: Bar) -> dict[str, dict[str, str]]:
    """A bar as a DynamoDB item: exact decimals as Number strings, never floats."""
    return bar_keys(bar.symbol, bar.minute_ms) | {
        "open": {"N": str(bar.open)},
        "high": {"N": str(bar.high)},
        "low": {"N": str(bar.low)},
        "close": {"N": str(bar.close)},
        "volume": {"N": str(bar.volume)},
        "notional": {"N": str(bar.notional)},
        "vwap": {"N": str(bar.vwap)},
        "trade_count": {"N": str(bar.trade_count)},
        "open_ts": {"N": str(bar.open_ts)},
        "close_ts": {"N": str(bar.close_ts)},
        "open_trade_id": {"S": bar.open_trade_id},
        "close_trade_id": {"S": bar.close_trade_id},
    }


def bar_from_item(item: Item) -> Bar:
    def n(name: str) -> Decimal:
        return Decimal(item[name]["N"])

    open_ts = int(item["open_ts"]["N"])
    return Bar(
        item[TABLE_PARTITION_KEY]["S"].removeprefix(SYMBOL_PARTITION_KEY_PREFIX),
        open_ts - open_ts % MINUTE_MS,
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


class Ledger(msgspec.Struct, frozen=True):
    """The batch's ledger entry: first receipt (time and source), and whether it completed.

    ``created``: this claim created it, so no earlier attempt of the batch wrote a marker.
    """

    received_at_ms: int
    complete: bool
    source: str
    created: bool = False


class Current(msgspec.Struct):
    """The touched bars as stored, and those that already hold this batch (marker found)."""

    bars: dict[BarKey, Bar]
    applied: set[BarKey]


class Applied(msgspec.Struct):
    """What a merge wrote: the bars as stored after it, and bars it refused (over a limit)."""

    stored: list[Bar]
    refused: list[BarKey]


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


class DynamoBarStore:
    """Ledger and bar writes against one table; calls fan out on ``executor``.

    ``concurrency`` is how many calls the executor runs at once: the bars of a batch are
    spread over that many transactions (up to 50 bars each), so a small batch still writes
    in parallel and a large one makes few round trips.
    """

    def __init__(
        self,
        ddb: DynamoDBClient,
        table: str,
        executor: Executor,
        ttl_s: int,
        concurrency: int = 16,
    ) -> None:
        self._ddb, self._table, self._executor, self._ttl_s = ddb, table, executor, ttl_s
        self._concurrency = concurrency

    def _ledger_key(self, batch_id: str) -> dict[str, dict[str, str]]:
        return {TABLE_PARTITION_KEY: {"S": f"BATCH#{batch_id}"}, TABLE_SORT_KEY: {"S": _LEDGER_SK}}

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
            TABLE_TTL_ATTRIBUTE: {"N": str(now_ms // 1000 + self._ttl_s)},
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
            return Ledger(
                int(old["received_at"]["N"]),
                old["status"]["S"] == "complete",
                old.get("source", {}).get("S", ""),
            )
        return Ledger(now_ms, complete=False, source=source, created=True)

    def complete(self, batch_id: str) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key=self._ledger_key(batch_id),
            UpdateExpression="SET #s = :done",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": {"S": "complete"}},
        )

    def read(self, keys: Iterable[BarKey], batch_id: str | None = None) -> Current:
        """Current bars (strongly consistent) and, given ``batch_id``, which of them already
        hold it: 100 keys per request, requests in parallel."""
        wanted: list[Item] = []
        markers: dict[tuple[str, str], BarKey] = {}
        for key in keys:
            wanted.append(bar_keys(*key))
            if batch_id is not None:
                marker = _marker_keys(*key, batch_id)
                markers[_pk_sk(marker)] = key
                wanted.append(marker)
        parts = [wanted[i : i + _BATCH_GET_LIMIT] for i in range(0, len(wanted), _BATCH_GET_LIMIT)]
        current = Current({}, set())
        for items in self._in_lanes(self._batch_gets, parts):
            for item in items:
                marked = markers.get(_pk_sk(item))
                if marked is not None:
                    current.applied.add(marked)
                else:
                    bar = bar_from_item(item)
                    current.bars[bar.key] = bar
        return current

    def _in_lanes(self, work: Callable[[list[_T]], list[_R]], parts: list[_T]) -> Iterator[_R]:
        """``work`` over ``parts`` on at most ``concurrency`` pool threads, one task each (a
        task per part would cost a thread wake-up and a handover of the GIL per part)."""
        lanes = min(self._concurrency, len(parts))
        jobs = [self._executor.submit(work, parts[lane::lanes]) for lane in range(lanes)]
        for job in jobs:
            yield from job.result()

    def _batch_gets(self, parts: list[list[Item]]) -> list[list[Item]]:
        return [self._batch_get(keys) for keys in parts]

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
    ) -> Applied:
        """Merge each bar of the batch into the table exactly once.

        A bar whose merge with what is stored now would pass the bar limits is not written and
        is returned in ``refused``; that can only happen here when another writer grew it
        since it was read (the service checked it against what it read).
        """
        todo = list(bars)
        size = min(BARS_PER_TRANSACTION, max(1, -(-len(todo) // self._concurrency)))
        groups = [todo[i : i + size] for i in range(0, len(todo), size)]

        def transactions(lane: list[list[Bar]]) -> list[Applied]:
            return [self._apply_group(group, current, batch_id, expires_at) for group in lane]

        applied = Applied([], [])
        for part in self._in_lanes(transactions, groups):
            applied.stored += part.stored
            applied.refused += part.refused
        return applied

    def _apply_group(
        self, bars: list[Bar], current: Mapping[BarKey, Bar], batch_id: str, expires_at: int
    ) -> Applied:
        """Write ``bars`` in one transaction, retrying only the bars that are not settled.

        A bar is settled when the transaction commits, when its marker already exists (the
        batch is in that bar), or when it is refused. A bar whose version changed is merged
        again with the current item; a transaction conflict is retried after a jittered pause.
        """
        stored = {bar.key: current.get(bar.key) for bar in bars}
        done: dict[BarKey, Bar] = {}
        refused: list[BarKey] = []
        pending = bars
        expires = str(expires_at)
        for attempt in range(MAX_ATTEMPTS):
            merged = [_merged(stored[bar.key], bar) for bar in pending]
            over = {bar.key for bar in merged if exceeds_limits(bar)}
            if over:
                refused += over
                merged = [bar for bar in merged if bar.key not in over]
                pending = [bar for bar in pending if bar.key not in over]
            if not pending:
                break
            try:
                self._ddb.transact_write_items(
                    TransactItems=self._transaction(merged, stored, batch_id, expires)
                )
            except ClientError as err:
                if _code(err) != "TransactionCanceledException":
                    raise
                from processor.cancellations import settle  # loaded on the first cancellation

                if not settle(err, merged, stored, done):
                    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))
                pending = [bar for bar in pending if bar.key not in done]
            else:
                done.update((bar.key, bar) for bar in merged)
                pending = []
            if not pending:
                break
        else:
            first = pending[0]
            raise BarContentionError(
                f"bar {first.symbol} {minute_label(first.minute_ms)} changed under every one of "
                f"{MAX_ATTEMPTS} attempts"
            )
        return Applied([done[bar.key] for bar in bars if bar.key in done], refused)

    def _transaction(
        self, merged: list[Bar], stored: Mapping[BarKey, Bar | None], batch_id: str, expires: str
    ) -> list[Any]:
        """Two puts per bar: the marker that must not exist, the bar at the version read."""
        items: list[Any] = []
        for bar in merged:
            marker = _marker_keys(bar.symbol, bar.minute_ms, batch_id) | {
                TABLE_TTL_ATTRIBUTE: {"N": expires}
            }
            put: dict[str, Any] = {
                "TableName": self._table,
                "Item": bar_item(bar),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            old = stored[bar.key]
            if old is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "trade_count = :n"
                put["ExpressionAttributeValues"] = {":n": {"N": str(old.trade_count)}}
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": marker,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            items.append({"Put": put})
        return items


def _merged(stored: Bar | None, bar: Bar) -> Bar:
    return bar if stored is None else merge(stored, bar)


def _pk_sk(item: Item) -> tuple[str, str]:
    return item[TABLE_PARTITION_KEY]["S"], item[TABLE_SORT_KEY]["S"]
