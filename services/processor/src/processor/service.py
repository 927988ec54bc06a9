"""The service: one batch source in, one ``BatchOutcome`` out.

    event -> sources (events) -> records (formats, decode) -> bars (batch, bars)
          -> store and archive (the Protocols below) -> outcome

``Service.run`` is the whole path of one source, in this order: decode and aggregate (nothing
written yet); claim the batch in the ledger (a completed batch is a duplicate: nothing more
happens); read the touched bars and this batch's markers; refuse bars that would pass the bar
limits; archive what was accepted and what was rejected (so every record in a bar is in the
archive first); merge the bars exactly once; mark the batch complete. A crash anywhere is
healed by Lambda's retry: every step repeats with the same keys and bytes, and the markers
skip what is already in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any, Final, Literal, Protocol

import msgspec

from processor.archive import GzipSpool, archive_key
from processor.bars import MINUTE_MS, Bar, BarKey, exceeds_limits, merge, minute_label
from processor.batch import BatchResult, consume, rejection_lines
from processor.contract import RAW_ARCHIVE_PREFIX, REJECTED_ARCHIVE_PREFIX
from processor.decode import ENCODER, ByteStream, Rejection, decode_records, json_safe
from processor.errors import (
    BarLimitRaceError,
    BatchConflictError,
    MalformedObjectError,
    ObjectGoneError,
    ObjectTooLargeError,
    SourceReadError,
)
from processor.events import DirectBatch, ObjectRef, Refusal, Source
from processor.formats import open_content
from processor.logs import get_logger, log
from processor.records import validate
from processor.settings import Settings
from processor.store import Applied, Current, Ledger

__all__ = ["Archive", "BarStore", "BatchOutcome", "Objects", "Service", "Status"]

LOGGER = get_logger()
_LINE: Final = msgspec.json.Decoder(float_hook=Decimal)
_MOVE_BATCH: Final = 5_000

Status = Literal["applied", "duplicate", "rejected", "conflict", "refused", "skipped"]


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


class BatchOutcome(msgspec.Struct):
    """What became of one source. ``bars``: the touched bars as stored after it."""

    status: Status
    batch_id: str | None
    source: str
    accepted: int = 0
    rejected_total: int = 0
    rejections: list[Rejection] = msgspec.field(default_factory=list)
    bars: list[Bar] = msgspec.field(default_factory=list)
    message: str | None = None


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refusal_reason(key: BarKey) -> str:
    return (
        f"bar {key[0]} {minute_label(key[1])}: this batch's trades would take its volume or "
        "notional to 1e22 or beyond; allowed: below 1e22 each (DynamoDB keeps 38 significant "
        "digits)"
    )


class Service:
    """Runs the pipeline for one source at a time, against the given adapters."""

    def __init__(
        self,
        settings: Settings,
        store: BarStore,
        archive: Archive,
        objects: Objects,
        executor: Executor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._limits = settings.limits
        self._store, self._archive, self._objects = store, archive, objects
        self._executor, self._clock = executor, clock

    def run(self, source: Source) -> BatchOutcome:
        """The outcome of one source; only AWS/transient errors raise."""
        started = time.perf_counter()
        if isinstance(source, Refusal):
            outcome = BatchOutcome("refused", None, source.source, message=source.reason)
        elif isinstance(source, DirectBatch):
            outcome = self._direct(source)
        else:
            outcome = self._object(source)
        self._log(outcome, time.perf_counter() - started)
        return outcome

    def _log(self, outcome: BatchOutcome, seconds: float) -> None:
        level = logging.INFO if outcome.status in ("applied", "duplicate") else logging.WARNING
        messages = {
            "applied": "batch applied",
            "duplicate": "duplicate batch: nothing changed",
            "rejected": "input rejected whole: nothing applied",
            "conflict": "batch id conflict: nothing applied",
            "refused": "refused: nothing read or written",
            "skipped": "object gone or replaced: its own notification covers it",
        }
        log(
            LOGGER,
            level,
            messages[outcome.status],
            status=outcome.status,
            batch_id=outcome.batch_id,
            source=outcome.source,
            accepted=outcome.accepted,
            rejected=outcome.rejected_total,
            bars=len(outcome.bars),
            detail=outcome.message,
            duration_ms=round(seconds * 1000, 1),
        )

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- sources -----------------------------------------------------------------------------

    def _direct(self, batch: DirectBatch) -> BatchOutcome:
        if batch.problem is not None:
            return self._reject_whole(
                batch.batch_id, batch.fingerprint, "direct", batch.problem, None, [batch.payload]
            )
        if len(batch.records) > self._limits.max_records:
            reason = (
                f"event: {len(batch.records)} trades; allowed: at most "
                f"{self._limits.max_records} per call (split it)"
            )
            return self._reject_whole(
                batch.batch_id, batch.fingerprint, "direct", reason, None, batch.records
            )
        raw, rejected = GzipSpool(self._executor), GzipSpool(self._executor)
        try:
            try:
                chunks = decode_records(batch.records, 0, self._limits.max_depth)
                result = consume(chunks, self._limits, raw.write, rejected.write)
            except ObjectTooLargeError as err:
                return self._reject_whole(
                    batch.batch_id, batch.fingerprint, "direct", err.reason, None, batch.records
                )
            return self._apply(batch.batch_id, batch.fingerprint, "direct", result, raw, rejected)
        finally:
            raw.close()
            rejected.close()

    def _object(self, ref: ObjectRef) -> BatchOutcome:
        try:
            body = self._objects.open(ref)
        except ObjectGoneError as err:
            return BatchOutcome("skipped", None, ref.uri, message=str(err))
        raw, rejected = GzipSpool(self._executor), GzipSpool(self._executor)
        content = None
        try:
            try:
                content, chunks = open_content(body, ref.key, self._limits, self._executor)
                result = consume(chunks, self._limits, raw.write, rejected.write)
            except SourceReadError:
                raise
            except MalformedObjectError as err:
                return self._reject_whole(
                    ref.location_id, ref.location_id, ref.uri, err.reason, err.index, ref
                )
            except Exception as err:  # of any class: the object is rejected, not retried
                reason = f"object: could not be decoded ({type(err).__name__}: {err})"
                return self._reject_whole(
                    ref.location_id, ref.location_id, ref.uri, reason, None, ref
                )
            batch_id = f"s3-{content.digest[:32]}"  # the content names the batch
            return self._apply(batch_id, content.digest, ref.uri, result, raw, rejected)
        finally:
            if content is not None:
                content.close()
            raw.close()
            rejected.close()

    # -- writing -----------------------------------------------------------------------------

    def _apply(
        self,
        batch_id: str,
        fingerprint: str,
        source: str,
        result: BatchResult,
        raw: GzipSpool,
        rejected: GzipSpool,
    ) -> BatchOutcome:
        """Claim, read, refuse, archive, merge, complete (the module's docstring says why)."""
        now_ms = self._now_ms()
        counts = (result.accepted, result.rejected)
        try:
            ledger = self._store.claim(batch_id, fingerprint, counts, source, now_ms)
        except BatchConflictError as err:
            return self._conflict(batch_id, fingerprint, source, result, raw, err, now_ms)
        if ledger.complete:
            return self._duplicate(batch_id, source, result, ledger)
        current = self._store.read(result.bars, batch_id)
        pending, refused = [], set()
        for key, bar in result.bars.items():
            if key in current.applied:
                continue
            old = current.bars.get(key)
            if exceeds_limits(bar if old is None else merge(old, bar)):
                refused.add(key)
            else:
                pending.append(bar)
        kept = self._withdraw(refused, raw, rejected, result) if refused else raw
        try:
            for prefix, spool in ((RAW_ARCHIVE_PREFIX, kept), (REJECTED_ARCHIVE_PREFIX, rejected)):
                if spool.lines_written:
                    name = archive_key(prefix, ledger.received_at_ms, batch_id)
                    self._archive.put(name, spool.finish(), ledger.source)
        finally:
            kept.close()
        expires_at = ledger.received_at_ms // 1000 + self.settings.ledger_ttl_s
        applied = self._store.apply(pending, batch_id, expires_at, current.bars)
        if applied.refused:
            raise BarLimitRaceError(
                f"batch {batch_id}: {len(applied.refused)} bar(s) grew past the bar limits while "
                "it merged; the retry refuses its trades of them"
            )
        self._store.complete(batch_id)
        stored = applied.stored + [current.bars[k] for k in current.applied if k in current.bars]
        return BatchOutcome(
            "applied",
            batch_id,
            source,
            result.accepted,
            result.rejected,
            result.reported,
            stored,
        )

    def _withdraw(
        self, refused: set[BarKey], raw: GzipSpool, rejected: GzipSpool, result: BatchResult
    ) -> GzipSpool:
        """Move the trades of refused bars from the accepted lines to the rejected ones."""
        kept = GzipSpool(self._executor)
        moved: list[Rejection] = []
        raw.finish()
        for line in raw.lines():
            record = _LINE.decode(line)
            trade = validate(record)  # an accepted line: the same trade as before
            key = (trade.symbol, trade.timestamp - trade.timestamp % MINUTE_MS)
            if key not in refused:
                kept.write(line + b"\n")
                continue
            moved.append(Rejection(None, trade.trade_id, _refusal_reason(key), record))
            if len(moved) >= _MOVE_BATCH:
                self._reject_more(moved, rejected, result)
        self._reject_more(moved, rejected, result)
        for key in refused:
            result.bars.pop(key, None)
        return kept

    def _reject_more(
        self, moved: list[Rejection], rejected: GzipSpool, result: BatchResult
    ) -> None:
        rejected.write(rejection_lines(moved, self._limits.max_depth))
        result.accepted -= len(moved)
        result.rejected += len(moved)
        room = self._limits.max_reported_rejections - len(result.reported)
        result.reported.extend(moved[: max(0, room)])
        moved.clear()

    def _duplicate(
        self, batch_id: str, source: str, result: BatchResult, ledger: Ledger
    ) -> BatchOutcome:
        stored = list(self._store.read(result.bars).bars.values())
        message = (
            f"duplicate of batch {batch_id}, first received from {ledger.source} at "
            f"{_iso(ledger.received_at_ms)}; nothing changed"
        )
        return BatchOutcome(
            "duplicate",
            batch_id,
            source,
            result.accepted,
            result.rejected,
            result.reported,
            stored,
            message,
        )

    def _conflict(
        self,
        batch_id: str,
        fingerprint: str,
        source: str,
        result: BatchResult,
        raw: GzipSpool,
        err: BatchConflictError,
        now_ms: int,
    ) -> BatchOutcome:
        key = archive_key(
            REJECTED_ARCHIVE_PREFIX, now_ms, batch_id, f".conflict-{fingerprint[:12]}.jsonl.gz"
        )
        if raw.lines_written:
            self._archive.put(key, raw.finish(), source)
        reason = f"{err}; its accepted records are kept at {key}"
        return BatchOutcome(
            "conflict",
            batch_id,
            source,
            0,
            result.accepted + result.rejected,
            [Rejection(None, None, reason)],
            message=reason,
        )

    def _reject_whole(
        self,
        batch_id: str,
        fingerprint: str,
        source: str,
        reason: str,
        index: int | None,
        keep: ObjectRef | Sequence[Any],
    ) -> BatchOutcome:
        """Nothing of the input is applied: its reason (and the input itself) are kept."""
        rejection = Rejection(index, None, f"{reason}; nothing from this input was applied")
        ledger = self._store.claim(batch_id, fingerprint, (0, 1), source, self._now_ms())
        if ledger.complete:
            message = (
                f"duplicate of batch {batch_id}, first received from {ledger.source} at "
                f"{_iso(ledger.received_at_ms)}; nothing changed"
            )
            return BatchOutcome("duplicate", batch_id, source, 0, 1, [rejection], message=message)
        at = ledger.received_at_ms
        lines = GzipSpool()
        try:
            lines.write(rejection_lines([rejection], self._limits.max_depth))
            key = archive_key(REJECTED_ARCHIVE_PREFIX, at, batch_id)
            self._archive.put(key, lines.finish(), ledger.source)
        finally:
            lines.close()
        if isinstance(keep, ObjectRef):
            self._archive.copy_source(
                keep, archive_key(REJECTED_ARCHIVE_PREFIX, at, batch_id, ".source")
            )
        else:
            self._keep_records(
                keep,
                archive_key(REJECTED_ARCHIVE_PREFIX, at, batch_id, ".source.jsonl.gz"),
                ledger.source,
            )
        self._store.complete(batch_id)
        return BatchOutcome("rejected", batch_id, source, 0, 1, [rejection], message=reason)

    def _keep_records(self, records: Sequence[Any], key: str, source: str) -> None:
        spool = GzipSpool()
        try:
            depth = self._limits.max_depth
            for lo in range(0, len(records), _MOVE_BATCH):
                part = records[lo : lo + _MOVE_BATCH]
                spool.write(ENCODER.encode_lines([json_safe(record, depth) for record in part]))
            self._archive.put(key, spool.finish(), source)
        finally:
            spool.close()
