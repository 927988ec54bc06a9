"""The pure core of one batch: chunks in, bars and archive lines out, counts kept.

Holds only the bars, a compact set of seen trade ids and the first few rejections for the
response; accepted trades and rejections stream out to the two sinks as gzip-ready lines.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from processor.bars import Bar, BarKey, aggregate
from processor.decode import Chunk, Rejection

__all__ = ["BatchResult", "TradeIdSet", "consume", "rejection_line"]

#: Rejections kept in memory for the response; all of them go to the archive.
REPORTED_REJECTIONS: Final = 1_000
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")

Sink = Callable[[bytes], None]


class TradeIdSet:
    """Trade ids seen in one batch, exact up to a 64-bit hash collision (p < 1e-7 per 1e6 ids).

    A plain ``set`` while small (fast), then an open-addressing table of 64-bit fingerprints
    in an ``array`` (16 bytes per id instead of ~70), so memory stays far below the 64 MB
    budget of P-4 even for millions of trades.
    """

    def __init__(self, compact_after: int = 200_000) -> None:
        self._small: set[int] | None = set()
        self._compact_after = compact_after
        self._table = array("Q")
        self._used = 0

    def add(self, trade_id: str) -> bool:
        """Record ``trade_id``; return ``False`` if it was already there."""
        fingerprint = (hash(trade_id) & 0xFFFF_FFFF_FFFF_FFFF) | 1
        small = self._small
        if small is not None:
            if fingerprint in small:
                return False
            small.add(fingerprint)
            if len(small) > self._compact_after:
                self._grow(small, len(small))
                self._small = None
            return True
        return self._insert(fingerprint)

    def _insert(self, fingerprint: int) -> bool:
        table = self._table
        mask = len(table) - 1
        slot = fingerprint & mask
        while True:
            current = table[slot]
            if current == 0:
                table[slot] = fingerprint
                self._used += 1
                if self._used * 2 > len(table):
                    self._grow(table, self._used)
                return True
            if current == fingerprint:
                return False
            slot = (slot + 1) & mask

    def _grow(self, values: Iterable[int], count: int) -> None:
        """Rehash into a table twice the size (load <= 1/2), streaming from the old one."""
        self._table = array("Q", bytes(8 << max(16, (count * 2).bit_length())))
        self._used = 0
        for value in values:
            if value:
                self._insert(value)


@dataclass(slots=True)
class BatchResult:
    """What one batch amounted to, before anything was written."""

    bars: dict[BarKey, Bar] = field(default_factory=dict)
    accepted: int = 0
    rejected: int = 0
    reported: list[Rejection] = field(default_factory=list)
    fingerprint: str = ""


def rejection_line(batch_id: str, source: str, rejection: Rejection) -> dict[str, Any]:
    """One line of the ``rejected/`` archive: self-contained, with the offending record."""
    return {
        "batch_id": batch_id,
        "source": source,
        "index": rejection.index,
        "trade_id": rejection.trade_id,
        "reason": rejection.reason,
        "record": rejection.record,
    }


def _encode_rejections(batch_id: str, source: str, rejections: list[Rejection]) -> bytes:
    try:
        return _ENCODER.encode_lines([rejection_line(batch_id, source, r) for r in rejections])
    except (TypeError, ValueError):
        lines = [
            rejection_line(batch_id, source, r) | {"record": repr(r.record)} for r in rejections
        ]
        return _ENCODER.encode_lines(lines)


def consume(
    chunks: Iterable[Chunk], batch_id: str, source: str, accepted: Sink, rejected: Sink
) -> BatchResult:
    """Aggregate ``chunks``; stream accepted trades and rejections (with reasons) to the sinks.

    A ``trade_id`` seen before in the batch is rejected, so it is counted once.
    """
    result = BatchResult()
    seen = TradeIdSet()
    digest = hashlib.sha256()
    for chunk in chunks:
        rejections = chunk.rejections
        trades = []
        for index, trade in chunk.trades:
            if seen.add(trade.trade_id):
                trades.append(trade)
            else:
                rejections.append(
                    Rejection(
                        index,
                        trade.trade_id,
                        "trade_id: repeated within the batch; the first occurrence was counted",
                        trade,
                    )
                )
        if trades:
            aggregate(trades, result.bars)
            lines = _ENCODER.encode_lines(trades)
            digest.update(lines)
            accepted(lines)
            result.accepted += len(trades)
        if rejections:
            rejections.sort(key=lambda r: -1 if r.index is None else r.index)
            rejected(_encode_rejections(batch_id, source, rejections))
            result.rejected += len(rejections)
            room = REPORTED_REJECTIONS - len(result.reported)
            result.reported.extend(rejections[: max(0, room)])
    result.fingerprint = digest.hexdigest()
    return result
