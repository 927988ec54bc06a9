"""Input formats: the registry, the sniffing that picks one, and the byte stream they all read.

Adding a format is one entry in ``FORMATS``: the module that decodes it (imported the first
time such an object arrives, so a cold start compiles only what it uses) and how to recognise
it. Every decoder module has ``decode(source, limits) -> Iterator[Chunk]`` and imports only
``decode`` and ``records``: decoders never import each other or this module.

The stream a decoder reads is the object's bytes after gzip (detected by its magic bytes),
without a leading UTF-8 byte-order mark, counted against the byte limit and hashed: the hash
of the whole content identifies the batch, so the same bytes uploaded again count once.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import hashlib
import importlib
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Final, NamedTuple

import msgspec

from processor.decode import Chunk
from processor.errors import MalformedObjectError, ObjectTooLargeError, SourceReadError
from processor.settings import Limits

if TYPE_CHECKING:
    from processor.ports import ByteStream, Decoder


__all__ = ["FORMATS", "Content", "Format", "detect", "open_content"]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_HEAD_BYTES: Final = 65_536
_SNIFF: Final = msgspec.json.Decoder()


def _first_line(head: bytes) -> bytes:
    return head.split(b"\n", 1)[0]


def _is_lines(head: bytes, suffix: str) -> bool:
    """JSON Lines: objects, one per line; the first line is a whole object, not a document
    with a ``trades`` array (named ``.jsonl``/``.ndjson``, that is decisive)."""
    if suffix in (".jsonl", ".ndjson"):
        return True
    if not head.lstrip().startswith(b"{"):
        return False
    try:
        first = _SNIFF.decode(_first_line(head))
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(first, dict) and "trades" not in first


def _is_document(head: bytes, suffix: str) -> bool:
    """One JSON document: an array of trades, or an object with a ``trades`` array."""
    return head.lstrip().startswith((b"[", b"{"))


def _is_csv(head: bytes, suffix: str) -> bool:
    """CSV with a header row naming the columns."""
    return suffix == ".csv" or b"trade_id" in _first_line(head).lower()


class Format(NamedTuple):
    """One input format: where its decoder lives and how to recognise it."""

    module: str
    recognise: Callable[[bytes, str], bool]
    description: str

    def decoder(self) -> Decoder:
        decode: Decoder = importlib.import_module(self.module).decode
        return decode


#: Tried in order; the first format that recognises the object's first bytes decodes it.
FORMATS: Final[dict[str, Format]] = {
    "jsonl": Format("processor.jsonl", _is_lines, "JSON Lines"),
    "json": Format("processor.documents", _is_document, 'a JSON array or {"trades": [...]}'),
    "csv": Format("processor.csvfile", _is_csv, "CSV with a header"),
}


#: Content that is certainly not UTF-8 text of any format, by its first bytes.
_NOT_TEXT: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32 text"),
    (codecs.BOM_UTF32_BE, "UTF-32 text"),
    (codecs.BOM_UTF16_LE, "UTF-16 text"),
    (codecs.BOM_UTF16_BE, "UTF-16 text"),
    (_GZIP_MAGIC, "gzip-compressed twice"),
    (b"PK\x03\x04", "a zip archive"),
)


def _not_text(head: bytes) -> str | None:
    """Why ``head`` cannot start UTF-8 text: judged once for the whole object, so a file in
    another encoding gets one clear reason instead of one rejection per record."""
    for magic, what in _NOT_TEXT:
        if head.startswith(magic):
            return what
    if b"\x00" in head:  # no format here has NUL bytes; UTF-16/32 text without a BOM does
        return "binary, or UTF-16/UTF-32 text (it holds NUL bytes)"
    return None


def detect(head: bytes, key: str) -> str:
    """The name of the format of an object whose content starts with ``head``."""
    allowed = ", ".join(fmt.description for fmt in FORMATS.values())
    if (what := _not_text(head)) is not None:
        raise MalformedObjectError(
            f"object: the content is {what}, not UTF-8 text; allowed: {allowed}, in UTF-8, "
            "each optionally gzip-compressed once",
            0,
        )
    suffix = "." + key.lower().removesuffix(".gz").rsplit(".", 1)[-1] if "." in key else ""
    for name, fmt in FORMATS.items():
        if fmt.recognise(head, suffix):
            return name
    raise MalformedObjectError(
        f"object: unrecognised format (starts with {head[:40]!r}); allowed: {allowed}, "
        "each optionally gzip-compressed",
        0,
    )


class _Body:
    """The S3 body: a failure to read it is the network's, not the content's (transient)."""

    def __init__(self, body: ByteStream) -> None:
        self._body = body

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._body.read(size)
        except Exception as err:
            raise SourceReadError(
                f"reading the object failed: {type(err).__name__}: {err}"
            ) from err


class Content:
    """The decompressed content: counted against ``max_bytes``, hashed, BOM removed.

    ``head`` is its first block holding something besides whitespace (what formats are
    recognised by); whole blocks of whitespace before it are skipped, ``skipped_lines``
    counts their line breaks.

    With an ``executor``, the next block is read, decompressed and hashed on a pool thread
    while the caller decodes this one (socket reads, zlib and hashlib release the GIL); one
    block in flight, so memory stays flat and the order holds. ``close`` waits for it.
    """

    def __init__(self, body: ByteStream, max_bytes: int, executor: Executor | None = None) -> None:
        raw = _Body(body)
        magic = raw.read(2)
        self._stream: ByteStream = raw
        if magic == _GZIP_MAGIC:
            self._stream = gzip.GzipFile(fileobj=_Prefixed(magic, raw), mode="rb")  # type: ignore[call-overload]
            magic = b""
        self._max_bytes, self._read = max_bytes, 0
        self._hash = hashlib.sha256()
        self._executor = executor
        self._next: Future[bytes] | None = None
        self.skipped_lines = 0
        head = self._counted(magic + self._raw(_HEAD_BYTES)).removeprefix(codecs.BOM_UTF8)
        while head and not head.strip():
            self.skipped_lines += head.count(b"\n")
            head = self._counted(self._raw(_HEAD_BYTES))
        self.head = head
        self._pending = head

    def _raw(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:
            raise MalformedObjectError(f"object: gzip stream is broken ({err})") from None

    def _counted(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._max_bytes:
            raise ObjectTooLargeError(
                f"object: larger than {self._max_bytes} bytes once decompressed; allowed: at "
                f"most {self._max_bytes} bytes (split the file)"
            )
        self._hash.update(data)
        return data

    def _fetch(self, size: int) -> bytes:
        return self._counted(self._raw(size))

    def read(self, size: int = -1, /) -> bytes:
        if self._pending:
            cut = len(self._pending) if size < 0 else size
            out, self._pending = self._pending[:cut], self._pending[cut:]
            return out
        if self._executor is None or size < 0:
            self.close()
            return self._fetch(size)
        future, self._next = self._next, None
        data = (future or self._executor.submit(self._fetch, size)).result()
        if data:
            self._next = self._executor.submit(self._fetch, size)
        if len(data) > size:
            data, self._pending = data[:size], data[size:]
        return data

    def close(self) -> None:
        """Let a block in flight finish (its error, if any, is not the one to report)."""
        future, self._next = self._next, None
        if future is not None:
            with contextlib.suppress(Exception):
                future.result()

    @property
    def digest(self) -> str:
        """SHA-256 of everything read so far (the whole content, once decoding finished)."""
        self.close()
        return self._hash.hexdigest()


class _Prefixed:
    """A stream with bytes already read put back in front."""

    def __init__(self, prefix: bytes, rest: ByteStream) -> None:
        self._prefix, self._rest = prefix, rest

    def read(self, size: int = -1, /) -> bytes:
        if self._prefix:
            cut = len(self._prefix) if size < 0 else size
            out, self._prefix = self._prefix[:cut], self._prefix[cut:]
            return out
        return self._rest.read(size)


def open_content(
    body: ByteStream, key: str, limits: Limits, executor: Executor | None = None
) -> tuple[Content, Iterator[Chunk]]:
    """The content of an object and the chunks of its records, in whatever format it is.

    Raises ``MalformedObjectError`` (possibly after some chunks) when the object as a whole
    cannot be read, ``ObjectTooLargeError`` past a size limit: the caller then applies nothing
    from it. ``SourceReadError`` means the read itself failed (transient).
    """
    content = Content(body, limits.max_object_bytes, executor)
    if not content.head:
        return content, iter(())
    decode = FORMATS[detect(content.head, key)].decoder()
    return content, decode(content, limits)
