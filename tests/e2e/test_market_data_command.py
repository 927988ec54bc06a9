"""`python -m benchmarks.market_data`, the generator README points to: bad arguments are one
line of error (no traceback, nothing written), and every option says what it does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.market_data import main

pytestmark = pytest.mark.e2e  # see tests/conftest.py: kinds of test


def generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.market_data", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trades", "-5"], "argument --trades: -5: allowed 1 or more"),
        (["--symbols", "0"], "argument --symbols: 0: allowed 1 or more"),
        (["--span-minutes", "0"], "argument --span-minutes: 0: allowed 1 or more"),
        (["--trades", "many"], "argument --trades: 'many' is not a whole number"),
    ],
)
def test_counts_below_one_are_refused(tmp_path, args, message):
    out = tmp_path / "x.jsonl"
    result = generate(str(out), *args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(message)
    assert not out.exists()


def test_a_missing_directory_is_one_line_not_a_traceback(tmp_path):
    out = tmp_path / "nonexistent" / "x.jsonl"
    result = generate(str(out), "--trades", "5", "--symbols", "1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].endswith(
        f"OUT {out}: its directory {out.parent} does not exist"
    )


def test_a_directory_is_not_a_file(tmp_path):
    result = generate(str(tmp_path), "--trades", "5")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(
        f"OUT {tmp_path} is a directory; allowed: a file path"
    )


def test_good_arguments_write_the_trades(tmp_path):
    out = tmp_path / "x.jsonl"
    main([str(out), "--trades", "5", "--symbols", "1", "--seed", "8"])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["trade_id"] for r in records] == [f"T08-{i:09d}" for i in range(5)]
    assert {r["symbol"] for r in records} == {"AAPL"}


def test_every_option_has_help_text(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for says in ("out the file to write", "--trades TRADES how many valid trades",
                 "--symbols SYMBOLS how many distinct symbols", "--seed SEED the random seed",
                 "--span-minutes SPAN_MINUTES the minutes", "JSON Lines, a JSON array",
                 "--gzip gzip-compress the file", "--bad a small sample with the deliberately"):  # fmt: skip
        assert says in text
