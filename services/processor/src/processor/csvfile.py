"""CSV with a header row: ``trade_id,symbol,price,quantity,timestamp[,side]`` (in any order;
other columns are kept in the archive and otherwise ignored)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from processor.decode import CHUNK_RECORDS, Chunk, Rejection, record_into, usable_trade_id
from processor.errors import MalformedObjectError, ObjectTooLargeError
from processor.records import REQUIRED_FIELDS
from processor.settings import Limits

if TYPE_CHECKING:
    from processor.ports import ByteStream, Source


__all__ = ["decode"]

_HEADER: Final = f"{','.join(REQUIRED_FIELDS)}[,side]"


class _Raw(io.RawIOBase):
    def __init__(self, source: ByteStream) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _header(rows: Iterator[list[str]]) -> list[str]:
    for row in rows:
        if row:
            header = [name.strip().lower() for name in row]
            missing = [name for name in REQUIRED_FIELDS if name not in header]
            if missing:
                raise MalformedObjectError(
                    f"object: CSV header lacks column(s) {', '.join(missing)}; required: "
                    f"{_HEADER}",
                    0,
                )
            repeated = sorted({name for name in header if header.count(name) > 1})
            if repeated:
                raise MalformedObjectError(
                    f"object: CSV header repeats column(s) {', '.join(repeated)}; each column "
                    f"may appear once: {_HEADER}",
                    0,
                )
            return header
    return []


def _next_row(rows: Iterator[list[str]]) -> list[str] | str | None:
    """The next row, the reason it cannot be read (the reader goes on after it), or None."""
    try:
        return next(rows)
    except StopIteration:
        return None
    except csv.Error as err:
        return f"CSV row cannot be read ({err})"


def decode(source: Source, limits: Limits) -> Iterator[Chunk]:
    """Chunks of a CSV object; indexes are 0-based data rows (after the header)."""
    # Bytes that are not UTF-8 become lone surrogates: their row is rejected, not the file.
    text = io.TextIOWrapper(
        io.BufferedReader(_Raw(source)), encoding="utf-8", errors="surrogateescape", newline=""
    )
    csv.field_size_limit(limits.max_record_bytes)
    rows = csv.reader(text)
    header = _header(rows)
    chunk, index = Chunk.empty(), 0
    while (row := _next_row(rows)) is not None:
        if index >= limits.max_records:
            raise ObjectTooLargeError(
                f"object: more than {limits.max_records} CSV rows; allowed: at most "
                f"{limits.max_records} records per object (split the file)"
            )
        if isinstance(row, str):
            chunk.rejections.append(Rejection(index, None, row))
        elif sum(map(len, row)) > limits.max_record_bytes:
            chunk.rejections.append(
                Rejection(
                    index,
                    None,
                    f"CSV row is longer than {limits.max_record_bytes} characters",
                    ",".join(row)[:1024],
                )
            )
        elif len(row) != len(header):
            if row:
                chunk.rejections.append(
                    Rejection(
                        index,
                        usable_trade_id(dict(zip(header, row, strict=False))),
                        f"CSV row has {len(row)} fields; the header has {len(header)}",
                        ",".join(row)[:1024],
                    )
                )
        else:
            record_into(index, dict(zip(header, row, strict=True)), chunk, limits.max_depth)
        index += 1
        if len(chunk.trades) + len(chunk.rejections) >= CHUNK_RECORDS:
            yield chunk
            chunk = Chunk.empty()
    yield chunk
