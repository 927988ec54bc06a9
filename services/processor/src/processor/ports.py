"""The small interfaces between the pipeline and what it reads from and writes to.

For the type checker only (modules import this under ``TYPE_CHECKING``): an adapter needs no
base class, just these methods, and tests hand in their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Protocol

from processor.bars import Bar, BarKey
from processor.decode import Chunk
from processor.events import ObjectRef
from processor.settings import Limits
from processor.store import Applied, Current, Ledger

__all__ = ["Archive", "BarStore", "ByteStream", "Decoder", "Objects", "Source"]


class ByteStream(Protocol):
    """What is read from: a botocore ``StreamingBody``, a file, ``io.BytesIO``."""

    def read(self, size: int = ..., /) -> bytes: ...


class Source(ByteStream, Protocol):
    """A decoder's input: an object's content (decompressed), from its first record on.

    ``skipped_lines``: line breaks in blank space before that (the index of the first line).
    """

    skipped_lines: int


class Decoder(Protocol):
    def __call__(self, source: Source, limits: Limits) -> Iterator[Chunk]: ...


class BarStore(Protocol):
    """Where bars and the batch ledger live (``store.DynamoBarStore``)."""

    def claim(
        self, batch_id: str, fingerprint: str, counts: tuple[int, int], source: str, now_ms: int
    ) -> Ledger: ...

    def read(self, keys: Iterable[BarKey], batch_id: str | None = None) -> Current: ...

    def apply(
        self, bars: Iterable[Bar], batch_id: str, expires_at: int, current: dict[BarKey, Bar]
    ) -> Applied: ...

    def complete(self, batch_id: str) -> None: ...


class Archive(Protocol):
    """Where accepted and rejected records are kept (``archive.S3Archive``)."""

    def put(self, key: str, body: IO[bytes], source: str) -> None: ...

    def copy_source(self, ref: ObjectRef, key: str) -> None: ...


class Objects(Protocol):
    """Where notified objects are read from (``archive.S3Objects``)."""

    def open(self, ref: ObjectRef) -> ByteStream: ...
