"""JSON Lines, the common format: blocks of lines decoded straight into trades.

A block of about 1 MiB of whole lines is decoded by one msgspec call into ``Trade`` and
checked over columns (``records.all_valid``). A block that is not entirely clean — a bad
line, a line that needs normalising, anything the byte checks cannot vouch for — is decoded
again in small pieces and, where needed, line by line, which decides and words every verdict:
reasons, indexes and archive lines do not depend on which path ran.

A clean block's archive lines are its own bytes: raw/ keeps each accepted line as received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Final

import msgspec

from processor.decode import Chunk, Rejection, Source, record_into, text_deeper_than
from processor.errors import ObjectTooLargeError
from processor.records import Trade, all_valid
from processor.settings import Limits

__all__ = ["decode"]

BLOCK_BYTES: Final = 1 << 20
#: The per-line path works on pieces this size, so its lists and rejections stay small.
PIECE_BYTES: Final = 16 << 10
_FAST: Final = msgspec.json.Decoder(Trade)
_GENERIC: Final = msgspec.json.Decoder(float_hook=Decimal)
#: A digit, "_", a digit: Decimal() reads "1_000" as 1000; JSON numbers never have one.
_GROUPED_DIGITS: Final = re.compile(rb"[0-9]_[0-9]")


def _excerpt(data: bytes, limit: int = 1024) -> str:
    text = data[:limit].decode("utf-8", "backslashreplace")
    return text if len(data) <= limit else f"{text}... ({len(data)} bytes)"


def _line_count(data: bytes) -> int:
    return data.count(b"\n") + (not data.endswith(b"\n"))


def _fast(data: bytes, lines: int) -> list[Trade] | None:
    """Every line of ``data`` as a trade in one C call, if all are valid and canonical.

    The byte checks vouch for what decoding into ``Trade`` cannot see: text is ASCII (so
    valid UTF-8, and numeric strings have no other digits), no escapes that could hide
    either, no "1_000", no nested value (one ``{`` per line and no ``[``, so every record
    is flat: the depth limit holds); and no blank line, which ``decode_lines`` would skip.
    """
    if not data.isascii() or b"\\u" in data or b"[" in data:
        return None
    if b"_" in data and _GROUPED_DIGITS.search(data):
        return None
    try:
        trades = _FAST.decode_lines(data)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    if len(trades) != lines or data.count(b"{") != lines:
        return None
    return trades if all_valid(trades) else None


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


def _block(data: bytes, first: int, limits: Limits) -> Iterator[Chunk]:
    """The chunks of ``data`` (whole lines; the first one is line ``first``)."""
    lines = _line_count(data)
    if _lines_fit(data, limits.max_record_bytes):
        trades = _fast(data, lines)
        if trades is not None:
            blob = data if data.endswith(b"\n") else data + b"\n"
            yield Chunk(trades, blob, range(first, first + lines), [])
            return
    index = first
    for piece in _pieces(data):
        count = _line_count(piece)
        trades = _fast(piece, count) if len(piece) <= limits.max_record_bytes else None
        if trades is not None:
            blob = piece if piece.endswith(b"\n") else piece + b"\n"
            yield Chunk(trades, blob, range(index, index + count), [])
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
            yield from _block(complete, index, limits)
            index += lines
        if not block:
            return
