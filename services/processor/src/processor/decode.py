"""Records into trades and rejections: what every input format shares (pure, no I/O).

A format decoder (``formats``) reads its bytes and hands each decoded record here. Whatever
goes wrong with one record — of any exception class — becomes that record's rejection with a
reason; nothing about one record can stop the others. Accepted records keep their archive
line: the record as received, one strict JSON object per line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from itertools import accumulate, count, repeat
from operator import indexOf, itemgetter, sub
from typing import Any, Final, Protocol

import msgspec

from processor.bars import Bar, BarKey, block_bars
from processor.records import (
    MAX_TRADE_ID_CHARS,
    RecordError,
    Trade,
    has_lone_surrogate,
    show,
    validate,
)

__all__ = [
    "CHUNK_RECORDS",
    "ENCODER",
    "ByteStream",
    "Chunk",
    "Rejection",
    "Source",
    "decode_records",
    "json_safe",
    "nested_deeper_than",
    "record_into",
    "strict_line",
    "text_deeper_than",
]

#: Records handled together: enough for C-level work per call, few enough to keep memory flat.
CHUNK_RECORDS: Final = 5_000
#: Decimals as JSON numbers, exactly as they were read.
ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
#: An integer wider than this cannot be printed (Python's 4300-digit limit).
_MAX_INT_BITS: Final = 14_000
_KNOWN_FIELDS: Final = frozenset(Trade.__struct_fields__)
_PRICE, _QUANTITY = itemgetter("price"), itemgetter("quantity")
_JSON_NUMBERS: Final = frozenset({int, float, Decimal})
_JSON_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
#: Depth counting over bytes: brackets kept (an opening one 2, a closing one 0), all else gone.
_BRACKET_CODES: Final = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS: Final = bytes(c for c in range(256) if c not in b"[]{}")


class ByteStream(Protocol):
    """What is read from: a botocore ``StreamingBody``, a file, ``io.BytesIO``."""

    def read(self, size: int = ..., /) -> bytes: ...


class Source(ByteStream, Protocol):
    """A decoder's input: an object's content (decompressed), from its first record on.

    ``skipped_lines``: line breaks in blank space before that (the index of the first line).
    """

    skipped_lines: int


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


def text_deeper_than(text: bytes, limit: int) -> bool:
    """Whether JSON ``text`` nests more than ``limit`` deep, told without decoding it: strings
    removed (their brackets do not count), then a running depth in C that stops at the first
    level past the limit. Decoding a deep value costs far more, and can exhaust the stack."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    codes = _JSON_STRING.sub(b"", text).translate(_BRACKET_CODES, _NOT_BRACKETS)
    try:
        indexOf(map(sub, accumulate(codes), count(1)), limit + 1)
    except ValueError:
        return False
    return True


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth == limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _finite(number: float | Decimal) -> bool:
    return number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)


def _scalar_problem(item: Any) -> str | None:
    """What keeps a value that is not a container from being strict JSON, if anything."""
    if isinstance(item, str):
        if has_lone_surrogate(item):
            return "holds text that is not valid Unicode (a lone surrogate or a non-UTF-8 byte)"
    elif isinstance(item, bool) or item is None:
        pass
    elif isinstance(item, int):
        if item.bit_length() > _MAX_INT_BITS:
            return f"holds an integer of {item.bit_length()} bits; JSON text cannot carry it"
    elif isinstance(item, float | Decimal):
        if not _finite(item):
            return f"holds {show(item)}; JSON has no NaN or Infinity"
    else:
        return f"holds a {type(item).__name__}, which JSON cannot carry"
    return None


