"""`make demo`: one environment end to end on the embedded emulator, with a readable report.

Steps: render the stack program offline, start moto on 127.0.0.1, create the table and buckets
from the rendered definitions, upload the shipped sample under `incoming/`, deliver the
ObjectCreated notification to the real handler (then once more, to show a redelivery changes
nothing), and print the stored bars, the accepted/rejected counts, the archive and the timings.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO, TypeVar

import boto3

from local_platform.delivery import object_created_event
from local_platform.emulator import EmulatorError, running_emulator
from local_platform.provision import LocalEnvironment, provision
from platform_core import PlatformError, discover_environments
from platform_core.database import not_emulated
from platform_core.offline import RenderError, render_stack

__all__ = ["DEFAULT_SAMPLE", "LocalRun", "main", "run"]

REPO_ROOT = Path(__file__).resolve().parents[3]  # the checkout: local_platform/src/local_platform/
DEFAULT_SAMPLE = REPO_ROOT / "samples" / "market-data.jsonl"
UPLOAD_KEY = "incoming/dt=2026-11-20/market data.jsonl"
STEPS = 6
T = TypeVar("T")


@dataclass
class LocalRun:
    """What the run produced, for the report and for tests."""

    environment: str
    endpoint_url: str = ""
    resources: LocalEnvironment | None = None
    response: Mapping[str, Any] = field(default_factory=dict)
    redelivery: Mapping[str, Any] = field(default_factory=dict)
    bars: list[dict[str, Any]] = field(default_factory=list)
    archive: list[tuple[str, int]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    function_log: list[str] = field(default_factory=list)


class Progress:
    """`[n/6] step … ok (0.12 s)` lines, so a slow step never looks like a hang."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.step = out, 0

    @contextmanager
    def __call__(self, text: str, timings: dict[str, float], key: str) -> Iterator[None]:
        self.step += 1
        self.out.write(f"[{self.step}/{STEPS}] {text} … ")
        self.out.flush()
        started = time.perf_counter()
        yield
        timings[key] = time.perf_counter() - started
        self.out.write(f"ok ({timings[key]:.2f} s)\n")
        self.out.flush()


