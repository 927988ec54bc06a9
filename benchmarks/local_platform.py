"""Measure the local platform on the benchmark's 100,000-trade file, as ratios in one run.

    .venv/bin/python -m benchmarks.local_platform [--trades 100000]

The file is the processor benchmark's (``MarketData(trades, symbols=50, seed=7)``, JSON Lines).
The same handler processes it twice, side by side:

- on the in-process stub of ``benchmarks.processor`` (``StubAws``), best of three: the floor;
- end to end on the local platform, exactly as ``python -m local_platform --file PATH`` runs it
  (moto's server on 127.0.0.1, the table, buckets and role created from the rendered stack,
  IAM enforced, the handler running as its role), in a child process whose peak resident
  memory (emulator and handler together) is the memory figure.

Targets: the emulator run takes at most 10x the stub's time, with peak memory at most 1 GB.
Bounded: about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.market_data import MarketData, write_trades
from benchmarks.processor import StubAws, _runtime, _s3_event

__all__ = ["main"]

TARGET_RATIO = 10.0
TARGET_PEAK_MB = 1024.0
_STUB_ENV = {
    "TABLE_NAME": "bench-table",
    "ARCHIVE_BUCKET": "bench-archive",
    "INGEST_BUCKET": "ingest",
    "ENVIRONMENT": "dev",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
}
# Runs in a child process, so its peak memory is the local platform's alone.
_EMULATOR_PROBE = """
import io, json, resource, sys
from pathlib import Path
from local_platform.run import Options, run

result = run(Options(file=Path(sys.argv[1])), io.StringIO())
assert result.handler_error is None, result.handler_error
(batch, _) = result.batches
steps = ("render", "emulator", "provision", "upload", "deliver", "probe", "read")
print(json.dumps({
    "seconds": result.timings["first_invocation"],
    "whole_s": sum(result.timings[k] for k in steps),
    "accepted": batch["accepted"],
    "bars": len(result.bars),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def stub_seconds(path: Path, runs: int = 3) -> tuple[float, int]:
    """Best of ``runs`` end-to-end handler calls on the in-process stub; and the bar count."""
    from processor.handler import handle

    best, bars = float("inf"), 0
    for run in range(runs):
        runtime = _runtime(StubAws({"incoming/trades.jsonl": path}))
        event = _s3_event("incoming/trades.jsonl", f"e{run}")  # the stub keeps no ledger
        start = time.perf_counter()
        out = handle(event, runtime.service)
        best = min(best, time.perf_counter() - start)
        bars = len(out["batches"][0]["bars"])
    return best, bars


def emulator_run(path: Path, timeout_s: float) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", _EMULATOR_PROBE, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the local platform run failed:\n{completed.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return figures


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.local_platform", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--trades", type=int, default=100_000, help="trades in the file (default: 100000)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds the emulator run may take before the benchmark gives up (default: 600)",
    )
    args = parser.parse_args(argv)
    os.environ.update({k: v for k, v in _STUB_ENV.items() if k not in os.environ})
    import logging

    from processor.logs import get_logger

    get_logger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="local-platform-bench-") as tmp:
        path = write_trades(Path(tmp) / "trades.jsonl", MarketData(args.trades, symbols=50, seed=7))
        size_mb = path.stat().st_size / 1e6
        stub_s, stub_bars = stub_seconds(path)
        emulator = emulator_run(path, args.timeout)
    if emulator["accepted"] != args.trades or emulator["bars"] != stub_bars:
        raise SystemExit(f"the two runs disagree: {emulator} vs {stub_bars} bars on the stub")
    ratio = emulator["seconds"] / stub_s
    print(f"Local platform: {args.trades} trades JSON Lines ({size_mb:.1f} MB, 50 symbols, "
          f"{stub_bars} bars)")  # fmt: skip
    print(f"    handler on the in-process stub   {stub_s * 1e3:9.1f} ms   (best of 3)")
    print(
        f"    handler on the emulator          {emulator['seconds'] * 1e3:9.1f} ms   "
        f"ratio {ratio:.2f}x  target <= {TARGET_RATIO:g}x  {_verdict(ratio, TARGET_RATIO)}"
    )
    print(
        f"    peak memory of the local platform {emulator['peak_mb']:8.0f} MB   "
        f"target <= {TARGET_PEAK_MB:g} MB  {_verdict(emulator['peak_mb'], TARGET_PEAK_MB)}"
    )
    print(f"    whole local run (render, emulator, set-up, upload, deliver, probes, read) "
          f"{emulator['whole_s']:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