def _strict_problem(value: Any, limit: int) -> str | None:
    """What keeps ``value`` from being written as strict JSON (RFC 8259), if anything."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            problem = _scalar_problem(item)
            if problem is not None:
                return problem
            continue
        if depth == limit:
            return f"is nested deeper than {limit} levels"
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return "has a key that is not a string"
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)
    return None


def strict_line(record: Any, max_depth: int) -> bytes:
    """``record`` as one strict JSON line, or ``RecordError`` saying why it cannot be one."""
    problem = _strict_problem(record, max_depth)
    if problem is not None:
        raise RecordError(f"record {problem}")
    return ENCODER.encode(record)


def _safe_text(text: str) -> str:
    """``text`` with any lone surrogate written out as its escape (``\\udc80``)."""
    if not has_lone_surrogate(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_scalar(item: Any) -> Any:
    kind = type(item)
    if kind is str:
        return _safe_text(item)
    if item is None or kind is bool or kind is msgspec.Raw:  # Raw: strict JSON already
        return item
    if kind is int:
        return item if item.bit_length() <= _MAX_INT_BITS else show(item)
    if kind is float or kind is Decimal:
        return item if _finite(item) else str(item)  # kept, as a string
    return _safe_scalar_slowly(item)


def _safe_scalar_slowly(item: Any) -> Any:
    """``_safe_scalar`` for subclasses of the JSON types (rare: never from JSON text)."""
    if isinstance(item, str):
        return _safe_text(str(item))
    if isinstance(item, bool):
        return bool(item)
    if isinstance(item, int):
        return _safe_scalar(int(item))
    if isinstance(item, float | Decimal):
        return _safe_scalar(float(item) if isinstance(item, float) else Decimal(item))
    return show(item)


def json_safe(value: Any, max_depth: int) -> Any:
    """A copy of ``value`` that strict JSON can carry, for the ``rejected/`` archive.

    Non-finite numbers become strings (``"NaN"``), text that is not valid Unicode keeps its
    escapes as plain text, anything nested deeper than ``max_depth`` is cut to a note.
    Iterative, so no input can exhaust the stack.
    """
    if not isinstance(value, dict | list | tuple):
        return _safe_scalar(value)
    root: list[Any] = []
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        item, parent, slot, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            copy: Any = _safe_scalar(item)
        elif depth == max_depth:
            copy = f"(nested deeper than {max_depth} levels: left out)"
        elif isinstance(item, dict):
            copy = {}
            for key, child in item.items():
                name = _safe_text(key) if type(key) is str else show(key)
                copy[name] = None
                stack.append((child, copy, name, depth + 1))
        else:
            copy = list(item)
            stack.extend(zip(item, repeat(copy), range(len(item)), repeat(depth + 1)))
        if parent is root:
            root.append(copy)
        else:
            parent[slot] = copy
    return root[0]


def record_into(
    index: int, record: Any, into: Chunk, max_depth: int, line: bytes | None = None
) -> None:
    """Validate one decoded record into ``into``; anything it raises is its rejection.

    ``line``: the record's archive line when the caller has it (a JSON line as received),
    else the record is encoded here, which refuses what strict JSON cannot carry.
    """
    try:
        trade = validate(record)
        archived = strict_line(record, max_depth) if line is None else line
    except RecordError as err:
        reason = err.reason
    except Exception as err:  # of any class: this record is rejected, the rest go on
        reason = f"record could not be read ({type(err).__name__}: {err})"
    else:
        into.accept(index, trade, archived)
        return
    kept = record if line is None else msgspec.Raw(line.strip())  # a line is strict JSON
    into.rejections.append(Rejection(index, usable_trade_id(record), reason, kept))


def _clean_records(part: Sequence[Any], first: int) -> Chunk | None:
    """All of ``part`` as one chunk, if every record is a valid, canonical, flat trade object
    with numbers as JSON numbers (the common case, in a few C calls)."""
    try:
        if set(map(type, part)) != {dict} or not all(map(_KNOWN_FIELDS.issuperset, part)):
            return None
        if not set(map(type, map(_PRICE, part))) | set(map(type, map(_QUANTITY, part))) <= (
            _JSON_NUMBERS
        ):  # numeric strings need the precise path's checks (ASCII digits, no "_")
            return None
        trades = msgspec.convert(part, list[Trade])
        bars = block_bars(trades)
        if bars is None:
            return None
        return Chunk(trades, ENCODER.encode_lines(part), range(first, first + len(part)), [], bars)
    except (KeyError, msgspec.ValidationError, UnicodeEncodeError):
        return None


def decode_records(records: Sequence[Any], first: int, max_depth: int) -> Iterator[Chunk]:
    """Chunks of records that are already Python values (direct invocation, array elements).

    ``first`` is the index of ``records[0]``.
    """
    for lo in range(0, len(records), CHUNK_RECORDS):
        part = records[lo : lo + CHUNK_RECORDS]
        start = first + lo
        clean = _clean_records(part, start)
        if clean is not None:
            yield clean
            continue
        chunk = Chunk.empty()
        for offset, record in enumerate(part):
            record_into(start + offset, record, chunk, max_depth)
        yield chunk