def _timed(timings: dict[str, float], key: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    timings[key] = time.perf_counter() - started
    return result


def _load_handler(variables: Mapping[str, str]) -> Callable[[Any, Any], Any]:
    """Import the real handler with the function's environment, as Lambda would (cold start)."""
    os.environ.update(variables)
    for name in [module for module in sys.modules if module.startswith("processor.")]:
        del sys.modules[name]  # a fresh "container": clients are created at import
    module = importlib.import_module("processor.handler")
    handler: Callable[[Any, Any], Any] = module.handler
    return handler


def _stored_bars(table_name: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(table_name)
    items: list[dict[str, Any]] = []
    scan: dict[str, Any] = {}
    while True:
        page = table.scan(**scan)
        items += [item for item in page["Items"] if str(item["sk"]).startswith("BAR#")]
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (str(item["pk"]), str(item["sk"])))


def run(environment: str, sample: Path, port: int, region: str, out: TextIO) -> LocalRun:
    result = LocalRun(environment)
    progress = Progress(out)
    with progress(f"rendering stacks/{environment} (Pulumi mock engine)", result.timings, "render"):
        stack = render_stack(REPO_ROOT / "stacks" / environment)
    out.writelines(not_emulated(stack))
    with ExitStack() as cleanup:  # the emulator stops whatever happens below
        with progress("starting the AWS emulator on 127.0.0.1", result.timings, "emulator"):
            emulator = cleanup.enter_context(running_emulator(port, region))
        result.endpoint_url = emulator.endpoint_url
        with progress(
            "creating the table and buckets from those definitions", result.timings, "provision"
        ):
            result.resources = resources = provision(stack)
        s3 = boto3.client("s3")
        with progress(
            f"uploading {sample.name} to s3://{resources.ingest_bucket}/{UPLOAD_KEY}",
            result.timings,
            "upload",
        ):
            s3.upload_file(str(sample), resources.ingest_bucket, UPLOAD_KEY)
            head = s3.head_object(Bucket=resources.ingest_bucket, Key=UPLOAD_KEY)
        event = object_created_event(
            bucket=resources.ingest_bucket,
            key=UPLOAD_KEY,
            size=int(head["ContentLength"]),
            etag=str(head["ETag"]),
            version_id=head.get("VersionId"),
            region=region,
        )
        function_log = io.StringIO()  # the function's stdout: what CloudWatch Logs would get
        with (
            progress(
                "delivering the ObjectCreated notification to processor.handler.handler",
                result.timings,
                "deliver",
            ),
            redirect_stdout(function_log),
        ):
            handler = _timed(
                result.timings, "cold_import", lambda: _load_handler(resources.function_environment)
            )
            result.response = _timed(
                result.timings, "first_invocation", lambda: handler(event, None)
            )
            result.redelivery = _timed(result.timings, "redelivery", lambda: handler(event, None))
        result.function_log = function_log.getvalue().splitlines()
        with progress("reading the stored bars and the archive", result.timings, "read"):
            result.bars = _stored_bars(resources.table_name)
            listing = s3.list_objects_v2(Bucket=resources.archive_bucket).get("Contents", [])
            result.archive = [(str(item["Key"]), int(item["Size"])) for item in listing]
    return result


def _number(value: Any, places: int | None = None) -> str:
    number = Decimal(str(value))
    return f"{number:.{places}f}" if places is not None else f"{number.normalize():f}"


def report(result: LocalRun, out: TextIO) -> None:
    resources = result.resources
    assert resources is not None
    (batch,) = result.response["batches"]
    (again,) = result.redelivery["batches"]
    out.write(f"\nEnvironment {result.environment} on {result.endpoint_url} (stopped now)\n")
    out.write(f"  table  {resources.table_name}\n  ingest {resources.ingest_bucket} "
              f"(trigger: {', '.join(resources.trigger_events)} on {resources.trigger_prefix}*)\n"
              f"  archive {resources.archive_bucket}\n")  # fmt: skip
    for item in resources.not_replayed:
        out.write(f"  not replayed locally: {item}\n")

    header = ("SYMBOL", "MINUTE (UTC)", "OPEN", "HIGH", "LOW", "CLOSE", "VOLUME", "VWAP", "TRADES")
    rows = [
        (
            str(bar["pk"]).removeprefix("SYMBOL#"),
            str(bar["sk"]).removeprefix("BAR#1m#"),
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
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    symbols = len({row[0] for row in rows})
    out.write(f"\nBars: {len(rows)} one-minute bars for {symbols} symbols\n")
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.write("  " + "  ".join(cells) + "\n")

    rejected = batch["rejected"]
    total = batch.get("rejected_total", len(rejected))
    out.write(f"\nBatch {batch['batch_id']}: {batch['accepted']} accepted, {total} rejected\n")
    for item in rejected:
        out.write(f"  record {item['index']} (trade_id {item['trade_id']!r}): {item['reason']}\n")
    same = "unchanged" if again["bars"] == batch["bars"] else "CHANGED"
    out.write(f"Redelivery of the same notification: {again['accepted']} accepted, bars {same}\n")

    out.write("\nFunction log (JSON lines)\n")
    for line in result.function_log:
        out.write(f"  {line}\n")

    out.write(f"\nArchive s3://{resources.archive_bucket}/\n")
    for key, size in result.archive:
        out.write(f"  {key}  ({size:,} bytes)\n")

    timings = result.timings
    whole = sum(
        timings[key] for key in ("render", "emulator", "provision", "upload", "deliver", "read")
    )
    out.write("\nTimings\n")
    for label, value in (
        (
            "handler import (cold start, clients created)",
            f"{timings['cold_import'] * 1000:8.1f} ms",
        ),
        ("first invocation", f"{timings['first_invocation'] * 1000:8.1f} ms"),
        ("redelivered invocation", f"{timings['redelivery'] * 1000:8.1f} ms"),
        ("whole run", f"{whole:8.2f} s"),
    ):
        out.write(f"  {label:<46}{value}\n")


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", "-e", choices=discover_environments(), default="dev")
    parser.add_argument(
        "--sample", type=Path, default=DEFAULT_SAMPLE, help="market-data file to upload"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="emulator port on 127.0.0.1 (0: any free port)"
    )
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    if not args.sample.is_file():
        print(f"error: sample file {args.sample} does not exist", file=sys.stderr)
        return 2
    try:
        result = run(args.environment, args.sample, args.port, args.region, out)
    except EmulatorError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 2
    except (RenderError, PlatformError) as error:
        print(f"\nerror: stacks/{args.environment} does not render: {error}", file=sys.stderr)
        return 2
    report(result, out)
    return 0
