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
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import msgspec

from processor.archive import GzipSpool, archive_key
from processor.bars import Bar, exceeds_limits, merge
from processor.batch import BatchResult, consume
from processor.contract import RAW_ARCHIVE_PREFIX, REJECTED_ARCHIVE_PREFIX
from processor.decode import Rejection
from processor.errors import (
    BarLimitRaceError,
    BatchConflictError,
    MalformedObjectError,
    ObjectGoneError,
    ObjectTooLargeError,
    SourceReadError,
)
from processor.events import DirectBatch, ObjectRef, Refusal, Source
from processor.logs import get_logger, log
from processor.settings import Settings
from processor.store import Ledger

if TYPE_CHECKING:
    from processor.ports import Archive, BarStore, Objects


__all__ = ["BatchOutcome", "Service", "Status"]

LOGGER = get_logger()

Status = Literal["applied", "duplicate", "rejected", "conflict", "refused", "skipped"]


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


def duplicate_message(batch_id: str, ledger: Ledger) -> str:
    return (
        f"duplicate of batch {batch_id}, first received from {ledger.source} at "
        f"{_iso(ledger.received_at_ms)}; nothing changed"
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
        self.settings, self.limits = settings, settings.limits
        self.store, self.archive, self.objects = store, archive, objects
        self.executor, self._clock = executor, clock

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

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- sources -----------------------------------------------------------------------------

    def _direct(self, batch: DirectBatch) -> BatchOutcome:
        if batch.problem is not None:
            from processor import rare  # the rarer paths: loaded when taken

            return rare.reject_whole(
                self,
                batch.batch_id,
                batch.fingerprint,
                "direct",
                batch.problem,
                None,
                [batch.payload],
            )
        if len(batch.records) > self.limits.max_records:
            reason = (
                f"event: {len(batch.records)} trades; allowed: at most "
                f"{self.limits.max_records} per call (split it)"
            )
            from processor import rare  # the rarer paths: loaded when taken

            return rare.reject_whole(
                self, batch.batch_id, batch.fingerprint, "direct", reason, None, batch.records
            )
        raw, rejected = GzipSpool(self.executor), GzipSpool(self.executor)
        try:
            try:
                from processor.direct import (
                    decode_records,  # direct calls only: loaded on the first
                )

                chunks = decode_records(batch.records, 0, self.limits.max_depth)
                result = consume(chunks, self.limits, raw.write, rejected.write)
            except ObjectTooLargeError as err:
                from processor import rare  # the rarer paths: loaded when taken

                return rare.reject_whole(
                    self,
                    batch.batch_id,
                    batch.fingerprint,
                    "direct",
                    err.reason,
                    None,
                    batch.records,
                )
            return self._apply(batch.batch_id, batch.fingerprint, "direct", result, raw, rejected)
        finally:
            raw.close()
            rejected.close()

    def _object(self, ref: ObjectRef) -> BatchOutcome:
        try:
            body = self.objects.open(ref)
        except ObjectGoneError as err:
            return BatchOutcome("skipped", None, ref.uri, message=str(err))
        from processor.formats import open_content  # S3 events only: not at a cold start

        raw, rejected = GzipSpool(self.executor), GzipSpool(self.executor)
        content = None
        try:
            try:
                content, chunks = open_content(body, ref.key, self.limits, self.executor)
                result = consume(chunks, self.limits, raw.write, rejected.write)
            except SourceReadError:
                raise
            except MalformedObjectError as err:
                from processor import rare  # the rarer paths: loaded when taken

                return rare.reject_whole(
                    self, ref.location_id, ref.location_id, ref.uri, err.reason, err.index, ref
                )
            except Exception as err:  # of any class: the object is rejected, not retried
                reason = f"object: could not be decoded ({type(err).__name__}: {err})"
                from processor import rare  # the rarer paths: loaded when taken

                return rare.reject_whole(
                    self, ref.location_id, ref.location_id, ref.uri, reason, None, ref
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
        now_ms = self.now_ms()
        counts = (result.accepted, result.rejected)
        try:
            ledger = self.store.claim(batch_id, fingerprint, counts, source, now_ms)
        except BatchConflictError as err:
            from processor import rare  # the rarer paths: loaded when taken

            return rare.conflict(self, batch_id, fingerprint, source, result, raw, err, now_ms)
        if ledger.complete:
            return self._duplicate(batch_id, source, result, ledger)
        # A ledger this claim created means no attempt of the batch ran before: no markers to
        # look for (one left past the horizon still fails its put, which settles that bar).
        current = self.store.read(result.bars, None if ledger.created else batch_id)
        pending, refused = [], set()
        for key, bar in result.bars.items():
            if key in current.applied:
                continue
            old = current.bars.get(key)
            if exceeds_limits(bar if old is None else merge(old, bar)):
                refused.add(key)
            else:
                pending.append(bar)
        kept = raw
        if refused:
            from processor import rare  # the rarer paths: loaded when taken

            kept = rare.withdraw(self, refused, raw, rejected, result)
        try:
            for prefix, spool in ((RAW_ARCHIVE_PREFIX, kept), (REJECTED_ARCHIVE_PREFIX, rejected)):
                if spool.lines_written:
                    name = archive_key(prefix, ledger.received_at_ms, batch_id)
                    self.archive.put(name, spool.finish(), ledger.source)
        finally:
            kept.close()
        expires_at = ledger.received_at_ms // 1000 + self.settings.ledger_ttl_s
        applied = self.store.apply(pending, batch_id, expires_at, current.bars)
        if applied.refused:
            raise BarLimitRaceError(
                f"batch {batch_id}: {len(applied.refused)} bar(s) grew past the bar limits while "
                "it merged; the retry refuses its trades of them"
            )
        self.store.complete(batch_id)
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

    def _duplicate(
        self, batch_id: str, source: str, result: BatchResult, ledger: Ledger
    ) -> BatchOutcome:
        stored = list(self.store.read(result.bars).bars.values())
        message = duplicate_message(batch_id, ledger)
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
