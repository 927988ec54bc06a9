"""`query`: the one-minute bars of a symbol over a time range, from an environment's table.

Bars live in the symbol's partition (``SYMBOL#<SYMBOL>``) under sort keys
``BAR#1m#<YYYY-MM-DDTHH:MM>Z``, which sort in time order; bookkeeping items share the partition
under other prefixes. A range is one Query: ``BETWEEN`` the first and the last minute wanted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from boto3.dynamodb.types import TypeDeserializer

from operations.errors import OperationsError
from processor.contract import (
    BAR_SORT_KEY_PREFIX,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    bar_partition_key,
    bar_sort_key,
)
from processor.records import SYMBOL_PATTERN

__all__ = ["BarRange", "parse_moment", "print_bars", "read_bars"]

_MINUTE = timedelta(minutes=1)
COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "trade_count")


def parse_moment(text: str, option: str) -> datetime:
    """An ISO-8601 time with a zone, or a date (midnight UTC), as an aware datetime."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OperationsError(
            f"{option} {text!r}: allowed an ISO-8601 time with a zone, such as "
            "2026-11-20T14:30Z or 2026-11-20T15:30+01:00, or a date such as 2026-11-20"
        ) from None
    if moment.tzinfo is None:
        raise OperationsError(
            f"{option} {text!r} has no zone; add Z (UTC) or an offset such as +01:00"
        )
    return moment.astimezone(UTC)


def _label(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class BarRange:
    """The bars of ``symbol`` whose minute starts in [start, end) (UTC); open ends allowed."""

    symbol: str
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if not self.symbol.strip():
            raise OperationsError("--symbol: give a symbol, such as AAPL")
        if re.fullmatch(SYMBOL_PATTERN, self.symbol.strip()) is None:
            raise OperationsError(
                f"--symbol {self.symbol!r} is not a valid symbol (the processor stores no bars "
                "under it); allowed: 1-16 characters of A-Z a-z 0-9 . - starting with a letter"
            )
        if self.start and self.end and self.end <= self.start:
            raise OperationsError(
                f"--to {self.end:%Y-%m-%dT%H:%MZ} is not after --from {self.start:%Y-%m-%dT%H:%MZ}"
            )

    def key_condition(self) -> tuple[str, dict[str, Any]]:
        """The Query's KeyConditionExpression and its values (low-level attribute values)."""
        values: dict[str, Any] = {":pk": {"S": bar_partition_key(self.symbol.strip().upper())}}
        if self.start is None and self.end is None:
            values[":bars"] = {"S": BAR_SORT_KEY_PREFIX}
            return f"{TABLE_PARTITION_KEY} = :pk AND begins_with({TABLE_SORT_KEY}, :bars)", values
        first = BAR_SORT_KEY_PREFIX
        if self.start is not None:  # a bar whose minute began before `start` is not in range
            start = self.start.replace(second=0, microsecond=0)
            first = bar_sort_key(_label(start if start == self.start else start + _MINUTE))
        # "~" sorts after every digit: the open end stays within the bars
        last = BAR_SORT_KEY_PREFIX + "~"
        if self.end is not None:
            end = self.end.replace(second=0, microsecond=0)
            last = bar_sort_key(_label(end if end < self.end else end - _MINUTE))
        values[":first"], values[":last"] = {"S": first}, {"S": last}
        return f"{TABLE_PARTITION_KEY} = :pk AND {TABLE_SORT_KEY} BETWEEN :first AND :last", values


def read_bars(ddb: Any, table: str, wanted: BarRange) -> Iterator[dict[str, Any]]:
    """The stored bars, oldest first, as plain values (numbers exact, as Decimal)."""
    condition, values = wanted.key_condition()
    if ":first" in values and values[":first"]["S"] > values[":last"]["S"]:
        return  # the range holds no whole minute
    deserialise = TypeDeserializer().deserialize
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }
    while True:
        page = ddb.query(**request)
        for item in page["Items"]:
            yield {name: deserialise(value) for name, value in item.items()}
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _minute(bar: dict[str, Any]) -> str:
    return str(bar[TABLE_SORT_KEY]).removeprefix(BAR_SORT_KEY_PREFIX)


def _plain(value: Any) -> str:
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def print_bars(bars: Iterator[dict[str, Any]], out: TextIO, as_json: bool = False) -> int:
    """Write the bars as a table (or JSON Lines); return how many there were."""
    count = 0
    if as_json:
        for bar in bars:
            record = {"minute": _minute(bar)} | {c: _plain(bar[c]) for c in COLUMNS if c in bar}
            out.write(json.dumps(record) + "\n")
            count += 1
        return count
    rows = [(_minute(bar), *(_plain(bar.get(c, "")) for c in COLUMNS)) for bar in bars]
    header = ("MINUTE (UTC)", *(c.upper().replace("_COUNT", "S") for c in COLUMNS))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.write("  ".join(cells) + "\n")
    return len(rows)
