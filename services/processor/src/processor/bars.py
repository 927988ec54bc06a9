"""One-minute bars: exact aggregation of trades and the merge of two partial bars.

Every field is a commutative, associative fold (sums, min/max, and open/close picked by the
smallest/largest ``(timestamp, trade_id)``), so any split of the trades into batches, merged
in any order, gives the same bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext
from typing import Final

from processor.records import Trade

__all__ = ["Bar", "BarKey", "aggregate", "merge", "minute_label"]

BarKey = tuple[str, int]
"""``(SYMBOL, minute start in epoch ms)``."""

_MINUTE_MS: Final = 60_000
_VWAP_PLACES: Final = Decimal("1e-8")
#: Exact arithmetic: DynamoDB keeps 38 significant digits; anything that would round raises.
EXACT: Final = Context(prec=38, traps=[Inexact])
_DIVISION: Final = Context(prec=60, rounding=ROUND_HALF_EVEN)


def minute_label(minute_ms: int) -> str:
    """``2026-11-22T10:05Z`` for the minute starting at ``minute_ms``."""
    return datetime.fromtimestamp(minute_ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(slots=True)
class Bar:
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

    @classmethod
    def of(cls, trade: Trade) -> Bar:
        p, ts, tid = trade.price, trade.timestamp, trade.trade_id
        return cls(
            trade.symbol,
            ts - ts % _MINUTE_MS,
            p,
            p,
            p,
            p,
            trade.quantity,
            EXACT.multiply(p, trade.quantity),
            1,
            ts,
            tid,
            ts,
            tid,
        )


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
        EXACT.add(a.volume, b.volume),
        EXACT.add(a.notional, b.notional),
        a.trade_count + b.trade_count,
        first.open_ts,
        first.open_trade_id,
        last.close_ts,
        last.close_trade_id,
    )


def aggregate(trades: Iterable[Trade], bars: dict[BarKey, Bar]) -> None:
    """Fold ``trades`` into ``bars`` in place (the hot loop: keep it flat)."""
    with localcontext(EXACT):
        for t in trades:
            ts = t.timestamp
            key = (t.symbol, ts - ts % _MINUTE_MS)
            bar = bars.get(key)
            if bar is None:
                bars[key] = Bar.of(t)
                continue
            p = t.price
            if p > bar.high:
                bar.high = p
            elif p < bar.low:
                bar.low = p
            bar.volume += t.quantity
            bar.notional += p * t.quantity
            bar.trade_count += 1
            tid = t.trade_id
            if ts < bar.open_ts or (ts == bar.open_ts and tid < bar.open_trade_id):
                bar.open, bar.open_ts, bar.open_trade_id = p, ts, tid
            if ts > bar.close_ts or (ts == bar.close_ts and tid > bar.close_trade_id):
                bar.close, bar.close_ts, bar.close_trade_id = p, ts, tid
