"""The real handler under moto: both event kinds, redelivery, poison input, archives, logs."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from benchmarks.market_data import BAD_RECORDS, MarketData, sample_records, write_trades
from tests.processor_helpers import (
    ARCHIVE,
    INGEST,
    all_items,
    archive,
    archive_keys,
    expected_bars,
    jsonl,
    stored_bars,
    upload,
)


@pytest.fixture
def handler(aws):
    from processor import handler as module

    return module.handler


TRADES = list(MarketData(300, symbols=4, seed=3, span_minutes=3))
_JSONL = jsonl(MarketData(3000, seed=4))
TRUNCATED = gzip.compress(_JSONL, mtime=0)[: len(gzip.compress(_JSONL, mtime=0)) // 2]


def test_direct_invocation_stores_exact_bars(aws, handler):
    trades = [
        {"trade_id": "b", "symbol": "aapl", "price": "10.10", "quantity": 3, "timestamp": 1795185000000},
        {"trade_id": "a", "symbol": "AAPL", "price": 10.30, "quantity": "1.5", "timestamp": 1795185000000},
        {"trade_id": "c", "symbol": "AAPL", "price": 9.9, "quantity": 2, "timestamp": 1795185059999},
        {"trade_id": "d", "symbol": "AAPL", "price": 11, "quantity": 1, "timestamp": 1795185060000},
    ]  # fmt: skip
    response = handler({"trades": trades, "batch_id": "b-1"}, None)
    assert response["accepted"] == 4 and response["rejected"] == []
    assert response["status"] == "applied" and response["bars_total"] == 2
    bars = stored_bars(aws["ddb"])
    bar = bars[("SYMBOL#AAPL", "BAR#1m#2026-11-20T14:30Z")]
    assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (
        Decimal("10.30"),
        Decimal("10.30"),
        Decimal("9.9"),
        Decimal("9.9"),
    )
    assert bar["volume"] == Decimal("6.5") and bar["notional"] == Decimal("65.55")
    assert bar["vwap"] == Decimal("10.08461538") and bar["trade_count"] == 3
    assert (bar["open_ts"], bar["close_ts"]) == (1795185000000, 1795185059999)
    assert "expires_at" not in bar
    assert bars == expected_bars(trades)
    assert [b["minute"] for b in response["bars"]] == ["2026-11-20T14:30Z", "2026-11-20T14:31Z"]
    raw = archive(aws["s3"], "raw/")
    (key,) = raw
    assert key.startswith("raw/dt=") and "/hour=" in key and key.endswith("/b-1.jsonl.gz")
    assert raw[key] == trades  # each accepted record, as received
    assert aws["s3"].list_objects_v2(Bucket=INGEST).get("KeyCount", 0) == 0


def test_single_trade_form(aws, handler):
    response = handler({"trade_data": TRADES[0]}, None)
    assert response["accepted"] == 1 and len(response["bars"]) == 1
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES[:1])


def test_same_batch_twice_changes_nothing(aws, handler):
    event = {"trades": TRADES}
    first = handler(event, None)
    before, archived = all_items(aws["ddb"]), archive(aws["s3"])
    second = handler(json.loads(json.dumps(event)), None)
    assert all_items(aws["ddb"]) == before and archive(aws["s3"]) == archived
    assert first["bars"] == second["bars"] and first["batch_id"] == second["batch_id"]
    assert second["status"] == "duplicate" and "duplicate of batch" in second["message"]
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES)


def test_reused_batch_id_with_other_trades_is_refused(aws, handler):
    handler({"trades": TRADES[:10], "batch_id": "dup"}, None)
    before = stored_bars(aws["ddb"])
    response = handler({"trades": TRADES[10:20], "batch_id": "dup"}, None)
    assert response["accepted"] == 0 and response["status"] == "conflict"
    assert "already used for different trades" in response["rejected"][0]["reason"]
    assert stored_bars(aws["ddb"]) == before == expected_bars(TRADES[:10])
    (conflict,) = [k for k in archive_keys(aws["s3"], "rejected/") if ".conflict-" in k]
    assert [r["trade_id"] for r in archive(aws["s3"], conflict)[conflict]] == [
        t["trade_id"] for t in TRADES[10:20]
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "trades", "csv"])
def test_s3_object_every_format(aws, handler, fmt, tmp_path):
    path = write_trades(tmp_path / "f", TRADES, fmt, compress=True)
    event = upload(aws["s3"], f"incoming/2026 11/{fmt}.data.gz", path.read_bytes())
    (result,) = handler(event, None)["batches"]
    assert result["accepted"] == len(TRADES) and result["rejected"] == []
    assert result["batch_id"].startswith("s3-") and result["status"] == "applied"
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES)


def test_same_s3_event_twice_changes_nothing(aws, handler, tmp_path):
    path = write_trades(tmp_path / "f", sample_records(100, 3), "jsonl")
    event = upload(aws["s3"], "incoming/sample.jsonl", path.read_bytes())
    first = handler(event, None)["batches"][0]
    before, archived = all_items(aws["ddb"]), archive(aws["s3"])
    second = handler(event, None)["batches"][0]
    assert all_items(aws["ddb"]) == before and archive(aws["s3"]) == archived
    assert second["bars"] == first["bars"] and first["accepted"] == 100
    assert first["rejected_total"] == len(BAD_RECORDS) and second["status"] == "duplicate"


def test_sample_with_bad_records_reports_and_archives_each(aws, handler, tmp_path):
    records = sample_records(50, 2)
    path = write_trades(tmp_path / "f", records, "jsonl")
    result = handler(upload(aws["s3"], "incoming/s.jsonl", path.read_bytes()), None)["batches"][0]
    reasons = {r["trade_id"]: r["reason"] for r in result["rejected"]}
    assert reasons["bad-nan"] == "price: 'NaN' is not a finite number > 0"
    assert reasons["bad-neg"] == "price: '-1.5' is not a finite number > 0"
    assert reasons["bad-zero-qty"] == "quantity: '0' is not a finite number > 0"
    assert "has no zone" in reasons["bad-naive-ts"]
    assert "symbol: 'AA$PL' is invalid" in reasons["bad-symbol"]
    assert reasons[None].startswith("missing field(s) trade_id")
    (lines,) = archive(aws["s3"], "rejected/").values()
    assert {line["trade_id"] for line in lines} == set(reasons)
    assert [line["record"] for line in lines] == [r for r in records if r in BAD_RECORDS]
    (raw,) = archive(aws["s3"], "raw/").values()
    assert raw == [r for r in records if r not in BAD_RECORDS]
    assert stored_bars(aws["ddb"]) == expected_bars(raw)


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("trunc.jsonl.gz", TRUNCATED, "gzip stream is broken"),
        ("cols.csv", b"trade_id,symbol,price\nt,AAPL,1\n", "lacks column(s) quantity, timestamp"),
        ("arr.json", b'[{"trade_id": "a", "symbol": "X", ', "malformed JSON document"),
        ("junk.bin", bytes(range(256)) * 24_576, "holds NUL bytes"),
    ],
    ids=["truncated-gzip", "csv-missing-columns", "malformed-json", "6mb-of-junk"],
)
def test_poison_objects_apply_nothing_and_keep_the_source(aws, handler, name, body, reason):
    result = handler(upload(aws["s3"], f"incoming/{name}", body), None)["batches"][0]
    assert result["accepted"] == 0 and reason in result["rejected"][0]["reason"]
    assert result["status"] == "rejected"
    assert stored_bars(aws["ddb"]) == {}
    copies = [k for k in archive_keys(aws["s3"], "rejected/") if k.endswith(".source")]
    assert len(copies) == 1
    assert aws["s3"].get_object(Bucket=ARCHIVE, Key=copies[0])["Body"].read() == body
    (lines,) = archive(aws["s3"], "rejected/").values()
    assert (
        reason in lines[0]["reason"] and "nothing from this input was applied" in lines[0]["reason"]
    )


def test_six_megabytes_of_junk_lines_are_each_rejected(aws, handler):
    junk = (b'{"junk": ' + b"x" * 90 + b"\n") * 60_000
    result = handler(upload(aws["s3"], "incoming/junk.jsonl", junk), None)["batches"][0]
    assert result["accepted"] == 0 and result["rejected_total"] == 60_000
    assert len(result["rejected"]) == 1000
    (lines,) = archive(aws["s3"], "rejected/").values()
    assert len(lines) == 60_000 and lines[-1]["index"] == 59_999


def test_direct_event_with_trades_not_a_list_is_rejected_whole_and_kept(aws, handler):
    response = handler({"trades": "x" * 1000, "note": 1}, None)
    assert response["accepted"] == 0 and response["status"] == "rejected"
    assert "'trades' is a string" in response["rejected"][0]["reason"]
    (source,) = [k for k in archive_keys(aws["s3"], "rejected/") if ".source." in k]
    assert archive(aws["s3"], source)[source] == [{"trades": "x" * 1000, "note": 1}]


def test_direct_event_with_both_forms_is_rejected_whole_not_half_read(aws, handler):
    """Taking 'trades' and ignoring 'trade_data' would lose a trade without a word."""
    event = {"trades": TRADES[:2], "trade_data": TRADES[2]}
    response = handler(event, None)
    assert response["status"] == "rejected" and response["accepted"] == 0
    assert "has 'trades' and 'trade_data'" in response["rejected"][0]["reason"]
    assert stored_bars(aws["ddb"]) == {}
    (source,) = [k for k in archive_keys(aws["s3"], "rejected/") if ".source." in k]
    assert archive(aws["s3"], source)[source] == [json.loads(json.dumps(event))]


@pytest.mark.parametrize(
    "event",
    [
        {"trades": TRADES[:2], "Trades": TRADES[2:4]},
        {"trades": TRADES[:2], " trade_data": TRADES[3]},
        {"Trades": TRADES[:2]},
    ],
    ids=["two-spellings", "padded-key", "misspelt-alone"],
)
def test_a_misspelt_form_is_rejected_whole_and_kept_not_ignored(aws, handler, event):
    """'Trades' beside 'trades' used to be ignored as an unknown field, its trades dropped
    without a word; alone, the event was refused and nothing of it kept."""
    response = handler(event, None)
    assert response["status"] == "rejected" and response["accepted"] == 0, response
    assert stored_bars(aws["ddb"]) == {}
    (source,) = [k for k in archive_keys(aws["s3"], "rejected/") if ".source." in k]
    assert archive(aws["s3"], source)[source] == [json.loads(json.dumps(event))]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("extra", "kept"),
    [
        (_nested(100_000), "(nested deeper than"),
        (10**5000, "<an integer of 16610 bits>"),
        ({"\udc80": "\ud800"}, '{"\\\\udc80": "\\\\ud800"}'),
        (float("nan"), '"nan"'),  # JSON has no NaN: kept as text
    ],
    ids=["deep", "huge-integer", "lone-surrogates", "nan"],
)
def test_a_hostile_ambiguous_event_is_kept_and_its_redelivery_is_a_duplicate(
    aws, handler, extra, kept
):
    """The whole event is archived as strict JSON, however hostile; the same event again is
    the same batch, so nothing is written twice; the response stays one short rejection."""
    first = handler({"trades": TRADES[:2], "trade_data": extra}, None)
    again = handler({"trade_data": extra, "trades": TRADES[:2]}, None)
    assert (first["status"], again["status"]) == ("rejected", "duplicate")
    assert first["batch_id"] == again["batch_id"] and first["batch_id"].startswith("invalid-")
    assert len(json.dumps(first)) < 1000 and len(first["rejected"]) == 1
    assert stored_bars(aws["ddb"]) == {}
    (source,) = [k for k in archive_keys(aws["s3"], "rejected/") if ".source." in k]
    ((line,),) = archive(aws["s3"], source).values()
    assert line["trades"] == json.loads(json.dumps(TRADES[:2]))
    assert kept in json.dumps(line["trade_data"], ensure_ascii=False)


def test_unusable_event_is_refused_without_writes(aws, handler):
    events: list[Any] = [[1], {"hello": 1}, {"Records": []}, "text"]
    for event in events:
        response = handler(event, None)
        assert response["status"] == "refused" and response["batch_id"] is None
    assert all_items(aws["ddb"]) == [] and archive_keys(aws["s3"]) == []


def test_transient_aws_error_raises_for_retry(aws, handler, monkeypatch):
    from processor.handler import RUNTIME

    def boom(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "PutItem")

    store: Any = RUNTIME.service.store
    monkeypatch.setattr(store._ddb, "put_item", boom)
    with pytest.raises(ClientError):
        handler({"trades": TRADES[:5]}, None)


def test_every_log_line_carries_the_request_id_and_cold_start_flag(aws, capsys):
    import importlib

    import processor.handler

    module = importlib.reload(processor.handler)  # a fresh container: the next call is cold
    first = SimpleNamespace(aws_request_id="req-1")
    second = SimpleNamespace(aws_request_id="req-2")
    module.handler({"trades": TRADES[:5], "batch_id": "log-me"}, first)
    module.handler({"Records": [{"eventName": "ObjectRemoved:Delete"}]}, second)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines and all("request_id" in e and "cold_start" in e for e in lines)
    assert {(e["request_id"], e["cold_start"]) for e in lines} == {
        ("req-1", True),
        ("req-2", False),
    }
    assert any(e["batch_id"] == "log-me" and e["accepted"] == 5 for e in lines)
