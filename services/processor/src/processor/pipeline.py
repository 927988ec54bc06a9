"""The pure core of one batch: chunks in, bars and archive lines out, counts kept.

Holds only the bars, a compact set of seen trade ids and the first few rejections for the
response; accepted trades and rejections stream out to the two sinks as gzip-ready lines.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any, Final

import msgspec

from processor.bars import Bar, BarKey, aggregate
from processor.decode import Chunk, Rejection
from processor.records import Trade

__all__ = ["BatchResult", "TradeIdSet", "consume", "rejection_line"]

#: Rejections kept in memory for the response; all of them go to the archive.
REPORTED_REJECTIONS: Final = 1_000
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
_MASK: Final = 0xFFFF_FFFF_FFFF_FFFF
_TRADE_ID: Final = attrgetter("trade_id")
_REPEATED: Final = "trade_id: repeated within the batch; the first occurrence was counted"

Sink = Callable[[bytes], None]


def _fingerprint(hash_: int) -> int:
    """A non-zero 64-bit fingerprint of a ``hash()`` (0 marks a free slot of the table)."""
    return (hash_ & _MASK) | 1


class TradeIdSet:
    """Trade ids seen in one batch, exact up to a 64-bit hash collision (p < 1e-7 per 1e6 ids).

    A plain ``set`` of the ids' hashes while small (fast, and ``add_new`` checks a whole chunk
    with set operations in C), then an open-addressing table of 64-bit fingerprints in an
    ``array`` (16 bytes per id instead of ~70), so memory stays far below the 64 MB budget of
    P-4 even for millions of trades.
    """

    def __init__(self, compact_after: int = 200_000) -> None:
        self._small: set[int] | None = set()
        self._compact_after = compact_after
        self._table = array("Q")
        self._used = 0

    def add(self, trade_id: str) -> bool:
        """Record ``trade_id``; return ``False`` if it was already there."""
        hash_ = hash(trade_id)
        small = self._small
        if small is None:
            return self._insert(_fingerprint(hash_))
        if hash_ in small:
            return False
        small.add(hash_)
        self._compact_if_large(small)
        return True

    def add_new(self, trade_ids: list[str]) -> bool:
        """Record all of ``trade_ids`` if none was seen and none repeats; else record nothing.

        The common case of a chunk without repeats in three set operations (no Python-level
        loop); on ``False`` the caller finds the repeats with ``add`` one id at a time.
        """
        small = self._small
        if small is None:
            return False
        hashes = set(map(hash, trade_ids))
        if len(hashes) != len(trade_ids) or not small.isdisjoint(hashes):
            return False
        small |= hashes
        self._compact_if_large(small)
        return True

    def _compact_if_large(self, small: set[int]) -> None:
        if len(small) > self._compact_after:
            self._grow(map(_fingerprint, small), len(small))
            self._small = None

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


class BatchResult(msgspec.Struct):
    """What one batch amounted to, before anything was written."""

    bars: dict[BarKey, Bar] = msgspec.field(default_factory=dict)
    accepted: int = 0
    rejected: int = 0
    reported: list[Rejection] = msgspec.field(default_factory=list)
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


def _first_occurrences(chunk: Chunk, seen: TradeIdSet) -> list[Trade]:
    """The chunk's trades whose id is new; each repeat becomes a rejection of the chunk."""
    kept = []
    for index, trade in zip(chunk.indexes, chunk.trades, strict=True):
        if seen.add(trade.trade_id):
            kept.append(trade)
        else:
            chunk.rejections.append(Rejection(index, trade.trade_id, _REPEATED, trade))
    return kept


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
        trades = chunk.trades
        if trades and not seen.add_new(list(map(_TRADE_ID, trades))):
            trades = _first_occurrences(chunk, seen)
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
