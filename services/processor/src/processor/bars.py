"""One-minute bars: exact aggregation of trades, the merge of two partial bars, their limits.

Every field is a commutative, associative fold (sums, min/max, and open/close picked by the
smallest/largest ``(timestamp, trade_id)``), so any split of the trades into batches, merged
in any order, gives the same bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext
from functools import lru_cache
from operator import attrgetter, mul
from typing import Final

import msgspec

from processor.records import Trade

__all__ = [
    "MAX_BAR_NOTIONAL",
    "MAX_BAR_VOLUME",
    "MINUTE_MS",
    "Bar",
    "BarKey",
    "aggregate",
    "exceeds_limits",
    "merge",
    "minute_label",
]

BarKey = tuple[str, int]
"""``(SYMBOL, minute start in epoch ms)``."""

MINUTE_MS: Final = 60_000
#: A bar's volume and notional stay below these: with prices and quantities of at most 8
#: decimal places, a notional has at most 16, so 22 integer digits keep it within DynamoDB's
#: 38 significant digits after any number of merges. Trades that would pass them are refused.
MAX_BAR_VOLUME: Final = Decimal(10) ** 22
MAX_BAR_NOTIONAL: Final = Decimal(10) ** 22
_VWAP_PLACES: Final = Decimal("1e-8")
#: In-memory sums: room for any batch within the limits, and never a silent rounding.
SUMS: Final = Context(prec=80, traps=[Inexact])
_DIVISION: Final = Context(prec=60, rounding=ROUND_HALF_EVEN)
_PRICE, _QUANTITY = attrgetter("price"), attrgetter("quantity")
_TIMESTAMP, _ORDER = attrgetter("timestamp"), attrgetter("timestamp", "trade_id")


@lru_cache(maxsize=8192)
def minute_label(minute_ms: int) -> str:
    """``2026-11-22T10:05Z`` for the minute starting at ``minute_ms`` (cached: a batch
    touches few minutes, and every bar needs its label for several keys)."""
    return datetime.fromtimestamp(minute_ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


class Bar(msgspec.Struct, gc=False):
    """A (partial) one-minute bar of one symbol."""

    symbol: str
    minute_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    notional: Decimal
    trade_count: int
    open_ts: int
    open_trade_id: str
    close_ts: int
    close_trade_id: str

    @property
    def key(self) -> BarKey:
        return (self.symbol, self.minute_ms)

    @property
    def vwap(self) -> Decimal:
        """notional / volume rounded half-even to 8 places."""
        return _DIVISION.divide(self.notional, self.volume).quantize(
            _VWAP_PLACES, ROUND_HALF_EVEN, _DIVISION
        )


def exceeds_limits(bar: Bar) -> bool:
    """Whether ``bar`` could not be stored exactly (DynamoDB's 38 significant digits)."""
    return bar.volume >= MAX_BAR_VOLUME or bar.notional >= MAX_BAR_NOTIONAL


def merge(a: Bar, b: Bar) -> Bar:
    """The bar of the union of the trades of ``a`` and ``b`` (same symbol and minute)."""
    first = a if (a.open_ts, a.open_trade_id) <= (b.open_ts, b.open_trade_id) else b
    last = a if (a.close_ts, a.close_trade_id) >= (b.close_ts, b.close_trade_id) else b
    return Bar(
        a.symbol,
        a.minute_ms,
        first.open,
        max(a.high, b.high),
        min(a.low, b.low),
        last.close,
        SUMS.add(a.volume, b.volume),
        SUMS.add(a.notional, b.notional),
        a.trade_count + b.trade_count,
        first.open_ts,
        first.open_trade_id,
        last.close_ts,
        last.close_trade_id,
    )


def _by_bar(trades: Iterable[Trade]) -> dict[BarKey, list[Trade]]:
    """Group trades by bar: the one Python-level pass over every trade, kept minimal."""
    groups: dict[BarKey, list[Trade]] = {}
    for trade in trades:
        ts = trade.timestamp
        key = (trade.symbol, ts - ts % MINUTE_MS)
        members = groups.get(key)
        if members is None:
            groups[key] = [trade]
        else:
            members.append(trade)
    return groups


def _reduce(key: BarKey, group: list[Trade]) -> Bar:
    """The bar of one group, by whole-column builtins (run under ``SUMS``)."""
    prices = list(map(_PRICE, group))
    quantities = list(map(_QUANTITY, group))
    first = min(group, key=_ORDER)
    last = max(group, key=_ORDER)
    return Bar(
        key[0],
        key[1],
        first.price,
        max(prices),
        min(prices),
        last.price,
        sum(quantities, Decimal(0)),
        sum(map(mul, prices, quantities), Decimal(0)),
        len(group),
        first.timestamp,
        first.trade_id,
        last.timestamp,
        last.trade_id,
    )


def aggregate(trades: Iterable[Trade], bars: dict[BarKey, Bar]) -> None:
    """Fold ``trades`` into ``bars`` in place: group by bar, reduce each group over columns
    (the arithmetic runs in C), merge the partial bars in."""
    with localcontext(SUMS):
        for key, group in _by_bar(trades).items():
            bar = _reduce(key, group)
            old = bars.get(key)
            bars[key] = bar if old is None else merge(old, bar)
