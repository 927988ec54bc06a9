"""The full handler under moto: both event kinds, redelivery, poison input, archives."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import (  # type: ignore[import-not-found]
    ARCHIVE,
    INGEST,
    all_items,
    archive,
    expected_bars,
    s3_event,
    stored_bars,
)

from benchmarks.market_data import BAD_RECORDS, MarketData, sample_records, write_trades


@pytest.fixture
def handler(aws):
    from processor import handler as module

    return module.handler


TRADES = list(MarketData(300, symbols=4, seed=3, span_minutes=3))
_JSONL = "".join(json.dumps(t) + "\n" for t in MarketData(3000, seed=4)).encode()
TRUNCATED = gzip.compress(_JSONL, mtime=0)[: len(gzip.compress(_JSONL, mtime=0)) // 2]


def put(s3, key: str, body: bytes):
    s3.put_object(Bucket=INGEST, Key=key, Body=body)
    etag = s3.head_object(Bucket=INGEST, Key=key)["ETag"]
    return s3_event(key.replace(" ", "+"), etag=etag)


def test_direct_invocation_stores_exact_bars(aws, handler):
    trades = [
        {
            "trade_id": "b",
            "symbol": "aapl",
            "price": "10.10",
            "quantity": 3,
            "timestamp": 1795185000000,
        },
        {
            "trade_id": "a",
            "symbol": "AAPL",
            "price": 10.30,
            "quantity": "1.5",
            "timestamp": 1795185000000,
        },
        {
            "trade_id": "c",
            "symbol": "AAPL",
            "price": 9.9,
            "quantity": 2,
            "timestamp": 1795185059999,
        },
        {"trade_id": "d", "symbol": "AAPL", "price": 11, "quantity": 1, "timestamp": 1795185060000},
    ]
    response = handler({"trades": trades, "batch_id": "b-1"}, None)
    assert response["accepted"] == 4 and response["rejected"] == []
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
    assert len(bars) == 2 and [b["minute"] for b in response["bars"]] == [
        "2026-11-20T14:30Z",
        "2026-11-20T14:31Z",
    ]
    raw = archive(aws["s3"], "raw/")
    (key,) = raw
    assert key.startswith("raw/dt=") and "/hour=" in key and key.endswith("/b-1.jsonl.gz")
    assert [line["trade_id"] for line in raw[key]] == ["b", "a", "c", "d"]
    assert aws["s3"].list_objects_v2(Bucket=INGEST).get("KeyCount", 0) == 0


def test_single_trade_form(aws, handler):
    response = handler({"trade_data": TRADES[0]}, None)
    assert response["accepted"] == 1 and len(response["bars"]) == 1


def test_same_batch_twice_changes_nothing(aws, handler):
    event = {"trades": TRADES}
    first = handler(event, None)
    before, archived = all_items(aws["ddb"]), archive(aws["s3"], "")
    second = handler(json.loads(json.dumps(event)), None)
    assert all_items(aws["ddb"]) == before and archive(aws["s3"], "") == archived
    assert first["bars"] == second["bars"] and first["batch_id"] == second["batch_id"]


def test_crash_after_some_bars_is_completed_once(aws, handler, monkeypatch):
    from processor.handler import RUNTIME

    store = RUNTIME.store
    original, calls = store._apply_group, []

    def crash_after_three(*args: Any) -> Any:
        calls.append(args)
        if len(calls) > 3:
            raise RuntimeError("container killed")
        return original(*args)

    monkeypatch.setattr(store, "_apply_group", crash_after_three)
    with pytest.raises(RuntimeError):
        handler({"trades": TRADES[:150], "batch_id": "x"}, None)
    monkeypatch.setattr(store, "_apply_group", original)
    assert 0 < len(stored_bars(aws["ddb"])) < len(expected_bars(TRADES[:150]))
    handler({"trades": TRADES[:150], "batch_id": "x"}, None)  # Lambda's retry
    handler({"trades": TRADES[:150], "batch_id": "x"}, None)  # and a stray duplicate
    handler({"trades": TRADES[150:], "batch_id": "y"}, None)
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES)


def test_reused_batch_id_with_other_trades_is_refused(aws, handler):
    handler({"trades": TRADES[:10], "batch_id": "dup"}, None)
    before = stored_bars(aws["ddb"])
    response = handler({"trades": TRADES[10:20], "batch_id": "dup"}, None)
    assert response["accepted"] == 0
    assert "already used for different trades" in response["rejected"][0]["reason"]
    assert stored_bars(aws["ddb"]) == before
    assert any(".conflict-" in key for key in archive(aws["s3"], "rejected/"))


@pytest.mark.parametrize("fmt", ["jsonl", "json", "trades", "csv"])
def test_s3_object_every_format(aws, handler, fmt, tmp_path):
    path = write_trades(tmp_path / "f", TRADES, fmt, compress=True)
    event = put(aws["s3"], f"incoming/2026 11/{fmt}.data.gz", path.read_bytes())
    (result,) = handler(event, None)["batches"]
    assert result["accepted"] == len(TRADES) and result["rejected"] == []
    direct = {b["minute"] + b["symbol"]: b for b in result["bars"]}
    assert sum(b["trade_count"] for b in direct.values()) == len(TRADES)


def test_same_s3_event_twice_changes_nothing(aws, handler, tmp_path):
    path = write_trades(tmp_path / "f", sample_records(100, 3), "jsonl")
    event = put(aws["s3"], "incoming/sample.jsonl", path.read_bytes())
    first = handler(event, None)["batches"][0]
    before, archived = all_items(aws["ddb"]), archive(aws["s3"], "")
    second = handler(event, None)["batches"][0]
    assert all_items(aws["ddb"]) == before and archive(aws["s3"], "") == archived
    assert second["bars"] == first["bars"] and first["accepted"] == 100
    assert first["rejected_total"] == len(BAD_RECORDS)


def test_sample_with_bad_records_reports_and_archives_each(aws, handler, tmp_path):
    path = write_trades(tmp_path / "f", sample_records(50, 2), "jsonl")
    result = handler(put(aws["s3"], "incoming/s.jsonl", path.read_bytes()), None)["batches"][0]
    reasons = {r["trade_id"]: r["reason"] for r in result["rejected"]}
    assert reasons["bad-nan"] == "price: 'NaN' is not a finite number > 0"
    assert reasons["bad-neg"] == "price: '-1.5' is not a finite number > 0"
    assert reasons["bad-zero-qty"] == "quantity: '0' is not a finite number > 0"
    assert "has no zone" in reasons["bad-naive-ts"]
    assert "symbol: 'AA$PL' is invalid" in reasons["bad-symbol"]
    assert reasons[None].startswith("missing field(s) trade_id")
    (lines,) = archive(aws["s3"], "rejected/").values()
    assert {line["trade_id"] for line in lines} == set(reasons)
    assert all(line["record"] and line["reason"] for line in lines)
    (raw,) = archive(aws["s3"], "raw/").values()
    assert len(raw) + len(lines) == 50 + len(BAD_RECORDS)


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("trunc.jsonl.gz", TRUNCATED, "gzip stream is broken"),
        ("cols.csv", b"trade_id,symbol,price\nt,AAPL,1\n", "lacks column(s) quantity, timestamp"),
        ("arr.json", b'[{"trade_id": "a", "symbol": "X", ', "malformed JSON"),
        ("junk.bin", bytes(range(256)) * 24_576, "unrecognised format"),
    ],
    ids=["truncated-gzip", "csv-missing-columns", "malformed-json", "6mb-of-junk"],
)
def test_poison_objects_apply_nothing_and_keep_the_source(aws, handler, name, body, reason):
    result = handler(put(aws["s3"], f"incoming/{name}", body), None)["batches"][0]
    assert result["accepted"] == 0 and reason in result["rejected"][0]["reason"]
    assert stored_bars(aws["ddb"]) == {}
    rejected = archive(aws["s3"], "rejected/")
    copies = [k for k in rejected if k.endswith(".source")]
    assert len(copies) == 1
    copy = aws["s3"].get_object(Bucket=ARCHIVE, Key=copies[0])["Body"].read()
    assert copy == body
    (lines,) = [v for k, v in rejected.items() if k.endswith(".jsonl.gz")]
    assert reason in lines[0]["reason"]


def test_six_megabytes_of_junk_lines_are_each_rejected(aws, handler):
    junk = (b'{"junk": ' + b"x" * 90 + b"\n") * 60_000
    result = handler(put(aws["s3"], "incoming/junk.jsonl", junk), None)["batches"][0]
    assert result["accepted"] == 0 and result["rejected_total"] == 60_000
    assert len(result["rejected"]) == 1000
    (lines,) = archive(aws["s3"], "rejected/").values()
    assert len(lines) == 60_000 and lines[-1]["index"] == 59_999


def test_direct_junk_event_is_reported(aws, handler):
    response = handler({"trades": "x" * 6_000_000}, None)
    assert response["accepted"] == 0
    assert "'trades' is str" in response["rejected"][0]["reason"]


def test_transient_aws_error_raises_for_retry(aws, handler, monkeypatch):
    from processor.handler import RUNTIME

    def boom(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "PutItem")

    monkeypatch.setattr(RUNTIME.store._ddb, "put_item", boom)
    with pytest.raises(ClientError):
        handler({"trades": TRADES[:5]}, None)


def test_logs_are_json_with_the_batch_id(aws, handler, capsys):
    handler({"trades": TRADES[:5], "batch_id": "log-me"}, None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(e["batch_id"] == "log-me" and e["accepted"] == 5 for e in lines)
