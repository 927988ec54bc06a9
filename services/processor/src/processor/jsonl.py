"""JSON Lines, the common format: blocks of lines decoded straight into trades.

A block of about 1 MiB of whole lines is decoded by one msgspec call into ``Trade``, then
checked and aggregated in one pass (``bars.block_bars``). A block that is not entirely clean — a bad
line, a line that needs normalising, anything the byte checks cannot vouch for — is decoded
again in small pieces and, where needed, line by line, which decides and words every verdict:
reasons, indexes and archive lines do not depend on which path ran.

A clean block's archive lines are its own bytes: raw/ keeps each accepted line as received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Final, cast

import msgspec

from processor.bars import block_bars
from processor.decode import Chunk, Rejection, record_into
from processor.errors import ObjectTooLargeError
from processor.records import Trade
from processor.settings import Limits
from processor.strict import text_deeper_than

if TYPE_CHECKING:
    from processor.ports import Source


__all__ = ["decode"]

BLOCK_BYTES: Final = 1 << 20
#: The per-line path works on pieces this size, so its lists and rejections stay small.
PIECE_BYTES: Final = 16 << 10


class _KnownFieldsOnly(Trade, frozen=True, gc=False, forbid_unknown_fields=True):
    """A trade line with no other field: decoding it proves the record flat."""


_KNOWN_FIELDS: Final = msgspec.json.Decoder(_KnownFieldsOnly)
_FAST: Final = msgspec.json.Decoder(Trade)
_GENERIC: Final = msgspec.json.Decoder(float_hook=Decimal)
#: "_" then a digit (found fast: the pattern starts with a literal).
_UNDERSCORE: Final = re.compile(rb"_[0-9]")


def _excerpt(data: bytes, limit: int = 1024) -> str:
    text = data[:limit].decode("utf-8", "backslashreplace")
    return text if len(data) <= limit else f"{text}... ({len(data)} bytes)"


def _line_count(data: bytes) -> int:
    return data.count(b"\n") + (not data.endswith(b"\n"))


def _digit_grouping(data: bytes) -> bool:
    """Whether ``data`` has a digit, "_", a digit (Decimal() reads "1_000" as 1000)."""
    return any(
        data[match.start() - 1 : match.start()].isdigit() for match in _UNDERSCORE.finditer(data)
    )


def _fast(data: bytes, lines: int) -> Chunk | None:
    """Every line of ``data`` as a trade in one C call, checked in bulk, if all are valid and
    canonical; with their bars.

    The byte checks vouch for what decoding into ``Trade`` cannot see: text is ASCII (so
    valid UTF-8, and numeric strings have no other digits), no escapes that could hide
    either, no "1_000"; no blank line, which ``decode_lines`` would skip; and every record
    flat (the depth limit holds): proved by decoding with no field but a trade's, or, when
    there are others, by one ``{`` per line and no ``[``.
    """
    if not data.isascii() or (b"\\" in data and b"\\u" in data):
        return None
    if b"_" in data and _digit_grouping(data):
        return None
    try:
        trades = cast(list[Trade], _KNOWN_FIELDS.decode_lines(data))  # flat: no other field
    except msgspec.ValidationError:  # perhaps only other fields: vouch for their depth
        if b"[" in data:
            return None
        try:
            trades = _FAST.decode_lines(data)
        except (msgspec.DecodeError, RecursionError):
            return None
        if data.count(b"{") != len(trades):
            return None
    except (msgspec.DecodeError, RecursionError):
        return None
    if len(trades) != lines:
        return None
    bars = block_bars(trades)
    if bars is None:
        return None
    blob = data if data.endswith(b"\n") else data + b"\n"
    return Chunk(trades, blob, range(lines), [], bars)


def _line(index: int, line: bytes, chunk: Chunk, limits: Limits) -> None:
    """One line by the precise path: a blank line is no record; any failure is a rejection."""
    if not line.strip():
        return
    if len(line) > limits.max_record_bytes:
        chunk.rejections.append(_overlong(index, line, limits))
        return
    if text_deeper_than(line, limits.max_depth):  # before decoding: that could cost 1000x
        reason = f"record is nested deeper than {limits.max_depth} levels"
    else:
        try:
            value = _GENERIC.decode(line)
        except msgspec.ValidationError as err:  # valid JSON that Python cannot hold
            reason = f"line could not be decoded ({err})"
        except msgspec.DecodeError as err:
            reason = f"line is not valid JSON ({err}); allowed: one JSON object per line"
        except UnicodeDecodeError as err:
            reason = f"line is not UTF-8 ({err.reason} at byte {err.start})"
        except Exception as err:  # of any class: this line is rejected, the rest go on
            reason = f"line could not be decoded ({type(err).__name__}: {err})"
        else:
            record_into(index, value, chunk, limits.max_depth, line)
            return
    chunk.rejections.append(Rejection(index, None, reason, _excerpt(line, len(line))))


def _overlong(index: int, data: bytes, limits: Limits) -> Rejection:
    return Rejection(
        index,
        None,
        f"line is longer than {limits.max_record_bytes} bytes; allowed: at most "
        f"{limits.max_record_bytes} bytes per record",
        _excerpt(data),
    )


def _pieces(data: bytes) -> Iterator[bytes]:
    """``data`` (whole lines) cut at line ends into pieces of about ``PIECE_BYTES``."""
    start = 0
    while start < len(data):
        cut = data.rfind(b"\n", start, start + PIECE_BYTES) + 1
        if cut <= start:  # one line longer than a piece: the piece ends with it
            cut = data.find(b"\n", start + PIECE_BYTES) + 1 or len(data)
        if start + PIECE_BYTES >= len(data):
            cut = len(data)
        yield data[start:cut]
        start = cut


def _lines_fit(data: bytes, limit: int) -> bool:
    """Whether no line of ``data`` is longer than ``limit``. Only the first line can have
    started in an earlier block; every other one lies within one block of ``BLOCK_BYTES``."""
    if len(data) <= limit:
        return True
    first = data.find(b"\n")
    if (len(data) if first < 0 else first) > limit:
        return False
    return limit >= BLOCK_BYTES or max(map(len, data.split(b"\n"))) <= limit


def _block(data: bytes, lines: int, first: int, limits: Limits) -> Iterator[Chunk]:
    """The chunks of ``data`` (``lines`` whole lines; the first one is line ``first``)."""
    if _lines_fit(data, limits.max_record_bytes):
        chunk = _fast(data, lines)
        if chunk is not None:
            chunk.indexes = range(first, first + lines)
            yield chunk
            return
    index = first
    for piece in _pieces(data):
        count = _line_count(piece)
        fast = _fast(piece, count) if len(piece) <= limits.max_record_bytes else None
        if fast is not None:
            fast.indexes = range(index, index + count)
            yield fast
        else:
            chunk = Chunk.empty()
            for offset, line in enumerate(piece.split(b"\n")[:count]):
                _line(index + offset, line, chunk, limits)
            yield chunk
        index += count


def decode(source: Source, limits: Limits) -> Iterator[Chunk]:
    """Chunks of a JSON Lines object; indexes are 0-based line numbers (blank lines count).

    A line longer than the record limit is rejected alone, without being kept in memory;
    more lines than the record limit make the whole object too large.
    """
    index = source.skipped_lines
    pending = b""
    skipping = False  # inside a line already rejected as too long
    while True:
        block = source.read(BLOCK_BYTES)
        data = pending + block
        pending = b""
        if skipping:
            newline = data.find(b"\n")
            if newline < 0:
                if not block:
                    return
                continue
            data, skipping, index = data[newline + 1 :], False, index + 1
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if cut == 0 and len(data) > limits.max_record_bytes:
            yield Chunk([], [], [], [_overlong(index, data, limits)])
            skipping = True
            continue
        complete, pending = data[:cut], data[cut:]
        if complete:
            lines = _line_count(complete)
            if index + lines > limits.max_records:
                raise ObjectTooLargeError(
                    f"object: more than {limits.max_records} lines; allowed: at most "
                    f"{limits.max_records} records per object (split the file)"
                )
            yield from _block(complete, lines, index, limits)
            index += lines
        if not block:
            return
