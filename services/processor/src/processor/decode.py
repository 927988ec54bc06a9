"""Records into trades and rejections: what every input format shares (pure, no I/O).

A format decoder (``formats``) reads its bytes and hands each decoded record here. Whatever
goes wrong with one record — of any exception class — becomes that record's rejection with a
reason; nothing about one record can stop the others. Accepted records keep their archive
line: the record as received, one strict JSON object per line.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from processor.bars import Bar, BarKey
from processor.records import (
    MAX_TRADE_ID_CHARS,
    RecordError,
    Trade,
    has_lone_surrogate,
    validate,
)

__all__ = [
    "CHUNK_RECORDS",
    "ENCODER",
    "Chunk",
    "Rejection",
    "record_into",
]

#: Records handled together: enough for C-level work per call, few enough to keep memory flat.
CHUNK_RECORDS: Final = 5_000
#: Decimals as JSON numbers, exactly as they were read.
ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
#: An integer wider than this cannot be printed (Python's 4300-digit limit).


class Rejection(msgspec.Struct, frozen=True):
    """A record that was not accepted: where it was, its trade id if usable, and why."""

    index: int | None
    trade_id: str | None
    reason: str
    record: Any = None


class Chunk(msgspec.Struct):
    """Consecutive records of one input: accepted trades with their archive lines, rejections.

    ``lines`` holds one archive line per trade: a list, or (for a block read whole) one bytes
    object of exactly ``len(trades)`` newline-terminated lines. ``indexes[i]`` is the record
    index of ``trades[i]``.
    """

    trades: list[Trade]
    lines: list[bytes] | bytes
    indexes: list[int] | range
    rejections: list[Rejection]
    #: The bars of ``trades`` when the bulk check computed them already.
    bars: dict[BarKey, Bar] | None = None

    @classmethod
    def empty(cls) -> Chunk:
        return cls([], [], [], [])

    def accept(self, index: int, trade: Trade, line: bytes) -> None:
        self.trades.append(trade)
        self.lines.append(line)  # type: ignore[union-attr]
        self.indexes.append(index)  # type: ignore[union-attr]

    def line_list(self) -> list[bytes]:
        """One archive line per trade, without its newline."""
        if isinstance(self.lines, bytes):
            return self.lines.split(b"\n")[: len(self.trades)]
        return self.lines


def usable_trade_id(record: Any) -> str | None:
    """The record's trade id, if it is one a response can carry (else None)."""
    try:
        tid = record.get("trade_id") if isinstance(record, dict) else None
    except Exception:  # a mapping that fails to look up is no trade id
        return None
    if isinstance(tid, str) and 0 < len(tid) <= MAX_TRADE_ID_CHARS and not has_lone_surrogate(tid):
        return tid
    return None


def record_into(
    index: int, record: Any, into: Chunk, max_depth: int, line: bytes | None = None
) -> None:
    """Validate one decoded record into ``into``; anything it raises is its rejection.

    ``line``: the record's archive line when the caller has it (a JSON line as received),
    else the record is encoded here, which refuses what strict JSON cannot carry.
    """
    try:
        trade = validate(record)
        if line is None:
            from processor.strict import strict_line  # loaded on first need, not at import

            line = strict_line(record, max_depth)
    except RecordError as err:
        reason = err.reason
    except Exception as err:  # of any class: this record is rejected, the rest go on
        reason = f"record could not be read ({type(err).__name__}: {err})"
    else:
        into.accept(index, trade, line)
        return
    kept = record if line is None else msgspec.Raw(line.strip())  # a line is strict JSON
    into.rejections.append(Rejection(index, usable_trade_id(record), reason, kept))
