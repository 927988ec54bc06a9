"""`python -m operations query`: the bars of a symbol over a time range."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from operations.cli import main
from operations.errors import OperationsError
from operations.query import BarRange, parse_moment, print_bars, read_bars
from tests.analytics_table import create_analytics_table

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test

TABLE = "dev-trading-analytics-us-east-1"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        (
            "2026-11-20T14:30",
            "2026-11-20T14:35",
            "BAR#1m#2026-11-20T14:30Z",
            "BAR#1m#2026-11-20T14:34Z",
        ),
        (
            "2026-11-20T14:30:30",
            "2026-11-20T14:35:30",
            "BAR#1m#2026-11-20T14:31Z",
            "BAR#1m#2026-11-20T14:35Z",
        ),
        (
            "2026-11-20T23:59:01",
            "2026-11-21T00:01",
            "BAR#1m#2026-11-21T00:00Z",
            "BAR#1m#2026-11-21T00:00Z",
        ),
        (None, "2026-11-20T14:35", "BAR#1m#", "BAR#1m#2026-11-20T14:34Z"),
        ("2026-11-20T14:30", None, "BAR#1m#2026-11-20T14:30Z", "BAR#1m#~"),
    ],
)
def test_a_range_is_the_minutes_that_start_in_it(start, end, first, last):
    wanted = BarRange("aapl", at(start) if start else None, at(end) if end else None)
    condition, values = wanted.key_condition()
    assert condition == "pk = :pk AND sk BETWEEN :first AND :last"
    assert values == {":pk": {"S": "SYMBOL#AAPL"}, ":first": {"S": first}, ":last": {"S": last}}


def test_no_range_is_every_bar_of_the_symbol():
    condition, values = BarRange("MSFT").key_condition()
    assert condition == "pk = :pk AND begins_with(sk, :bars)"
    assert values == {":pk": {"S": "SYMBOL#MSFT"}, ":bars": {"S": "BAR#1m#"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T14:30Z", datetime(2026, 11, 20, 14, 30, tzinfo=UTC)),
        ("2026-11-20T15:30+01:00", datetime(2026, 11, 20, 14, 30, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
    ],
)
def test_moments(text, expected):
    assert parse_moment(text, "--from") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2026-11-20T14:30",
            "--from '2026-11-20T14:30' has no zone; add Z (UTC) or an offset such as +01:00",
        ),
        (
            "yesterday",
            "--from 'yesterday': allowed an ISO-8601 time with a zone, such as 2026-11-20T14:30Z",
        ),
    ],
)
def test_bad_moments(text, message):
    with pytest.raises(OperationsError) as raised:
        parse_moment(text, "--from")
    assert str(raised.value).startswith(message)


def test_an_empty_or_reversed_range_is_refused():
    with pytest.raises(
        OperationsError, match="--to 2026-11-20T14:30Z is not after --from 2026-11-20T14:30Z"
    ):
        BarRange("AAPL", at("2026-11-20T14:30"), at("2026-11-20T14:30"))
    with pytest.raises(OperationsError, match="--symbol: give a symbol"):
        BarRange(" ")


def bar(symbol: str, minute: str, close: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"SYMBOL#{symbol}"},
        "sk": {"S": f"BAR#1m#{minute}"},
        "open": {"N": "10.5"}, "high": {"N": "11"}, "low": {"N": "10"}, "close": {"N": close},
        "volume": {"N": "300"}, "vwap": {"N": "10.75000000"}, "trade_count": {"N": "3"},
    }  # fmt: skip


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        ddb = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        create_analytics_table(ddb, TABLE)
        for minute in range(25, 40):
            ddb.put_item(
                TableName=TABLE, Item=bar("AAPL", f"2026-11-20T14:{minute}Z", f"10.{minute}")
            )
        ddb.put_item(TableName=TABLE, Item=bar("MSFT", "2026-11-20T14:31Z", "99"))
        # bookkeeping items in the same partition, before and after the bars' prefix
        ddb.put_item(
            TableName=TABLE,
            Item={"pk": {"S": "SYMBOL#AAPL"}, "sk": {"S": "APPLIED#1m#2026-11-20T14:31Z#b1"}},
        )
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "SYMBOL#AAPL"}, "sk": {"S": "BARX"}})
        yield ddb


def test_only_the_bars_in_range_are_read_oldest_first(table):
    bars = list(
        read_bars(table, TABLE, BarRange("aapl", at("2026-11-20T14:30"), at("2026-11-20T14:33")))
    )
    assert [b["sk"] for b in bars] == [f"BAR#1m#2026-11-20T14:{m}Z" for m in (30, 31, 32)]
    everything = list(read_bars(table, TABLE, BarRange("AAPL")))
    assert len(everything) == 15  # no bookkeeping item, no other symbol
    open_end = list(read_bars(table, TABLE, BarRange("AAPL", at("2026-11-20T14:38"))))
    assert [b["sk"] for b in open_end] == ["BAR#1m#2026-11-20T14:38Z", "BAR#1m#2026-11-20T14:39Z"]


def test_a_range_without_a_whole_minute_reads_nothing(table):
    wanted = BarRange("AAPL", at("2026-11-20T14:30:10"), at("2026-11-20T14:30:50"))
    assert list(read_bars(table, TABLE, wanted)) == []


def test_printed_as_a_table_or_json_lines(table):
    wanted = BarRange("AAPL", at("2026-11-20T14:30"), at("2026-11-20T14:32"))
    out = io.StringIO()
    assert print_bars(read_bars(table, TABLE, wanted), out) == 2
    lines = out.getvalue().splitlines()
    assert lines[0].split() == [
        "MINUTE",
        "(UTC)",
        "OPEN",
        "HIGH",
        "LOW",
        "CLOSE",
        "VOLUME",
        "VWAP",
        "TRADES",
    ]
    assert lines[1].split() == [
        "2026-11-20T14:30Z",
        "10.5",
        "11",
        "10",
        "10.3",
        "300",
        "10.75",
        "3",
    ]
    out = io.StringIO()
    print_bars(read_bars(table, TABLE, wanted), out, as_json=True)
    first = json.loads(out.getvalue().splitlines()[0])
    assert first == {"minute": "2026-11-20T14:30Z", "open": "10.5", "high": "11", "low": "10", "close": "10.3",
                     "volume": "300", "vwap": "10.75", "trade_count": "3"}  # fmt: skip


def test_the_command_reads_the_table_named_in_the_stack_outputs(table, tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"dynamodb_table_name": TABLE, "region": "us-east-1"}))
    code = main(
        ["query", "--symbol", "msft", "--outputs", str(outputs), "--from", "2026-11-20"],
        out=(out := io.StringIO()),
    )
    assert code == 0
    assert out.getvalue().splitlines()[1].startswith("2026-11-20T14:31Z")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["query", "--symbol", "AAPL"],
            "error: give --environment ENV (or --outputs FILE), or --table\n",
        ),
        (
            ["query", "--symbol", "AAPL", "--environment", "qa"],
            "error: --environment 'qa': no stacks/qa/; allowed: dev, production, staging\n",
        ),
        (
            ["query", "--symbol", "AAPL", "--table", "t", "--region", "moon-1"],
            "error: --region 'moon-1' is not an AWS region; e.g. us-east-1",
        ),
        (
            ["query", "--symbol", "AAPL", "--table", "t", "--from", "2026-11-20T14:30"],
            "error: --from '2026-11-20T14:30' has no zone",
        ),
    ],
)
def test_bad_input_is_one_clear_line(args, message, capsys):
    assert main(args, out=io.StringIO()) == 2
    assert capsys.readouterr().err.startswith(message)


@pytest.mark.parametrize("symbol", ["AA$PL", "1AB", "ABCDEFGHIJKLMNOPQ", "AA PL"])
def test_an_invalid_symbol_is_named_as_such(symbol, capsys):
    """Not "no bars": the processor would never store one (its symbol rule, imported)."""
    assert main(["query", "--symbol", symbol, "--table", TABLE], out=io.StringIO()) == 2
    assert capsys.readouterr().err == (
        f"error: --symbol {symbol!r} is not a valid symbol (the processor stores no bars under "
        "it); allowed: 1-16 characters of A-Z a-z 0-9 . - starting with a letter\n"
    )


@pytest.mark.parametrize("symbol", ["BRK.B", "a", "X-1", "ABCDEFGHIJKLMNOP"])
def test_valid_symbols_pass(symbol):
    assert BarRange(symbol).symbol == symbol


@pytest.mark.parametrize("from_environment", [False, True])
def test_an_endpoint_that_is_not_a_url_is_one_clear_line(from_environment, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    args = ["query", "--symbol", "AAPL", "--table", TABLE, "--region", "us-east-1"]
    if from_environment:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "notaurl")
    else:
        args += ["--endpoint-url", "notaurl"]
    assert main(args, out=io.StringIO()) == 2
    source = "AWS_ENDPOINT_URL" if from_environment else "--endpoint-url"
    assert capsys.readouterr().err == (
        f"error: {source} 'notaurl' is not an endpoint URL; allowed: http:// or https:// and a "
        "host, e.g. the local emulator's http://127.0.0.1:PORT\n"
    )


def test_a_table_that_does_not_exist_is_named(table, capsys):
    args = ["query", "--symbol", "AAPL", "--table", "nope-table", "--region", "us-east-1"]
    assert main(args, out=io.StringIO()) == 2
    assert capsys.readouterr().err.startswith(
        "error: no table 'nope-table' in region us-east-1 at https://dynamodb.us-east-1."
    )


def test_stack_outputs_without_the_table_name(tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"region": "us-east-1"}))
    assert main(["query", "--symbol", "A", "--outputs", str(outputs)], out=io.StringIO()) == 2
    assert (
        "the stack has no output 'dynamodb_table_name' (outputs: region); give --table"
        in capsys.readouterr().err
    )


def test_without_the_pulumi_cli_the_message_says_what_to_do(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["query", "--symbol", "A", "--environment", "dev"], out=io.StringIO()) == 2
    assert "the Pulumi CLI is not on PATH" in capsys.readouterr().err


def test_every_option_of_every_command_has_help_text():
    from operations.cli import parser

    commands: Any = next(a for a in parser()._actions if a.dest == "command").choices
    assert set(commands) == {"query", "redrive"}
    for name, command in commands.items():
        options = [a for a in command._actions if a.option_strings]
        for action in options:
            assert action.help and len(action.help) > 15, (name, action.option_strings)
        text = command.format_help()
        assert all(action.option_strings[-1] in text for action in options)
