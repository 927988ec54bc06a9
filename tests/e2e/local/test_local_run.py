"""README's first command: the platform end to end on the embedded emulator, as its role."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from benchmarks.market_data import sample_records
from local_platform.cli import main, parser
from tests.e2e.local.helpers import PROBES, expected_bars, reported_bars, reported_probes
from tests.repository import ORGANISATION, REPO_ROOT

pytestmark = pytest.mark.e2e  # see tests/conftest.py: kinds of test


ORG = ORGANISATION.prefix  # global (bucket) names start with it
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


def test_readmes_first_command():
    """`make demo`'s command, run once (xdist could run a shared fixture once per worker)."""
    demo = run_demo("--environment", "dev")
    check_demo_succeeds_and_reports_each_step(demo)
    check_the_handler_ran_as_the_rendered_role_with_iam_enforced(demo)
    check_stored_bars_match_an_independent_aggregation(demo)
    check_bad_records_are_counted_with_reasons_and_redelivery_changes_nothing(demo)
    check_archive_holds_raw_and_rejected_objects(demo)
    check_the_log_lines_carry_each_invocations_request_id(demo)
    check_nothing_is_left_listening(demo)


def check_demo_succeeds_and_reports_each_step(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stderr
    assert "Traceback" not in demo.stderr + demo.stdout  # no emulator-side failure either
    for step in range(1, 8):
        assert f"[{step}/7] " in demo.stdout
    assert "table   dev-trading-analytics-us-east-1" in demo.stdout
    assert "trigger: s3:ObjectCreated:* on incoming/*" in demo.stdout
    assert (
        f"uploading market-data.jsonl to s3://{ORG}-dev-trading-ingest-us-east-1/incoming/market-data.jsonl"
        in demo.stdout
    )


def check_the_handler_ran_as_the_rendered_role_with_iam_enforced(
    demo: subprocess.CompletedProcess[str],
) -> None:
    assert (
        "IAM enforced: the handler ran with an assumed session of the function's role"
        in demo.stdout
    )
    assert "arn:aws:iam::123456789012:role/dev-trading-processor-us-east-1" in demo.stdout
    assert "boundary arn:aws:iam::123456789012:policy/dev-trading-workload-boundary" in demo.stdout
    assert "every call it made was allowed" in demo.stdout
    assert reported_probes(demo.stdout) == PROBES
    assert "not evaluated locally" not in demo.stdout  # dev has no database: nothing to note


def check_stored_bars_match_an_independent_aggregation(
    demo: subprocess.CompletedProcess[str],
) -> None:
    expected = expected_bars(json.loads(line) for line in SAMPLE.read_text().splitlines())
    assert len(expected) == 25
    assert reported_bars(demo.stdout) == expected
    assert "Bars: 25 one-minute bars for 5 symbols" in demo.stdout


def check_bad_records_are_counted_with_reasons_and_redelivery_changes_nothing(
    demo: subprocess.CompletedProcess[str],
) -> None:
    assert "240 accepted, 6 rejected" in demo.stdout
    for fragment in ("'AA$PL' is invalid", "missing field(s) trade_id", "price: '-1.5'",
                     "price: 'NaN'", "quantity: '0'", "has no zone"):  # fmt: skip
        assert fragment in demo.stdout
    assert "Redelivery of the same notification: 240 accepted, bars unchanged" in demo.stdout


def check_archive_holds_raw_and_rejected_objects(demo: subprocess.CompletedProcess[str]) -> None:
    assert re.search(r"raw/dt=\d{4}-\d\d-\d\d/hour=\d\d/s3-[0-9a-f]+\.jsonl\.gz", demo.stdout)
    assert re.search(r"rejected/dt=\d{4}-\d\d-\d\d/hour=\d\d/s3-[0-9a-f]+\.jsonl\.gz", demo.stdout)
    assert "first invocation" in demo.stdout


def check_the_log_lines_carry_each_invocations_request_id(
    demo: subprocess.CompletedProcess[str],
) -> None:
    """As Lambda runs it: a context with a fresh request id for the delivery and the redelivery."""
    log = demo.stdout.split("Function log (JSON lines)\n")[1].split("\nArchive ")[0]
    ids = [json.loads(line)["request_id"] for line in log.splitlines() if line.strip()]
    assert ids and None not in ids
    assert len(set(ids)) == 2  # the first delivery's, then the redelivery's
    assert all(uuid.UUID(i).version == 4 for i in ids)


def check_nothing_is_left_listening(demo: subprocess.CompletedProcess[str]) -> None:
    match = re.search(r"on http://127\.0\.0\.1:(\d+) \(stopped now\)", demo.stdout)
    assert match is not None
    port = int(match.group(1))
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect(("127.0.0.1", port))


def test_direct_invocation_mode(tmp_path):
    trades = [
        {
            "trade_id": "d1",
            "symbol": "aapl",
            "price": "187.10",
            "quantity": "10",
            "timestamp": "2026-11-22T10:05:01Z",
        },
        {
            "trade_id": "d2",
            "symbol": "AAPL",
            "price": 187.3,
            "quantity": 5,
            "timestamp": "2026-11-22T10:05:40Z",
        },
        {
            "trade_id": "d3",
            "symbol": "AAPL",
            "price": "-1",
            "quantity": 5,
            "timestamp": "2026-11-22T10:05:41Z",
        },
    ]
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"trades": trades, "batch_id": "desk-7"}))
    result = run_demo("--invoke", str(payload))
    assert result.returncode == 0, result.stderr
    assert (
        "invoking processor.handler.handler directly with that payload (as its IAM role)"
        in result.stdout
    )
    assert "Batch desk-7: 2 accepted, 1 rejected" in result.stdout
    assert "Redelivery of the same invocation: 2 accepted, bars unchanged" in result.stdout
    assert '"batch_id": "desk-7"' in result.stdout  # the response itself is shown
    assert reported_bars(result.stdout) == {
        ("AAPL", "2026-11-22T10:05Z"): {
            "open": Decimal("187.10"), "high": Decimal("187.3"), "low": Decimal("187.10"),
            "close": Decimal("187.3"), "volume": Decimal(15),
            "vwap": ((Decimal("187.10") * 10 + Decimal("187.3") * 5) / 15).quantize(Decimal("0.00000001")),
            "trades": Decimal(2),
        }
    }  # fmt: skip


