"""The rarer paths of a batch, loaded the first time one is taken: an input rejected whole
(malformed, too large), a batch id reused for other records, and the trades of bars the
limits refuse moved from the accepted lines to the rejected ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import msgspec

from processor.archive import GzipSpool, archive_key
from processor.bars import MINUTE_MS, BarKey, minute_label
from processor.batch import BatchResult, rejection_lines
from processor.contract import REJECTED_ARCHIVE_PREFIX
from processor.decode import ENCODER, Rejection
from processor.errors import BatchConflictError
from processor.events import ObjectRef
from processor.records import validate
from processor.service import BatchOutcome, duplicate_message
from processor.strict import json_safe

if TYPE_CHECKING:
    from processor.service import Service

__all__ = ["conflict", "reject_whole", "withdraw"]

_LINE: Final = msgspec.json.Decoder(float_hook=Decimal)
_MOVE_BATCH: Final = 5_000


def _refusal_reason(key: BarKey) -> str:
    return (
        f"bar {key[0]} {minute_label(key[1])}: this batch's trades would take its volume or "
        "notional to 1e22 or beyond; allowed: below 1e22 each (DynamoDB keeps 38 significant "
        "digits)"
    )


def reject_whole(
    service: Service,
    batch_id: str,
    fingerprint: str,
    source: str,
    reason: str,
    index: int | None,
    keep: ObjectRef | Sequence[Any],
) -> BatchOutcome:
    """Nothing of the input is applied: its reason (and the input itself) are kept."""
    rejection = Rejection(index, None, f"{reason}; nothing from this input was applied")
    ledger = service.store.claim(batch_id, fingerprint, (0, 1), source, service.now_ms())
    if ledger.complete:
        message = duplicate_message(batch_id, ledger)
        return BatchOutcome("duplicate", batch_id, source, 0, 1, [rejection], message=message)
    at = ledger.received_at_ms
    lines = GzipSpool()
    try:
        lines.write(rejection_lines([rejection], service.limits.max_depth))
        key = archive_key(REJECTED_ARCHIVE_PREFIX, at, batch_id)
        service.archive.put(key, lines.finish(), ledger.source)
    finally:
        lines.close()
    if isinstance(keep, ObjectRef):
        service.archive.copy_source(
            keep, archive_key(REJECTED_ARCHIVE_PREFIX, at, batch_id, ".source")
        )
    else:
        _keep_records(
            service,
            keep,
            archive_key(REJECTED_ARCHIVE_PREFIX, at, batch_id, ".source.jsonl.gz"),
            ledger.source,
        )
    service.store.complete(batch_id)
    return BatchOutcome("rejected", batch_id, source, 0, 1, [rejection], message=reason)


def _keep_records(service: Service, records: Sequence[Any], key: str, source: str) -> None:
    spool = GzipSpool()
    try:
        depth = service.limits.max_depth
        for lo in range(0, len(records), _MOVE_BATCH):
            part = records[lo : lo + _MOVE_BATCH]
            spool.write(ENCODER.encode_lines([json_safe(record, depth) for record in part]))
        service.archive.put(key, spool.finish(), source)
    finally:
        spool.close()


def conflict(
    service: Service,
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
        service.archive.put(key, raw.finish(), source)
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


def withdraw(
    service: Service, refused: set[BarKey], raw: GzipSpool, rejected: GzipSpool, result: BatchResult
) -> GzipSpool:
    """Move the trades of refused bars from the accepted lines to the rejected ones."""
    kept = GzipSpool(service.executor)
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
            _reject_more(service, moved, rejected, result)
    _reject_more(service, moved, rejected, result)
    for key in refused:
        result.bars.pop(key, None)
    return kept


def _reject_more(
    service: Service, moved: list[Rejection], rejected: GzipSpool, result: BatchResult
) -> None:
    rejected.write(rejection_lines(moved, service.limits.max_depth))
    result.accepted -= len(moved)
    result.rejected += len(moved)
    room = service.limits.max_reported_rejections - len(result.reported)
    result.reported.extend(moved[: max(0, room)])
    moved.clear()
