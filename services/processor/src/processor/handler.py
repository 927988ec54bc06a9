"""Lambda entry point: adapts the event and context to the service, and outcomes to a response.

Settings, clients, the thread pool and the service are created once per container, at import
(boto3 honours ``AWS_ENDPOINT_URL``, so the same code runs against a local emulator).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import boto3
import msgspec
from botocore.config import Config

from processor.archive import S3Archive, S3Objects
from processor.bars import Bar, minute_label
from processor.decode import Rejection
from processor.events import parse_event
from processor.logs import bound, get_logger, log
from processor.service import BatchOutcome, Service
from processor.settings import Limits, Settings
from processor.store import DynamoBarStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

__all__ = ["Runtime", "handle", "handler", "response"]

LOGGER = get_logger()
_WORKERS = 16
_IO_WORKERS = 3
#: Container allocations between young collections (Python's default: 700).
_YOUNG_COLLECTION_AFTER = 20_000


class Runtime(msgspec.Struct, frozen=True):
    """Everything created once per container: the service over its adapters, and the pools."""

    service: Service
    #: AWS calls in parallel (a batch's bars are written by many transactions at once).
    executor: Executor
    #: Compression and read-ahead beside decoding: few threads, so few malloc arenas hold
    #: their megabyte buffers (each thread that allocates them keeps its own).
    io_executor: Executor

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        ddb: DynamoDBClient | None = None,
        s3: S3Client | None = None,
        endpoint_url: str | None = None,
        workers: int = _WORKERS,
        clock: Callable[[], float] = time.time,
    ) -> Runtime:
        """Clients honour ``AWS_ENDPOINT_URL`` (boto3 reads it) unless ``endpoint_url`` is
        given; tests may hand in their own clients."""
        if ddb is None or s3 is None:
            config = Config(max_pool_connections=workers * 2, retries={"mode": "standard"})
            session = boto3.session.Session()
            ddb = ddb or session.client("dynamodb", config=config, endpoint_url=endpoint_url)
            s3 = s3 or session.client("s3", config=config, endpoint_url=endpoint_url)
        executor = ThreadPoolExecutor(workers, thread_name_prefix="processor")
        io_executor = ThreadPoolExecutor(_IO_WORKERS, thread_name_prefix="processor-io")
        store = DynamoBarStore(ddb, settings.table_name, executor, settings.ledger_ttl_s, workers)
        archive = S3Archive(s3, settings.archive_bucket)
        service = Service(settings, store, archive, S3Objects(s3), io_executor, clock)
        return cls(service, executor, io_executor)


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


def _outcome_json(outcome: BatchOutcome, bars: int, rejections: int) -> dict[str, Any]:
    """One outcome, with at most ``bars`` bars and ``rejections`` rejections listed."""
    ordered = sorted(outcome.bars, key=lambda b: b.key)
    shown = ordered[:bars]
    body: dict[str, Any] = {
        "batch_id": outcome.batch_id,
        "status": outcome.status,
        "source": outcome.source,
        "accepted": outcome.accepted,
        "rejected": [_rejection_json(r) for r in outcome.rejections[:rejections]],
        "rejected_total": outcome.rejected_total,
        "bars": [_bar_json(bar) for bar in shown],
        "bars_total": len(ordered),
        "bars_truncated": len(shown) < len(ordered),
    }
    if outcome.message is not None:
        body["message"] = outcome.message
    return body


def response(kind: str, outcomes: list[BatchOutcome], limits: Limits) -> dict[str, Any]:
    """The invocation's response: one outcome (direct call, unusable event) or ``batches``.

    Bars and rejections listed are capped across the whole response (the archive and the
    table hold everything), so it stays under Lambda's 6 MB payload limit for any input.
    """
    bars, rejections = limits.max_response_bars, limits.max_reported_rejections
    rendered = []
    for outcome in outcomes:
        rendered.append(_outcome_json(outcome, bars, rejections))
        bars -= len(rendered[-1]["bars"])
        rejections -= len(rendered[-1]["rejected"])
    return {"batches": rendered} if kind == "s3" else rendered[0]


def handle(
    event: Any, service: Service, *, request_id: str | None = None, cold_start: bool = False
) -> dict[str, Any]:
    """Handle one event; input is reported, never raised; AWS errors propagate (Lambda retries)."""
    with bound(request_id=request_id, cold_start=cold_start):
        settings = service.settings
        parsed = parse_event(event, settings.ingest_bucket, settings.limits)
        try:
            outcomes = [service.run(source) for source in parsed.sources]
        except Exception as err:
            log(LOGGER, logging.ERROR, "failed; Lambda retries the event", error=repr(err))
            raise
        return response(parsed.kind, outcomes, settings.limits)


SETTINGS = Settings.from_env()
RUNTIME = Runtime.create(SETTINGS)
# Everything created so far lives as long as the container: keep it out of every later
# collection (a full one would scan boto3's ~70,000 objects, ~30 ms), and run the young
# collection less often (a batch keeps ~100,000 containers until its requests are sent).
gc.freeze()
gc.set_threshold(_YOUNG_COLLECTION_AFTER)
_cold = True


def handler(event: Any, context: Any) -> dict[str, Any]:
    """``processor.handler.handler``: the function's entry point."""
    global _cold
    cold, _cold = _cold, False
    return handle(
        event,
        RUNTIME.service,
        request_id=getattr(context, "aws_request_id", None),
        cold_start=cold,
    )