def test_an_event_the_function_refuses_is_reported_as_refused_and_fails(tmp_path):
    """Not `Batch None: 0 accepted` and exit 0: the report says refused, and why."""
    payload = tmp_path / "null.json"
    payload.write_text("null")
    result = run_demo("--invoke", str(payload))
    assert result.returncode == 1, result.stderr
    assert "\nREFUSED by the function: nothing read or written\n  event is " in result.stdout
    assert "Batch None" not in result.stdout
    assert "Redelivery of the same invocation: refused again" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--region", "mars-1"],
            "error: --region: unknown region 'mars-1'; the local platform runs in a region of AWS's standard partition: ",
        ),
        (["--region", "us-gov-west-1"], "error: --region: unknown region 'us-gov-west-1'"),
        (
            ["--file", "no/such/file.jsonl"],
            "error: market-data file no/such/file.jsonl does not exist",
        ),
        (
            ["--invoke", "no/such/payload.json"],
            "error: payload file no/such/payload.json does not exist",
        ),
        (["--port", "70000"], "error: --port 70000: allowed 0 (any free port) to 65535"),
    ],
)
def test_bad_arguments_are_one_clear_line(args, message, capsys):
    """Checked before anything starts (the same `main` the command runs, in-process)."""
    assert main(args, out=io.StringIO()) == 2
    assert capsys.readouterr().err.startswith(message)


def test_a_payload_that_is_not_json_is_a_clear_error(tmp_path, capsys):
    payload = tmp_path / "payload.json"
    payload.write_text("{trades: nope}")
    assert main(["--invoke", str(payload)], out=io.StringIO()) == 2
    assert capsys.readouterr().err.startswith(
        f"error: payload file {payload} is not JSON: Expecting property name"
    )


def test_a_taken_port_is_a_clear_error(capsys):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["--port", str(port)], out=io.StringIO()) == 2
    assert f"port {port} on 127.0.0.1 is taken" in capsys.readouterr().err


def test_a_bad_region_in_a_subprocess_is_no_traceback():
    result = run_demo("--region", "mars-1")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --region: unknown region 'mars-1'")
    assert "Traceback" not in result.stderr


def test_every_option_has_help_text():
    options = [action for action in parser()._actions if action.option_strings]
    assert {o for action in options for o in action.option_strings} >= {
        "--environment", "--file", "--invoke", "--keep-running", "--port", "--region"
    }  # fmt: skip
    for action in options:
        assert action.help and len(action.help) > 15, action.option_strings
    text = parser().format_help()  # what --help prints
    for action in options:
        assert action.option_strings[-1] in text


def test_shipped_sample_is_the_generators_output():
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    assert records == sample_records(240, 5)
