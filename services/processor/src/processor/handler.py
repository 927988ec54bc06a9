"""Lambda entry point: event -> pure core -> adapters -> response (SPEC §5).

Clients, settings and the thread pool are created once per container, at import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import boto3
import msgspec
from botocore.config import Config
from botocore.exceptions import ClientError

from processor.archive import ArchiveWriter, GzipSpool, archive_key, open_object
from processor.bars import Bar, minute_label
from processor.decode import (
    Chunk,
    DirectBatch,
    ObjectRef,
    Rejection,
    decode_object,
    decode_trades,
    parse_event,
)
from processor.errors import BatchConflictError, MalformedObjectError, UnsupportedEventError
from processor.logs import get_logger, log
from processor.pipeline import BatchResult, consume
from processor.settings import Settings
from processor.store import BarStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["Runtime", "handler", "process"]

LOGGER = get_logger()
_WORKERS = 16


class Runtime(msgspec.Struct, frozen=True):
    """Everything created once per container: settings, clients, adapters, the thread pool."""

    settings: Settings
    s3: S3Client
    store: BarStore
    archive: ArchiveWriter
    #: For work that overlaps with the caller's (archive compression); None: inline.
    executor: Executor | None = None

    @classmethod
    def create(
        cls, settings: Settings, endpoint_url: str | None = None, workers: int = _WORKERS
    ) -> Runtime:
        """Clients honour ``AWS_ENDPOINT_URL`` (boto3 reads it) unless ``endpoint_url`` is given."""
        config = Config(max_pool_connections=workers * 2, retries={"mode": "standard"})
        session = boto3.session.Session()
        ddb = session.client("dynamodb", config=config, endpoint_url=endpoint_url)
        s3 = session.client("s3", config=config, endpoint_url=endpoint_url)
        executor: Executor = ThreadPoolExecutor(workers, thread_name_prefix="processor")
        return cls(
            settings,
            s3,
            BarStore(ddb, settings.table_name, executor, settings.ledger_ttl_s, workers),
            ArchiveWriter(s3, settings.archive_bucket),
            executor,
        )


def _bar_json(bar: Bar) -> dict[str, Any]:
    """A stored bar for the response: decimals as exact strings (JSON has no Decimal)."""
    return {
        "symbol": bar.symbol,
        "minute": minute_label(bar.minute_ms),
        "open": str(bar.open),
        "high": str(bar.high),
        "low": str(bar.low),
        "close": str(bar.close),
        "volume": str(bar.volume),
        "notional": str(bar.notional),
        "vwap": str(bar.vwap),
        "trade_count": bar.trade_count,
        "open_ts": bar.open_ts,
        "close_ts": bar.close_ts,
    }


def _rejection_json(r: Rejection) -> dict[str, Any]:
    return {"index": r.index, "trade_id": r.trade_id, "reason": r.reason}


def _run_batch(
    runtime: Runtime, batch_id: str, source: str, chunks: Iterator[Chunk], ref: ObjectRef | None
) -> dict[str, Any]:
    """Decode and aggregate, claim the ledger, archive, merge bars, complete the ledger."""
    raw, rejected = GzipSpool(runtime.executor), GzipSpool(runtime.executor)
    try:
        try:
            result = consume(chunks, batch_id, source, raw.write, rejected.write)
            malformed: MalformedObjectError | None = None
        except MalformedObjectError as err:  # poison: apply nothing from this input
            raw.close()
            malformed, raw = err, GzipSpool()
            result = BatchResult()
            failure = Rejection(
                err.index,
                None,
                f"{err.reason}; nothing from this input was applied",
                {"source": source},
            )
            result.reported.append(failure)
            result.rejected = 1
            # Only the failure is recorded: the fresh `raw` spool stays empty.
            consume(iter([Chunk([], [], [failure])]), batch_id, source, raw.write, rejected.write)
            result.fingerprint = f"malformed:{err.reason}"
        return _store(runtime, batch_id, source, result, raw, rejected, ref, malformed)
    finally:
        raw.close()
        rejected.close()


def _store(
    runtime: Runtime,
    batch_id: str,
    source: str,
    result: BatchResult,
    raw: GzipSpool,
    rejected: GzipSpool,
    ref: ObjectRef | None,
    malformed: MalformedObjectError | None,
) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    counts = (result.accepted, result.rejected)
    fields: dict[str, Any] = {
        "batch_id": batch_id,
        "source": source,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "bars": len(result.bars),
    }
    try:
        ledger = runtime.store.claim(batch_id, result.fingerprint, counts, source, now_ms)
    except BatchConflictError as err:
        key = archive_key(
            "rejected", now_ms, batch_id, f".conflict-{result.fingerprint[:12]}.jsonl.gz"
        )
        if raw.lines_written:
            runtime.archive.put(key, raw)
        log(LOGGER, logging.ERROR, "batch id conflict: nothing applied", **fields, archived=key)
        return {
            "batch_id": batch_id,
            "accepted": 0,
            "rejected": [
                {"index": None, "trade_id": None, "reason": f"{err}; trades archived at {key}"}
            ],
            "bars": [],
        }
    if ledger.complete:
        stored = list(runtime.store.read(result.bars).values())
        log(LOGGER, logging.INFO, "duplicate batch: nothing changed", **fields)
    else:
        puts = []
        if raw.lines_written:
            puts.append((archive_key("raw", ledger.received_at_ms, batch_id), raw))
        if rejected.lines_written:
            puts.append((archive_key("rejected", ledger.received_at_ms, batch_id), rejected))
        if malformed is not None and ref is not None:
            runtime.archive.copy_source(
                ref, archive_key("rejected", ledger.received_at_ms, batch_id, ".source")
            )
        for key, spool in puts:
            runtime.archive.put(key, spool)
        current = runtime.store.read(result.bars)
        expires_at = ledger.received_at_ms // 1000 + runtime.settings.ledger_ttl_s
        stored = runtime.store.apply(result.bars.values(), batch_id, expires_at, current)
        runtime.store.complete(batch_id)
        log(LOGGER, logging.INFO, "batch processed", **fields)
    return {
        "batch_id": batch_id,
        "accepted": result.accepted,
        "rejected": [_rejection_json(r) for r in result.reported],
        "rejected_total": result.rejected,
        "bars": [_bar_json(bar) for bar in sorted(stored, key=lambda b: b.key)],
    }


def _object_batch(runtime: Runtime, ref: ObjectRef) -> dict[str, Any]:
    try:
        body = open_object(runtime.s3, ref)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code not in {"NoSuchKey", "PreconditionFailed", "412", "404", "NoSuchVersion"}:
            raise
        log(
            LOGGER,
            logging.WARNING,
            "object gone or replaced; its own notification covers it",
            batch_id=ref.batch_id,
            source=ref.uri,
            error=code,
        )
        return {
            "batch_id": ref.batch_id,
            "accepted": 0,
            "rejected": [],
            "bars": [],
            "skipped": f"{ref.uri}: {code}",
        }
    return _run_batch(runtime, ref.batch_id, ref.uri, decode_object(body, ref.key), ref)


def _malformed_event(runtime: Runtime, event: Any, err: Exception) -> dict[str, Any]:
    def chunks() -> Iterator[Chunk]:
        yield from ()
        raise MalformedObjectError(str(err))

    return _run_batch(runtime, "invalid-event", "direct", chunks(), None)


def process(event: Any, runtime: Runtime) -> dict[str, Any]:
    """Handle one event; poison input is reported, AWS errors propagate (Lambda retries)."""
    try:
        parsed = parse_event(event)
    except (UnsupportedEventError, MalformedObjectError) as err:
        log(LOGGER, logging.ERROR, "unusable event", error=str(err))
        return {
            "batch_id": None,
            "accepted": 0,
            "bars": [],
            "rejected": [{"index": None, "trade_id": None, "reason": str(err)}],
        }
    if isinstance(parsed, DirectBatch):
        return _run_batch(runtime, parsed.batch_id, "direct", decode_trades(parsed.records), None)
    return {"batches": [_object_batch(runtime, ref) for ref in parsed]}


SETTINGS = Settings.from_env()
RUNTIME = Runtime.create(SETTINGS)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """``processor.handler.handler``: the function's entry point."""
    return process(event, RUNTIME)
