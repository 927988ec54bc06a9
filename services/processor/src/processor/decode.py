"""Decoding of events and S3 objects into chunks of trades and rejections (pure, streamed).

Nothing here does I/O besides reading the byte stream it is handed, and nothing keeps more
than one chunk of records: memory follows the chunk size, not the object size.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator, Mapping, MutableSequence, Sequence
from decimal import Decimal
from typing import Any, Final, Protocol
from urllib.parse import unquote_plus

import msgspec

from processor.errors import MalformedObjectError, UnsupportedEventError
from processor.records import RecordError, Trade, WireTrade, all_valid, finish, validate

__all__ = [
    "Chunk",
    "DirectBatch",
    "ObjectRef",
    "Rejection",
    "decode_object",
    "decode_trades",
    "parse_event",
    "record_into",
]

CHUNK_BYTES: Final = 1 << 20
MAX_LINE_BYTES: Final = 1 << 20
CHUNK_RECORDS: Final = 5_000
_BATCH_ID_RE: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TYPED: Final = msgspec.json.Decoder(WireTrade)
_CLEAN: Final = msgspec.json.Decoder(Trade)
_GENERIC: Final = msgspec.json.Decoder(float_hook=Decimal)
_GZIP_MAGIC: Final = b"\x1f\x8b"


class ByteStream(Protocol):
    """What is read from: a botocore ``StreamingBody``, a file, ``io.BytesIO``."""

    def read(self, size: int = ..., /) -> bytes: ...


class Rejection(msgspec.Struct, frozen=True):
    """A record that was not accepted, with where it was and why."""

    index: int | None
    trade_id: str | None
    reason: str
    record: Any = None


class Chunk(msgspec.Struct):
    """Up to a few thousand consecutive records: accepted trades and rejections.

    ``indexes[i]`` is the record index of ``trades[i]``: a ``range`` when every record of the
    chunk was accepted (the common case, no per-trade bookkeeping), else a list.
    """

    trades: list[Trade]
    indexes: MutableSequence[int] | range
    rejections: list[Rejection]

    @classmethod
    def empty(cls) -> Chunk:
        return cls([], [], [])

    @classmethod
    def clean(cls, trades: list[Trade], first: int) -> Chunk:
        """A chunk whose records ``first ...`` were all accepted."""
        return cls(trades, range(first, first + len(trades)), [])

    def accept(self, index: int, trade: Trade) -> None:
        self.trades.append(trade)
        self.indexes.append(index)  # type: ignore[union-attr]


class DirectBatch(msgspec.Struct, frozen=True):
    """A direct invocation: its records and batch id (given, or derived from the content)."""

    batch_id: str
    records: Sequence[Any]


class ObjectRef(msgspec.Struct, frozen=True):
    """One S3 ObjectCreated record: the object and the batch id of its exact version."""

    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    batch_id: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _excerpt(raw: bytes | str, limit: int = 256) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _direct(event: Mapping[str, Any]) -> DirectBatch:
    if "trades" in event:
        records = event["trades"]
        if not isinstance(records, list):
            raise MalformedObjectError(
                f"event: 'trades' is {type(records).__name__}; allowed: a list of trade objects"
            )
    else:
        records = [event["trade_data"]]
    given = event.get("batch_id")
    if given is None:
        canonical = json.dumps(records, sort_keys=True, separators=(",", ":"), default=str)
        return DirectBatch(f"direct-{_digest(canonical)}", records)
    if not isinstance(given, str) or _BATCH_ID_RE.fullmatch(given) is None:
        raise MalformedObjectError(
            f"batch_id: {_excerpt(repr(given), 60)} is invalid; allowed: 1-128 characters of "
            "A-Z a-z 0-9 . _ : -"
        )
    return DirectBatch(given, records)


def _object(record: Mapping[str, Any]) -> ObjectRef:
    s3 = record["s3"]
    bucket, obj = s3["bucket"]["name"], s3["object"]
    key = unquote_plus(obj["key"])
    version, etag = obj.get("versionId") or None, obj.get("eTag") or None
    identity = version or etag or obj.get("sequencer")
    if not identity:
        raise UnsupportedEventError(f"S3 record for s3://{bucket}/{key} has no versionId or eTag")
    return ObjectRef(bucket, key, version, etag, f"s3-{_digest(bucket, key, identity)}")


def parse_event(event: Any) -> DirectBatch | list[ObjectRef]:
    """Tell the two event kinds apart; raise for anything else (poison)."""
    if not isinstance(event, Mapping):
        raise UnsupportedEventError(f"event is {type(event).__name__}; allowed: a JSON object")
    records = event.get("Records")
    if isinstance(records, list) and records:
        refs = [
            _object(r)
            for r in records
            if isinstance(r, Mapping) and str(r.get("eventName", "")).startswith("ObjectCreated")
        ]
        if not refs:
            raise UnsupportedEventError("event has Records but no S3 ObjectCreated notification")
        return refs
    if "trades" in event or "trade_data" in event:
        return _direct(event)
    raise UnsupportedEventError(
        "event has neither 'trades', 'trade_data' nor S3 'Records'; allowed: "
        '{"trades": [...]}, {"trade_data": {...}} or an S3 ObjectCreated notification'
    )


def record_into(index: int, record: Any, into: Chunk) -> None:
    """Validate one generic record (the slow, precise path) into ``into``."""
    try:
        into.accept(index, validate(record))
    except RecordError as err:
        tid = record.get("trade_id") if isinstance(record, Mapping) else None
        into.rejections.append(
            Rejection(index, tid if isinstance(tid, str) else None, err.reason, record)
        )


def _typed(index: int, wire: WireTrade, into: Chunk) -> None:
    try:
        into.accept(index, finish(wire))
    except RecordError as err:
        into.rejections.append(Rejection(index, wire.trade_id, err.reason, wire))


def _clean_records(part: Sequence[Any]) -> list[Trade] | None:
    """All of ``part`` as trades if every record is valid and already canonical, else None."""
    try:
        trades = msgspec.convert(part, list[Trade])
    except msgspec.ValidationError:
        return None
    return trades if all_valid(trades) else None


def decode_trades(records: Sequence[Any], start: int = 0) -> Iterator[Chunk]:
    """Records that are already Python objects (direct invocation, JSON array elements)."""
    for lo in range(0, len(records), CHUNK_RECORDS):
        part = records[lo : lo + CHUNK_RECORDS]
        clean = _clean_records(part)
        if clean is not None:
            yield Chunk.clean(clean, start + lo)
            continue
        chunk = Chunk.empty()
        try:
            wires = msgspec.convert(part, list[WireTrade])
        except msgspec.ValidationError:
            for offset, record in enumerate(part):
                record_into(start + lo + offset, record, chunk)
        else:
            for offset, wire in enumerate(wires):
                _typed(start + lo + offset, wire, chunk)
        yield chunk


def _line(index: int, line: bytes, into: Chunk) -> None:
    try:
        _typed(index, _TYPED.decode(line), into)
    except msgspec.ValidationError:
        record_into(index, _GENERIC.decode(line), into)
    except msgspec.DecodeError as err:
        into.rejections.append(
            Rejection(
                index,
                None,
                f"line is not valid JSON ({err}); allowed: one JSON object " "per line",
                _excerpt(line),
            )
        )


def _clean_lines(data: bytes) -> list[Trade] | None:
    """Every line as a trade in one C call, if all are valid and canonical, else None.

    ``decode_lines`` skips blank lines, which would shift indexes: then the count differs
    from the number of lines and the precise path takes over.
    """
    try:
        trades = _CLEAN.decode_lines(data)
    except msgspec.DecodeError:
        return None
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    return trades if len(trades) == lines and all_valid(trades) else None


def _jsonl_chunk(data: bytes, first: int) -> Chunk:
    clean = _clean_lines(data)
    if clean is not None:
        return Chunk.clean(clean, first)
    chunk = Chunk.empty()
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    try:
        decode = _TYPED.decode
        wires: list[WireTrade] | None = [decode(line) for line in lines]
    except msgspec.DecodeError:
        wires = None
    if wires is not None:
        for offset, wire in enumerate(wires):
            _typed(first + offset, wire, chunk)
        return chunk
    for offset, line in enumerate(lines):
        if line.strip():
            _line(first + offset, line, chunk)
    return chunk


class _Reader:
    """A byte stream with a peekable head and decompression-error mapping."""

    def __init__(self, head: bytes, rest: ByteStream) -> None:
        self._head, self._rest = head, rest

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            cut = len(self._head) if size < 0 else size
            out, self._head = self._head[:cut], self._head[cut:]
            return out
        try:
            return self._rest.read(size)
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:
            raise MalformedObjectError(f"object: gzip stream is broken ({err})") from None


def _iter_jsonl(reader: _Reader) -> Iterator[Chunk]:
    pending, index, skipping = b"", 0, False
    while True:
        block = reader.read(CHUNK_BYTES)
        data = pending + block
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if skipping:
            newline = data.find(b"\n")
            if newline < 0 and block:
                pending = b""
                continue
            data, skipping = data[newline + 1 :], False
            cut = data.rfind(b"\n") + 1 if block else len(data)
        if cut == 0 and block and len(data) > MAX_LINE_BYTES:
            yield Chunk(
                [],
                [],
                [
                    Rejection(
                        index, None, f"line is longer than {MAX_LINE_BYTES} bytes", _excerpt(data)
                    )
                ],
            )
            pending, index, skipping = b"", index + 1, True
            continue
        complete, pending = data[:cut], data[cut:]
        if complete:
            yield _jsonl_chunk(complete, index)
            index += complete.count(b"\n") + (0 if complete.endswith(b"\n") else 1)
        if not block:
            return


def _detect(head: bytes, key: str) -> str:
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    lowered = key.lower().removesuffix(".gz")
    if text.startswith(b"["):
        return "array"
    if text.startswith(b"{"):
        if lowered.endswith((".jsonl", ".ndjson")):
            return "jsonl"
        first = text.split(b"\n", 1)[0]
        try:
            parsed = _GENERIC.decode(first)
        except msgspec.DecodeError:
            return "wrapped"
        return "wrapped" if isinstance(parsed, dict) and "trades" in parsed else "jsonl"
    if lowered.endswith(".csv") or b"trade_id" in text.split(b"\n", 1)[0].lower():
        return "csv"
    raise MalformedObjectError(
        f"object: unrecognised format (starts with {_excerpt(text[:40], 40)!r}); allowed: JSON "
        'Lines, a JSON array, {"trades": [...]} or CSV with a header, optionally gzip',
        0,
    )


def decode_object(body: ByteStream, key: str) -> Iterator[Chunk]:
    """Chunks of an S3 object, whatever its supported format; gzip is detected by magic bytes.

    Raises ``MalformedObjectError`` (possibly after some chunks) when the object as a whole
    cannot be read: the caller then applies nothing from it.
    """
    magic = body.read(2)
    stream: ByteStream = body
    if magic == _GZIP_MAGIC:
        stream = gzip.GzipFile(fileobj=_Reader(magic, body), mode="rb")  # type: ignore[call-overload]
        magic = b""
    reader = _Reader(b"", stream)
    head = magic + reader.read(65_536)
    if not head:
        return
    kind = _detect(head, key)
    reader = _Reader(head, reader)
    try:
        if kind == "jsonl":
            yield from _iter_jsonl(reader)
        else:  # the rarer formats live apart, compiled only when one arrives (cold start)
            from processor.documents import iter_document

            yield from iter_document(kind, reader)
    except UnicodeDecodeError as err:
        raise MalformedObjectError(
            f"object: not UTF-8 text ({err.reason} at byte {err.start})",
        ) from None
