"""The run's report: environment, the role's proof, bars, counts, log, archive, timings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TextIO

from local_platform.run import LocalRun
from processor.contract import BAR_SORT_KEY_PREFIX, SYMBOL_PARTITION_KEY_PREFIX

__all__ = ["MAX_BAR_ROWS", "report"]

#: Beyond this many bars the table is cut (the query command reads any of them).
MAX_BAR_ROWS = 60


def _number(value: Any, places: int | None = None) -> str:
    number = Decimal(str(value))
    return f"{number:.{places}f}" if places is not None else f"{number.normalize():f}"


def _environment(result: LocalRun, out: TextIO, running: bool) -> None:
    resources, role = result.resources, result.role
    assert resources is not None and role is not None
    state = "running" if running else "stopped now"
    out.write(f"\nEnvironment {result.options.environment} ({result.region}) on "
              f"{result.endpoint_url} ({state})\n"
              f"  table   {resources.table_name}\n"
              f"  ingest  {resources.ingest_bucket} (trigger: {', '.join(resources.trigger_events)}"
              f" on {resources.trigger_prefix}*)\n"
              f"  archive {resources.archive_bucket}\n"
              f"  failure queue {resources.failure_queue_url}\n")  # fmt: skip
    for item in resources.not_replayed:
        out.write(f"  not replayed locally: {item}\n")


def _role(result: LocalRun, out: TextIO) -> None:
    role = result.role
    assert role is not None
    boundary = f", boundary {role.boundary_arn}" if role.boundary_arn else ""
    verdict = (
        "every call it made was allowed"
        if result.handler_error is None
        else f"the handler FAILED: {result.handler_error}"
    )
    out.write(
        f"\nIAM enforced: the handler ran with an assumed session of the function's role\n"
        f"  {role.arn} (inline policy {', '.join(role.policy_names)}{boundary}),\n"
        f"  created from the rendered stack; {verdict}.\n"
    )
    for note in role.not_evaluated:
        out.write(f"  not evaluated locally (its requests are refused): {note}\n")
    out.write("  What the role must not do, and what a deleted upload answers:\n")
    width = max(len(probe.label) for probe in result.probes)
    for probe in result.probes:
        verdict = "as AWS answers" if probe.as_expected else f"WRONG: AWS answers {probe.expected}"
        out.write(f"    {probe.label:<{width}}  {probe.outcome:<22} {verdict}\n")


def _bars(result: LocalRun, out: TextIO) -> None:
    header = ("SYMBOL", "MINUTE (UTC)", "OPEN", "HIGH", "LOW", "CLOSE", "VOLUME", "VWAP", "TRADES")
    rows = [
        (
            str(bar["pk"]).removeprefix(SYMBOL_PARTITION_KEY_PREFIX),
            str(bar["sk"]).removeprefix(BAR_SORT_KEY_PREFIX),
            _number(bar["open"]),
            _number(bar["high"]),
            _number(bar["low"]),
            _number(bar["close"]),
            _number(bar["volume"]),
            _number(bar["vwap"], 8),
            _number(bar["trade_count"]),
        )
        for bar in result.bars
    ]
    symbols = len({row[0] for row in rows})
    out.write(f"\nBars: {len(rows)} one-minute bars for {symbols} symbols\n")
    shown = rows[:MAX_BAR_ROWS]
    widths = [max(len(row[i]) for row in [header, *shown]) for i in range(len(header))]
    for row in [header, *shown]:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.write("  " + "  ".join(cells) + "\n")
    if len(rows) > len(shown):
        out.write(
            f"  … and {len(rows) - len(shown)} more (read any symbol's bars with "
            "`python -m operations query`, see --keep-running)\n"
        )


#: What a status other than applied/duplicate means (the processor's response statuses).
_NOT_APPLIED = {
    "refused": "REFUSED by the function: nothing read or written",
    "rejected": "REJECTED as a whole: nothing applied (kept under rejected/ of the archive)",
    "conflict": "CONFLICT: its batch id was used before for other records; nothing applied",
    "skipped": "SKIPPED: the notified object version is gone",
}


def _rejection(item: Mapping[str, Any]) -> str:
    """One rejection as the processor reports it; ``index`` null means not one record."""
    if item.get("index") is None and item.get("trade_id") is None:
        return f"the whole input: {item.get('reason')}"
    where = "" if item.get("index") is None else f"record {item['index']} "
    trade = "no trade_id" if item.get("trade_id") is None else f"trade_id {item['trade_id']!r}"
    return f"{where}({trade}): {item.get('reason')}"


def _batch(result: LocalRun, out: TextIO) -> None:
    batch, again = result.batches
    if result.options.invoke is not None:
        out.write("\nResponse of the direct invocation\n")
        text = json.dumps(result.response, indent=2)
        lines = text.splitlines()
        for line in lines[:80]:
            out.write(f"  {line}\n")
        if len(lines) > 80:
            out.write(f"  … ({len(lines) - 80} more lines)\n")
    status = str(batch.get("status"))
    rejected = batch.get("rejected", [])
    total = batch.get("rejected_total", len(rejected))
    if status in _NOT_APPLIED:
        out.write(f"\n{_NOT_APPLIED[status]}\n")
        if batch.get("message"):
            out.write(f"  {batch['message']}\n")
    else:
        out.write(f"\nBatch {batch.get('batch_id')}: {batch.get('accepted')} accepted, "
                  f"{total} rejected\n")  # fmt: skip
    for item in rejected:
        out.write(f"  {_rejection(item)}\n")
    what = "invocation" if result.options.invoke is not None else "notification"
    same = "unchanged" if again.get("bars") == batch.get("bars") else "CHANGED"
    if status in _NOT_APPLIED:
        out.write(f"Redelivery of the same {what}: {again.get('status')} again\n")
    else:
        out.write(f"Redelivery of the same {what}: {again.get('accepted')} accepted, bars {same}\n")


def _timings(result: LocalRun, out: TextIO) -> None:
    timings = result.timings
    steps = ("render", "emulator", "provision", "upload", "deliver", "probe", "read")
    whole = sum(timings[key] for key in steps)
    out.write("\nTimings\n")
    for label, key in (
        ("handler import (cold start, clients created)", "cold_import"),
        ("first invocation", "first_invocation"),
        ("redelivered invocation", "redelivery"),
    ):
        if key in timings:
            out.write(f"  {label:<46}{timings[key] * 1000:8.1f} ms\n")
    out.write(f"  {'whole run':<46}{whole:8.2f} s\n")


def report(result: LocalRun, out: TextIO, running: bool = False) -> None:
    """Everything the run produced, readable; ``running``: the emulator is still up."""
    resources = result.resources
    assert resources is not None
    _environment(result, out, running)
    _role(result, out)
    _bars(result, out)
    if result.handler_error is None:
        _batch(result, out)
    else:
        out.write(f"\nThe handler raised {result.handler_error}\n")
    out.write("\nFunction log (JSON lines)\n")
    for line in result.function_log[:40]:
        out.write(f"  {line}\n")
    if len(result.function_log) > 40:
        out.write(f"  … ({len(result.function_log) - 40} more lines)\n")
    out.write(f"\nArchive s3://{resources.archive_bucket}/\n")
    for key, size in result.archive:
        out.write(f"  {key}  ({size:,} bytes)\n")
    _timings(result, out)
