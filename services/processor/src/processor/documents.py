"""The rarer S3 object formats: a JSON array, ``{"trades": [...]}`` and CSV with a header.

Kept apart from ``decode`` so that a cold start compiles only the JSON Lines path; this
module is imported the first time such an object arrives.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

from processor.decode import (
    CHUNK_BYTES,
    CHUNK_RECORDS,
    MAX_LINE_BYTES,
    ByteStream,
    Chunk,
    Rejection,
    decode_trades,
    record_into,
)
from processor.errors import MalformedObjectError

__all__ = ["iter_document"]

_CSV_REQUIRED: Final = ("trade_id", "symbol", "price", "quantity", "timestamp")


def iter_document(kind: str, reader: ByteStream) -> Iterator[Chunk]:
    """Chunks of a ``"csv"``, ``"array"`` or ``"wrapped"`` document (UTF-8, BOM allowed)."""
    if kind == "csv":
        try:
            yield from _iter_csv(_text(reader))
        except csv.Error as err:
            raise MalformedObjectError(f"object: malformed CSV ({err})") from None
        return
    doc = _JsonText(_text(reader))
    yield from _iter_array(doc) if kind == "array" else _iter_wrapped(doc)
    if doc.peek():
        raise MalformedObjectError("object: unexpected data after the JSON document")


class _JsonText:
    """Incremental JSON over a text stream: raw_decode one value at a time (C scanner)."""

    _ws = re.compile(r"\s*")

    def __init__(self, text: io.TextIOBase) -> None:
        self._text, self._buf, self._pos, self._eof = text, "", 0, False
        self._decoder = json.JSONDecoder(parse_float=Decimal)

    def _more(self) -> bool:
        if self._eof:
            return False
        block = self._text.read(CHUNK_BYTES)
        if not block:
            self._eof = True
            return False
        self._buf, self._pos = self._buf[self._pos :] + block, 0
        return True

    def peek(self) -> str:
        while True:
            self._pos = self._ws.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._more():
                return ""

    def expect(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            found = repr(char) if char else "end of input"
            raise MalformedObjectError(
                f"object: malformed JSON, expected one of {allowed!r}, " f"found {found}"
            )
        self._pos += 1
        return char

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, self._pos = self._decoder.raw_decode(self._buf, self._pos)
                return value
            except json.JSONDecodeError as err:
                if len(self._buf) - self._pos > MAX_LINE_BYTES or not self._more():
                    raise MalformedObjectError(f"object: malformed JSON ({err.msg})") from None


def _iter_array(doc: _JsonText, start: int = 0) -> Iterator[Chunk]:
    doc.expect("[")
    index, part = start, []
    if doc.peek() == "]":
        doc.expect("]")
        return
    while True:
        try:
            part.append(doc.value())
        except MalformedObjectError as err:
            raise MalformedObjectError(err.reason, index + len(part)) from None
        if len(part) >= CHUNK_RECORDS:
            yield from decode_trades(part, index)
            index, part = index + len(part), []
        if doc.expect(",]") == "]":
            break
    yield from decode_trades(part, index)


def _iter_wrapped(doc: _JsonText) -> Iterator[Chunk]:
    doc.expect("{")
    found = False
    while doc.peek() != "}":
        key = doc.value()
        doc.expect(":")
        if key == "trades" and doc.peek() == "[":
            found = True
            yield from _iter_array(doc)
        else:
            doc.value()
        if doc.expect(",}") == "}":
            break
    else:
        doc.expect("}")
    if not found:
        raise MalformedObjectError("object: JSON document has no 'trades' array")


def _iter_csv(text: io.TextIOBase) -> Iterator[Chunk]:
    rows = csv.reader(text)
    header = [name.strip().lower() for name in next(rows, [])]
    missing = [name for name in _CSV_REQUIRED if name not in header]
    if missing:
        raise MalformedObjectError(
            f"object: CSV header lacks column(s) {', '.join(missing)}; required: "
            f"{','.join(_CSV_REQUIRED)}[,side]",
            0,
        )
    chunk, index = Chunk.empty(), -1
    for index, row in enumerate(rows):
        if not row:
            continue
        if len(row) != len(header):
            chunk.rejections.append(
                Rejection(
                    index,
                    None,
                    f"CSV row has {len(row)} fields; the header has {len(header)}",
                    ",".join(row)[:256],
                )
            )
        else:
            record_into(index, dict(zip(header, row, strict=True)), chunk)
        if len(chunk.trades) + len(chunk.rejections) >= CHUNK_RECORDS:
            yield chunk
            chunk = Chunk.empty()
    yield chunk


def _text(reader: ByteStream) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedReader(_RawAdapter(reader)), encoding="utf-8-sig")


class _RawAdapter(io.RawIOBase):
    def __init__(self, reader: ByteStream) -> None:
        self._reader = reader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._reader.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
