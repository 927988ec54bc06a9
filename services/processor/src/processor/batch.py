"""One batch in memory: chunks of records in; bars, counts and archive lines out (pure).

Holds only the bars, a compact set of the trade ids seen and the first rejections for the
response; accepted lines and rejections stream out to the two sinks as they come.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import attrgetter
from typing import Any, Final

import msgspec

from processor.bars import Bar, BarKey, aggregate, merge_into
from processor.decode import ENCODER, Chunk, Rejection
from processor.errors import ObjectTooLargeError
from processor.records import Trade
from processor.settings import Limits

__all__ = ["BatchResult", "TradeIdSet", "consume", "rejection_lines"]

_MASK: Final = 0xFFFF_FFFF_FFFF_FFFF
_TRADE_ID: Final = attrgetter("trade_id")
_REPEATED: Final = "trade_id: repeated within the batch; the first occurrence was counted"
_LINE: Final = msgspec.json.Decoder(float_hook=Decimal)

Sink = Callable[[bytes], None]


def _fingerprint(hash_: int) -> int:
    """A non-zero 64-bit fingerprint of a ``hash()`` (0 marks a free slot of the table)."""
    return (hash_ & _MASK) | 1


class TradeIdSet:
    """Trade ids seen in one batch, exact up to a 64-bit hash collision (p < 1e-7 per 1e6 ids;
    string hashes are salted per process, so a sender cannot aim for one).

    A plain ``set`` of the ids while small (a chunk is checked with set operations in C),
    then an open-addressing table of their 64-bit fingerprints in an ``array`` (16 bytes per
    id instead of ~100): at the record limit (2**20 per object) it holds 16 MB.
    """

    def __init__(self, compact_after: int = 100_000) -> None:
        self._small: set[str] | None = set()
        self._compact_after = compact_after
        self._table = array("Q")
        self._used = 0

    def add(self, trade_id: str) -> bool:
        """Record ``trade_id``; return ``False`` if it was already there."""
        small = self._small
        if small is None:
            return self._insert(_fingerprint(hash(trade_id)))
        if trade_id in small:
            return False
        small.add(trade_id)
        self._compact_if_large(small)
        return True

    def add_new(self, trade_ids: list[str]) -> bool:
        """Record all of ``trade_ids`` if none was seen and none repeats; else record nothing
        (the caller then finds the repeats with ``add``, one id at a time)."""
        small = self._small
        if small is not None:  # two passes in C, no set of the chunk built
            if not small.isdisjoint(trade_ids):
                return False
            before = len(small)
            small.update(trade_ids)
            if len(small) - before != len(trade_ids):  # a repeat inside: none was seen before
                small.difference_update(trade_ids)
                return False
            self._compact_if_large(small)
            return True
        fingerprints = set(map(_fingerprint, map(hash, trade_ids)))
        if len(fingerprints) != len(trade_ids) or any(map(self._contains, fingerprints)):
            return False
        for fingerprint in fingerprints:
            self._insert(fingerprint)
        return True

    def _compact_if_large(self, small: set[str]) -> None:
        if len(small) > self._compact_after:
            self._small = None
            self._grow(map(_fingerprint, map(hash, small)), len(small))

    def _slot(self, fingerprint: int) -> int:
        """Where ``fingerprint`` is, or the free slot where it would go (linear probing)."""
        table = self._table
        mask = len(table) - 1
        slot = fingerprint & mask
        while (current := table[slot]) and current != fingerprint:
            slot = (slot + 1) & mask
        return slot

    def _contains(self, fingerprint: int) -> bool:
        return self._table[self._slot(fingerprint)] != 0

    def _insert(self, fingerprint: int) -> bool:
        slot = self._slot(fingerprint)
        if self._table[slot]:
            return False
        self._table[slot] = fingerprint
        self._used += 1
        if self._used * 2 > len(self._table):
            self._grow(self._table, self._used)
        return True

    def _grow(self, values: Iterable[int], count: int) -> None:
        """Rehash into a table at least twice the size (load <= 1/2), from the old one."""
        self._table = array("Q", [0]) * (1 << max(16, (count * 2).bit_length()))
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


def rejection_lines(rejections: Iterable[Rejection], max_depth: int) -> bytes:
    """Lines of the ``rejected/`` archive: each record with its index and reason, as strict
    JSON (a record is made safe first: NaN kept as a string, bad text escaped, depth cut)."""
    from processor.strict import json_safe  # loaded on the first rejection, not at import

    return ENCODER.encode_lines(
        [
            {
                "index": r.index,
                "trade_id": r.trade_id,
                "reason": r.reason,
                "record": json_safe(r.record, max_depth),
            }
            for r in rejections
        ]
    )


def _first_occurrences(chunk: Chunk, seen: TradeIdSet) -> tuple[list[Trade], list[bytes]]:
    """The chunk's trades (and lines) whose id is new; each repeat becomes a rejection."""
    trades, lines = [], []
    for index, trade, line in zip(chunk.indexes, chunk.trades, chunk.line_list(), strict=True):
        if seen.add(trade.trade_id):
            trades.append(trade)
            lines.append(line)
        else:
            chunk.rejections.append(Rejection(index, trade.trade_id, _REPEATED, _record(line)))
    return trades, lines


def _record(line: bytes) -> Any:
    """The record of an archive line (strict JSON already), for the rejection of a repeat."""
    return _LINE.decode(line)


def _joined(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n" if lines else b""


def consume(chunks: Iterable[Chunk], limits: Limits, accepted: Sink, rejected: Sink) -> BatchResult:
    """Aggregate ``chunks``; stream accepted lines and rejections (with reasons) to the sinks.

    A ``trade_id`` seen before in the batch is rejected, so it is counted once. A batch that
    touches more bars than ``limits.max_batch_bars`` is too large as a whole.
    """
    result = BatchResult()
    seen = TradeIdSet()
    for chunk in chunks:
        trades, bars = chunk.trades, chunk.bars
        if trades:
            if seen.add_new(list(map(_TRADE_ID, trades))):
                lines = chunk.lines if isinstance(chunk.lines, bytes) else _joined(chunk.lines)
            else:
                trades, kept = _first_occurrences(chunk, seen)
                lines, bars = _joined(kept), None
        if trades:
            if bars is None:
                aggregate(trades, result.bars)
            else:
                merge_into(result.bars, bars.values())
            if len(result.bars) > limits.max_batch_bars:
                raise ObjectTooLargeError(
                    f"batch: touches more than {limits.max_batch_bars} bars; allowed: at most "
                    f"{limits.max_batch_bars} symbol-minutes per object or call (split it)"
                )
            accepted(lines)
            result.accepted += len(trades)
        rejections = chunk.rejections
        if rejections:
            rejections.sort(key=lambda r: -1 if r.index is None else r.index)
            rejected(rejection_lines(rejections, limits.max_depth))
            result.rejected += len(rejections)
            room = limits.max_reported_rejections - len(result.reported)
            result.reported.extend(rejections[: max(0, room)])
    return result
