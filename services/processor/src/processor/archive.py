"""S3 adapters: read the notified ingest object; write gzip JSON Lines to the archive bucket."""

from __future__ import annotations

import contextlib
import tempfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, wait
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import quote

from botocore.exceptions import ClientError
from isal import isal_zlib

from processor.errors import ObjectGoneError
from processor.events import ObjectRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from processor.ports import ByteStream

__all__ = ["GzipSpool", "S3Archive", "S3Objects", "archive_key"]

#: ISA-L's level 1 (gzip any reader reads): about a third of the CPU of zlib's fastest level
#: (the archive was the handler's largest cost after decoding), and ~8% smaller output.
_LEVEL: Final = 1
_SPOOL_IN_MEMORY: Final = 2 << 20
_READ_BYTES: Final = 1 << 20
_IN_FLIGHT: Final = 2
#: What S3 answers when the notified version is gone (deleted, or overwritten: ETag differs).
_GONE: Final = frozenset({"NoSuchKey", "NoSuchVersion", "PreconditionFailed", "404", "412"})


def archive_key(prefix: str, received_at_ms: int, batch_id: str, suffix: str = ".jsonl.gz") -> str:
    """``raw/dt=YYYY-MM-DD/hour=HH/<batch id>.jsonl.gz`` (partitioned by first receipt)."""
    moment = datetime.fromtimestamp(received_at_ms / 1000, tz=UTC)
    return f"{prefix.rstrip('/')}/dt={moment:%Y-%m-%d}/hour={moment:%H}/{batch_id}{suffix}"


class GzipSpool:
    """Gzip-compress lines as they come; spill to /tmp past 2 MiB so memory stays flat.

    The gzip header has mtime 0, so the same lines always give the same bytes (a redelivered
    batch rewrites an identical object).

    With an ``executor``, blocks are compressed on a pool thread: ISA-L releases the GIL, so
    compressing overlaps with decoding on the caller's thread. Two blocks may be in flight
    (so the caller rarely waits for a thread to get the GIL back); they are written in
    order, and memory stays flat. The bytes are the same either way. Only ``compress`` runs
    there: the spool file grows on the caller's thread, in the caller's malloc arena.
    """

    def __init__(self, executor: Executor | None = None) -> None:
        self._compressor = isal_zlib.compressobj(_LEVEL, isal_zlib.DEFLATED, 31)
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self._executor = executor
        self._pending: deque[Future[bytes]] = deque()
        self.lines_written = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.lines_written = True
        if self._executor is None:
            self._file.write(self._compressor.compress(data))
            return
        if len(self._pending) == _IN_FLIGHT:
            self._file.write(self._pending.popleft().result())
        previous = self._pending[-1] if self._pending else None
        self._pending.append(self._executor.submit(self._compress, data, previous))

    def _compress(self, data: bytes, previous: Future[bytes] | None) -> bytes:
        if previous is not None:  # one compressor: blocks go through it in order
            wait([previous])
        return self._compressor.compress(data)

    def _drain(self) -> None:
        """Write the blocks in flight, if any (re-raising what compressing them raised)."""
        while self._pending:
            self._file.write(self._pending.popleft().result())

    def finish(self) -> IO[bytes]:
        """Flush and rewind; the spool is then a readable gzip file."""
        self._drain()
        self._file.write(self._compressor.flush())
        self._file.seek(0)
        return self._file

    def lines(self) -> Iterator[bytes]:
        """The lines written so far, decompressed again (after ``finish``; rarely needed)."""
        decompressor = zlib.decompressobj(31)
        pending = b""
        while block := self._file.read(_READ_BYTES):
            pending += decompressor.decompress(block)
            *complete, pending = pending.split(b"\n")
            yield from complete
        if pending:
            yield pending

    def close(self) -> None:
        # Called on the way out of a failure too: let the blocks in flight end first (their
        # errors, if any, are not the one to report) so none writes to a closed file.
        with contextlib.suppress(Exception):
            self._drain()
        self._file.close()


class S3Archive:
    """Puts objects into the archive bucket, and nowhere else."""

    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3, self._bucket = s3, bucket

    def put(self, key: str, body: IO[bytes], source: str) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/x-ndjson",
            Metadata={"source": quote(source, safe="/:")},  # S3 metadata is ASCII
        )

    def copy_source(self, ref: ObjectRef, key: str) -> None:
        """Keep an input object that could not be read whole next to its reason."""
        source: dict[str, str] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            source["VersionId"] = ref.version_id
        self._s3.copy_object(Bucket=self._bucket, Key=key, CopySource=source)  # type: ignore[arg-type]


class S3Objects:
    """Reads the ingest objects that notifications announce."""

    def __init__(self, s3: S3Client) -> None:
        self._s3 = s3

    def open(self, ref: ObjectRef) -> ByteStream:
        """Stream exactly the notified version (by VersionId, or guarded by its ETag)."""
        args: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            args["VersionId"] = ref.version_id
        else:
            args["IfMatch"] = ref.etag
        try:
            body: ByteStream = self._s3.get_object(**args)["Body"]
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in _GONE:
                raise ObjectGoneError(f"{ref.uri}: {code}") from None
            raise
        return body
