"""README's first command: the platform end to end on the embedded emulator (SPEC §7)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from benchmarks.market_data import sample_records

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "samples" / "market-data.jsonl"


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_platform", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def expected_bars() -> dict[tuple[str, str], dict[str, Decimal]]:
    """The sample's bars computed independently: every record the generator marks bad is out."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in SAMPLE.read_text().splitlines():
        record = json.loads(line)
        if not str(record.get("trade_id", "bad-")).startswith("bad-"):
            minute = int(record["timestamp"]) // 60_000 * 60_000
            label = datetime.fromtimestamp(minute / 1000, UTC)
            groups[(record["symbol"], label.strftime("%Y-%m-%dT%H:%MZ"))].append(record)
    bars = {}
    for key, trades in groups.items():
        ordered = sorted(trades, key=lambda t: (int(t["timestamp"]), t["trade_id"]))
        prices = [Decimal(str(t["price"])) for t in trades]
        volume = sum((Decimal(str(t["quantity"])) for t in trades), Decimal(0))
        notional = sum(
            (Decimal(str(t["price"])) * Decimal(str(t["quantity"])) for t in trades), Decimal(0)
        )
        bars[key] = {
            "open": Decimal(str(ordered[0]["price"])),
            "high": max(prices),
            "low": min(prices),
            "close": Decimal(str(ordered[-1]["price"])),
            "volume": volume,
            "vwap": (notional / volume).quantize(Decimal("0.00000001")),
            "trades": Decimal(len(trades)),
        }
    return bars


def reported_bars(output: str) -> dict[tuple[str, str], dict[str, Decimal]]:
    rows = re.findall(r"^  ([A-Z][A-Z0-9.-]*)\s+(\d{4}-\d\d-\d\dT\d\d:\d\dZ)\s+(.+)$", output, re.M)
    names = ("open", "high", "low", "close", "volume", "vwap", "trades")
    return {
        (s, m): dict(zip(names, map(Decimal, rest.split()), strict=True)) for s, m, rest in rows
    }


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    return run_demo("--environment", "dev")


def test_demo_succeeds_and_reports_each_step(demo):
    assert demo.returncode == 0, demo.stderr
    assert "Traceback" not in demo.stderr + demo.stdout  # no emulator-side failure either
    for step in range(1, 7):
        assert f"[{step}/6] " in demo.stdout
    assert "table  dev-trading-analytics-us-east-1" in demo.stdout
    assert "trigger: s3:ObjectCreated:* on incoming/*" in demo.stdout


def test_stored_bars_match_an_independent_aggregation(demo):
    expected = expected_bars()
    assert len(expected) == 25
    assert reported_bars(demo.stdout) == expected
    assert "Bars: 25 one-minute bars for 5 symbols" in demo.stdout


def test_bad_records_are_counted_with_reasons_and_redelivery_changes_nothing(demo):
    assert "240 accepted, 6 rejected" in demo.stdout
    for fragment in ("'AA$PL' is invalid", "missing field(s) trade_id", "price: '-1.5'",
                     "price: 'NaN'", "quantity: '0'", "has no zone"):  # fmt: skip
        assert fragment in demo.stdout
    assert "Redelivery of the same notification: 240 accepted, bars unchanged" in demo.stdout


def test_archive_holds_raw_and_rejected_objects(demo):
    assert re.search(r"raw/dt=\d{4}-\d\d-\d\d/hour=\d\d/s3-[0-9a-f]+\.jsonl\.gz", demo.stdout)
    assert re.search(r"rejected/dt=\d{4}-\d\d-\d\d/hour=\d\d/s3-[0-9a-f]+\.jsonl\.gz", demo.stdout)
    assert "first invocation" in demo.stdout


def test_nothing_is_left_listening(demo):
    match = re.search(r"on http://127\.0\.0\.1:(\d+) \(stopped now\)", demo.stdout)
    assert match is not None
    port = int(match.group(1))
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect(("127.0.0.1", port))


def test_a_taken_port_is_a_clear_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_demo("--port", str(port))
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is taken" in result.stderr


def test_shipped_sample_is_the_generators_output():
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    assert records == sample_records(240, 5)
