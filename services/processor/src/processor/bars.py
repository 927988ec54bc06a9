"""One-minute bars: exact aggregation of trades, the merge of two partial bars, their limits.

Every field is a commutative, associative fold (sums, min/max, and open/close picked by the
smallest/largest ``(timestamp, trade_id)``), so any split of the trades into batches, merged
in any order, gives the same bar. ``block_bars`` is also the bulk form of validation: it
aggregates a decoded block and checks the values it has not seen validated on the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation, localcontext
from functools import lru_cache
from typing import Any, Final

import msgspec

from processor.records import (
    MAX_DECIMAL_PLACES,
    MAX_VALUE,
    Trade,
    canonical_symbol,
    columns_valid,
)

__all__ = [
    "MAX_BAR_NOTIONAL",
    "MAX_BAR_VOLUME",
    "MINUTE_MS",
    "Bar",
    "BarKey",
    "aggregate",
    "block_bars",
    "exceeds_limits",
    "merge",
    "merge_into",
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
#: The same, where a comparison with NaN must raise too (checks of values not yet valid).
CHECKS: Final = Context(prec=80, traps=[Inexact, InvalidOperation])
_DIVISION: Final = Context(prec=60, rounding=ROUND_HALF_EVEN)


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
    # The price breaks a tie too: two batches may carry one trade id at one millisecond.
    first = a if (a.open_ts, a.open_trade_id, a.open) <= (b.open_ts, b.open_trade_id, b.open) else b
    last = (
        a
        if (a.close_ts, a.close_trade_id, a.close) >= (b.close_ts, b.close_trade_id, b.close)
        else b
    )
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


def _fold(trades: Iterable[Trade]) -> dict[tuple[str, int], list[Any]]:
    """One pass over the trades, bar by bar (run under an exact context): ``[high, low,
    volume, notional, count, first trade, last trade]`` per ``(symbol, minute index)``, the
    first and last by ``(timestamp, trade_id)``. The one Python-level loop per trade, kept
    minimal (plain statements and locals: every bytecode counts here)."""
    acc: dict[tuple[str, int], list[Any]] = {}
    get = acc.get
    minute = MINUTE_MS
    for trade in trades:
        price = trade.price
        quantity = trade.quantity
        ts = trade.timestamp
        key = (trade.symbol, ts // minute)
        bar = get(key)
        if bar is None:
            acc[key] = [price, price, quantity, price * quantity, 1, trade, trade]
            continue
        if price > bar[0]:
            bar[0] = price
        elif price < bar[1]:
            bar[1] = price
        bar[2] += quantity
        bar[3] += price * quantity
        bar[4] += 1
        last = bar[6]
        if ts >= last.timestamp and (ts > last.timestamp or trade.trade_id > last.trade_id):
            bar[6] = trade
        else:  # (a later trade cannot also be earlier than the first)
            first = bar[5]
            if ts <= first.timestamp and (ts < first.timestamp or trade.trade_id < first.trade_id):
                bar[5] = trade
    return acc


def _bar(key: tuple[str, int], a: list[Any]) -> Bar:
    volume = a[2] if isinstance(a[2], Decimal) else Decimal(a[2])  # all integer quantities
    first, last = a[5], a[6]
    return Bar(
        key[0],
        key[1] * MINUTE_MS,
        first.price,
        a[0],
        a[1],
        last.price,
        volume,
        a[3],
        a[4],
        first.timestamp,
        first.trade_id,
        last.timestamp,
        last.trade_id,
    )


def merge_into(bars: dict[BarKey, Bar], partial: Iterable[Bar]) -> None:
    """Merge partial bars into ``bars`` (exact, order-free)."""
    with localcontext(SUMS):
        for bar in partial:
            old = bars.get(bar.key)
            bars[bar.key] = bar if old is None else merge(old, bar)


def aggregate(trades: Iterable[Trade], bars: dict[BarKey, Bar]) -> None:
    """Fold valid ``trades`` into ``bars`` in place."""
    with localcontext(SUMS):
        partial = [_bar(key, acc) for key, acc in _fold(trades).items()]
    merge_into(bars, partial)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else -(10**9)  # NaN and infinities: never fine


def block_bars(trades: Sequence[Trade]) -> dict[BarKey, Bar] | None:
    """The bars of a block of trades as msgspec decoded them, if every trade is what
    ``records.validate`` returns for its record; None means "take the precise path".

    msgspec enforced ``Trade``'s own constraints (integer quantities' range included); the
    rest is read off the bars: each symbol (one per bar, not per trade) is canonical, every
    price lies between a bar's low and high, and an exact sum has the smallest exponent of
    its terms — so with integer quantities a bar's notional has the exponent of its most
    precise price, and a volume that is not an integer tells the quantities' places (then
    ``records.columns_valid`` checks the columns). Comparing a NaN or an inexact sum raises,
    which also means "take the precise path".
    """
    with localcontext(CHECKS):
        try:
            folded = _fold(trades)
            if not all(map(canonical_symbol, {symbol for symbol, _ in folded})):
                return None
            integral = True
            bars = {}
            for key, acc in folded.items():
                if not (acc[1] > 0 and acc[0] < MAX_VALUE):
                    return None
                if isinstance(acc[2], int):
                    if _exponent(acc[3]) < -MAX_DECIMAL_PLACES:
                        return None
                elif _exponent(acc[2]) < -MAX_DECIMAL_PLACES:
                    return None
                else:
                    integral = False
                bar = _bar(key, acc)
                bars[bar.key] = bar
            if not integral and not columns_valid(trades):
                return None
        except ArithmeticError:
            return None
    return bars
