"""Hostile input, limits and late redelivery: one group of tests per rule of the contract.

Every valid trade counted exactly once, every bad record kept with its reason, and nothing
the sender controls makes the handler raise, stall or overflow.
"""

from __future__ import annotations

import codecs
import gzip
import json
from decimal import Decimal
from typing import Any

import pytest

from benchmarks.market_data import MarketData, write_trades
from processor.contract import DEDUPLICATION_HORIZON_S, FAILURE_QUEUE_RETENTION_S, MAX_EVENT_AGE_S
from processor.handler import handle, response
from processor.settings import Limits
from tests.processor_helpers import (
    ARCHIVE,
    all_items,
    archive,
    archive_keys,
    archive_lines,
    expected_bars,
    jsonl,
    s3_event,
    stored_bars,
    strict_json,
    upload,
)

TRADES = list(MarketData(200, symbols=4, seed=8, span_minutes=4))
DAY_S = 86_400


def invoke(runtime: Any, event: Any) -> dict[str, Any]:
    result: dict[str, Any] = handle(event, runtime.service, request_id="test")
    return result


def batch_of(result: dict[str, Any]) -> dict[str, Any]:
    (batch,) = result["batches"]
    return dict(batch)


# -- no record can make the handler raise --------------------------------------------


def _nested(depth: int) -> str:
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


HOSTILE_LINES = {
    "big-int-ts": '{"trade_id": "h1", "symbol": "A", "price": 1, "quantity": 1, "timestamp": '
    + "7" * 5000
    + "}",
    "big-int-price": '{"trade_id": "h2", "symbol": "A", "price": '
    + "7" * 5000
    + ', "quantity": 1, "timestamp": 5}',
    "deep": '{"trade_id": "h3", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5, "x": '
    + _nested(1000)
    + "}",
    "inf-ts": '{"trade_id": "h4", "symbol": "A", "price": 1, "quantity": 1, "timestamp": "Infinity"}',
    "1e400-ts": '{"trade_id": "h5", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 1e400}',
    "nan-token": '{"trade_id": "h6", "symbol": "A", "price": NaN, "quantity": 1, "timestamp": 5}',
    "surrogate": '{"trade_id": "\\udc80", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5}',
    "types": '{"trade_id": ["x"], "symbol": {"a": 1}, "price": true, "quantity": null, "timestamp": []}',
    "not-object": '"just a string"',
}


def test_hostile_lines_are_rejected_one_by_one_and_the_valid_ones_applied(aws, make_runtime):
    lines = [json.dumps(t) for t in TRADES[:100]]
    for i, line in enumerate(HOSTILE_LINES.values()):
        lines.insert(7 * i + 3, line)
    body = ("\n".join(lines) + "\n").encode() + b'{"trade_id": "\xff\xfe", "x": 1}\n'
    result = batch_of(invoke(make_runtime(), upload(aws["s3"], "incoming/h.jsonl", body)))
    assert result["status"] == "applied"
    assert result["accepted"] == 100 and result["rejected_total"] == len(HOSTILE_LINES) + 1
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES[:100])
    (rejected,) = archive(aws["s3"], "rejected/").values()
    assert len(rejected) == len(HOSTILE_LINES) + 1 and all(r["reason"] for r in rejected)


def test_a_lone_surrogate_trade_id_in_a_direct_batch_is_rejected_not_archived_broken(
    aws, make_runtime
):
    batch = [*TRADES[:5], TRADES[5] | {"trade_id": "\udc80x"}, TRADES[6] | {"note": "\ud800"}]
    result = invoke(make_runtime(), {"trades": batch, "batch_id": "sur"})
    assert result["accepted"] == 5 and [r["index"] for r in result["rejected"]] == [5, 6]
    assert result["rejected"][0]["trade_id"] is None  # not echoed: it cannot be UTF-8
    json.dumps(result).encode()  # the response is valid text
    for lines in archive_lines(aws["s3"]).values():
        for line in lines:
            strict_json(line)
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES[:5])


def test_hostile_direct_values_are_rejected_with_reasons(aws, make_runtime):
    deep: Any = {}
    for _ in range(900):
        deep = {"a": deep}
    batch = [
        TRADES[0] | {"timestamp": float("inf")},
        TRADES[1] | {"price": float("nan")},
        TRADES[2] | {"timestamp": 10**4000},
        TRADES[3] | {"extra": deep},
        TRADES[4] | {"price": "\uff11\uff12"},
        TRADES[5] | {"quantity": "1_0"},
        TRADES[6],
    ]
    result = invoke(make_runtime(), {"trades": batch})
    assert result["accepted"] == 1 and result["rejected_total"] == 6
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES[6:7])


def test_a_malformed_notification_record_does_not_stop_the_others(aws, make_runtime, capsys):
    event = upload(aws["s3"], "incoming/ok.jsonl", jsonl(TRADES[:20]))
    good = event["Records"][0]
    event["Records"] = [
        {"eventName": "ObjectCreated:Put"},  # no s3
        good | {"s3": {"bucket": {"name": "dev-ingest"}, "object": {"key": 7, "eTag": "e"}}},
        good | {"s3": {"bucket": {"name": "dev-ingest"}, "object": {"key": "incoming/x"}}},
        good,
    ]
    result = invoke(make_runtime(), event)
    assert [b["status"] for b in result["batches"]] == ["refused", "refused", "refused", "applied"]
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES[:20])
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(e["status"] == "refused" for e in logged) == 3


# -- nothing valid can overflow storage ---------------------------------------------------

BIG = "9999999999.99999999"  # the largest price and quantity: a notional just under 1e20


def _big_trades(count: int, minute: int, prefix: str) -> list[dict[str, Any]]:
    start = 1_795_185_000_000 + minute * 60_000
    return [
        {
            "trade_id": f"{prefix}{i}",
            "symbol": "HUGE",
            "price": BIG,
            "quantity": BIG,
            "timestamp": start + i,
        }
        for i in range(count)
    ]


def test_a_bar_that_would_pass_38_digits_is_refused_and_the_rest_applied(aws, make_runtime):
    over = _big_trades(150, 0, "o")  # 150 x 1e20 > 1e22 in one bar
    under = _big_trades(50, 1, "u")
    batch = over + under + TRADES[:20]
    result = invoke(make_runtime(), {"trades": batch, "batch_id": "huge"})
    assert result["status"] == "applied"
    assert result["accepted"] == 70 and result["rejected_total"] == 150
    assert all(
        "would take its volume or notional to 1e22" in r["reason"] for r in result["rejected"]
    )
    assert stored_bars(aws["ddb"]) == expected_bars(under + TRADES[:20])
    raw = [r["trade_id"] for lines in archive(aws["s3"], "raw/").values() for r in lines]
    assert sorted(raw) == sorted(t["trade_id"] for t in under + TRADES[:20])
    rejected = [r["trade_id"] for lines in archive(aws["s3"], "rejected/").values() for r in lines]
    assert sorted(rejected) == sorted(t["trade_id"] for t in over)
    again = invoke(make_runtime(), {"trades": batch, "batch_id": "huge"})
    assert again["status"] == "duplicate" and stored_bars(aws["ddb"]) == expected_bars(
        under + TRADES[:20]
    )


def test_merges_cannot_push_a_stored_bar_past_the_limit(aws, make_runtime):
    runtime = make_runtime()
    first, second = _big_trades(60, 0, "a"), _big_trades(60, 0, "b")
    invoke(runtime, {"trades": first, "batch_id": "first"})
    result = invoke(runtime, {"trades": second + TRADES[:10], "batch_id": "second"})
    assert result["accepted"] == 10 and result["rejected_total"] == 60
    assert stored_bars(aws["ddb"]) == expected_bars(first, TRADES[:10])
    stored = stored_bars(aws["ddb"])[("SYMBOL#HUGE", "BAR#1m#2026-11-20T14:30Z")]
    assert len(str(stored["notional"]).replace(".", "")) <= 38


def test_a_writer_that_grew_the_bar_after_our_read_makes_it_refused(aws, make_runtime):
    from processor.bars import Bar, aggregate
    from processor.records import validate

    store = make_runtime().service.store
    ours = _big_trades(60, 0, "a")
    bars: dict[tuple[str, int], Bar] = {}
    aggregate([validate(t) for t in ours], bars)
    current = store.read(bars, "ours")  # read: the bar does not exist yet
    invoke(make_runtime(), {"trades": _big_trades(60, 0, "b"), "batch_id": "theirs"})
    applied = store.apply(list(bars.values()), "ours", 9_999_999_999, current.bars)
    assert applied.refused == [("HUGE", 1_795_185_000_000)] and applied.stored == []
    assert stored_bars(aws["ddb"]) == expected_bars(_big_trades(60, 0, "b"))


def test_a_bar_grown_past_the_limit_during_the_merge_is_refused_on_the_retry(aws, make_runtime):
    from processor.errors import BarLimitRaceError

    runtime = make_runtime()
    store: Any = runtime.service.store
    original = store.apply

    def theirs_land_first(*args: Any) -> Any:  # between our read and our write
        store.apply = original
        invoke(make_runtime(), {"trades": _big_trades(60, 0, "b"), "batch_id": "theirs"})
        return original(*args)

    store.apply = theirs_land_first
    ours = _big_trades(60, 0, "a") + TRADES[:10]
    with pytest.raises(BarLimitRaceError):
        invoke(runtime, {"trades": ours, "batch_id": "ours"})
    result = invoke(runtime, {"trades": ours, "batch_id": "ours"})  # Lambda's retry
    assert result["status"] == "applied"
    assert result["accepted"] == 10 and result["rejected_total"] == 60
    assert stored_bars(aws["ddb"]) == expected_bars(_big_trades(60, 0, "b"), TRADES[:10])
    raw = {k: v for k, v in archive(aws["s3"], "raw/").items() if k.endswith("/ours.jsonl.gz")}
    assert [r["trade_id"] for lines in raw.values() for r in lines] == [
        t["trade_id"] for t in TRADES[:10]
    ]


def test_an_archive_outage_leaves_the_bars_untouched_until_the_retry(aws, make_runtime):
    runtime = make_runtime()
    aws["s3"].delete_bucket(Bucket=ARCHIVE)
    with pytest.raises(Exception, match="NoSuchBucket"):
        invoke(runtime, {"trades": TRADES, "batch_id": "outage"})
    assert stored_bars(aws["ddb"]) == {}  # nothing counted that is not archived
    aws["s3"].create_bucket(Bucket=ARCHIVE)
    assert invoke(runtime, {"trades": TRADES, "batch_id": "outage"})["status"] == "applied"
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES)


# -- the deduplication horizon covers every redelivery path ---------------------------


def _expire(ddb: Any, now_s: float) -> int:
    """What DynamoDB's TTL sweep does: delete items whose ``expires_at`` has passed."""
    from tests.processor_helpers import TABLE

    gone = 0
    for item in all_items(ddb):
        if "expires_at" in item and int(item["expires_at"]["N"]) < now_s:
            ddb.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
            gone += 1
    return gone


def test_a_redrive_on_the_last_day_of_retention_changes_nothing(aws, make_runtime, clock):
    runtime = make_runtime()
    event = upload(aws["s3"], "incoming/late.jsonl", jsonl(TRADES))
    start = clock.now
    assert batch_of(invoke(runtime, event))["status"] == "applied"
    before = stored_bars(aws["ddb"])
    # Lambda retried for the longest event age, then the queue kept it to its last day.
    clock.now = start + MAX_EVENT_AGE_S + FAILURE_QUEUE_RETENTION_S - 60
    assert _expire(aws["ddb"], clock.now) == 0  # nothing of the batch has expired yet
    redrive = batch_of(invoke(runtime, event))
    assert redrive["status"] == "duplicate" and stored_bars(aws["ddb"]) == before
    assert before == expected_bars(TRADES)
    # Past the horizon the bookkeeping is gone, as documented: the same bytes would count again.
    clock.now = start + DEDUPLICATION_HORIZON_S + 1
    assert _expire(aws["ddb"], clock.now) > 0


def test_a_redrive_of_a_batch_that_crashed_half_way_completes_it_once(aws, make_runtime, clock):
    runtime = make_runtime()
    store = runtime.service.store
    original, calls = store._apply_group, []

    def crash_after_two(*args: Any) -> Any:
        calls.append(args)
        if len(calls) > 2:
            raise RuntimeError("container killed")
        return original(*args)

    store._apply_group = crash_after_two
    event = {"trades": TRADES, "batch_id": "crash"}
    with pytest.raises(RuntimeError):
        invoke(runtime, event)
    store._apply_group = original
    assert 0 < len(stored_bars(aws["ddb"])) < len(expected_bars(TRADES))
    clock.now += FAILURE_QUEUE_RETENTION_S  # redriven from the failure queue
    _expire(aws["ddb"], clock.now)
    assert invoke(runtime, event)["status"] == "applied"
    assert invoke(runtime, event)["status"] == "duplicate"
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES)


# -- an S3 batch is identified by its content ------------------------------------------


def test_the_same_bytes_as_a_new_version_or_under_another_key_count_once(aws, make_runtime, capsys):
    ddb, s3 = aws["ddb"], aws["s3"]
    s3.put_bucket_versioning(Bucket="dev-ingest", VersioningConfiguration={"Status": "Enabled"})
    runtime = make_runtime()
    body = jsonl(TRADES)
    first = upload(s3, "incoming/day.jsonl", body)
    again = upload(s3, "incoming/day.jsonl", body)  # the same bytes, a new version
    elsewhere = upload(s3, "incoming/copy/day.jsonl", body)
    gzipped = upload(s3, "incoming/day.jsonl.gz", gzip.compress(body, mtime=7))
    versions = [e["Records"][0]["s3"]["object"]["versionId"] for e in (first, again)]
    assert versions[0] != versions[1]
    results = [batch_of(invoke(runtime, e)) for e in (first, again, elsewhere, gzipped)]
    assert [r["status"] for r in results] == ["applied", "duplicate", "duplicate", "duplicate"]
    assert len({r["batch_id"] for r in results}) == 1
    assert all(f"duplicate of batch {results[0]['batch_id']}" in r["message"] for r in results[1:])
    assert "first received from s3://dev-ingest/incoming/day.jsonl" in results[1]["message"]
    assert stored_bars(ddb) == expected_bars(TRADES)
    changed = upload(s3, "incoming/day.jsonl", body + jsonl(TRADES[:1]))  # one more line
    assert batch_of(invoke(runtime, changed))["status"] == "applied"
    assert stored_bars(ddb) == expected_bars(TRADES, [*TRADES, TRADES[0]])  # another file
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum("duplicate of batch" in (e.get("detail") or "") for e in logged) == 3


# -- only incoming/ of the ingest bucket -------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "key"),
    [
        (ARCHIVE, "raw/dt=2026-11-20/hour=14/s3-x.jsonl.gz"),
        (ARCHIVE, "incoming/a.jsonl"),
        ("dev-ingest", "raw/a.jsonl"),
        ("dev-ingest", "a.jsonl"),
        ("someone-else", "incoming/a.jsonl"),
    ],
)
def test_notifications_outside_incoming_of_the_ingest_bucket_are_refused(
    aws, make_runtime, capsys, bucket, key
):
    s3 = aws["s3"]
    if bucket != "someone-else":
        s3.put_object(Bucket=bucket, Key=key, Body=jsonl(TRADES))
    before = archive_keys(s3)
    result = batch_of(invoke(make_runtime(), s3_event(key, etag="e", bucket=bucket)))
    assert result["status"] == "refused" and result["accepted"] == 0
    assert all_items(aws["ddb"]) == [] and archive_keys(s3) == before
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["status"] == "refused" and line["level"] == "WARNING"


# -- work bounded by bytes and records ---------------------------------------------------


def test_a_small_gzip_of_millions_of_records_is_rejected_as_too_large_and_kept(aws, make_runtime):
    bomb = gzip.compress(b"1\n" * 2_000_000, 9, mtime=0)
    assert len(bomb) < 8_000
    runtime = make_runtime(limits=Limits(max_records=100_000))
    result = batch_of(invoke(runtime, upload(aws["s3"], "incoming/bomb.jsonl.gz", bomb)))
    assert result["status"] == "rejected" and result["accepted"] == 0
    assert "more than 100000 lines" in result["rejected"][0]["reason"]
    assert all_items(aws["ddb"])[0]["sk"]["S"] == "LEDGER"  # bookkeeping only, no bars
    (source,) = [k for k in archive_keys(aws["s3"]) if k.endswith(".source")]
    assert aws["s3"].get_object(Bucket=ARCHIVE, Key=source)["Body"].read() == bomb
    (lines,) = archive(aws["s3"], "rejected/").values()
    assert "more than 100000 lines" in lines[0]["reason"]


def test_decompressed_bytes_past_the_limit_reject_the_object(aws, make_runtime):
    body = gzip.compress(jsonl(TRADES), mtime=0)
    runtime = make_runtime(limits=Limits(max_object_bytes=10_000))
    result = batch_of(invoke(runtime, upload(aws["s3"], "incoming/big.jsonl.gz", body)))
    assert result["status"] == "rejected" and "larger than 10000 bytes" in result["message"]
    assert stored_bars(aws["ddb"]) == {}


def test_a_batch_touching_too_many_bars_is_rejected_whole(aws, make_runtime):
    runtime = make_runtime(limits=Limits(max_batch_bars=10))
    result = invoke(runtime, {"trades": TRADES})  # 4 symbols x 4 minutes
    assert result["status"] == "rejected" and "touches more than 10 bars" in result["message"]
    assert stored_bars(aws["ddb"]) == {}
    (source,) = [k for k in archive_keys(aws["s3"]) if ".source." in k]
    assert archive(aws["s3"], source)[source] == TRADES


# -- a response stays under Lambda's 6 MB ------------------------------------------------


def test_bars_beyond_the_response_bound_are_truncated_with_the_total(aws, make_runtime):
    runtime = make_runtime(limits=Limits(max_response_bars=5))
    result = invoke(runtime, {"trades": TRADES})
    assert result["bars_truncated"] is True and result["bars_total"] == 16
    assert len(result["bars"]) == 5 and len(stored_bars(aws["ddb"])) == 16
    small = invoke(runtime, {"trades": TRADES[:3]})
    assert small["bars_truncated"] is False and small["bars_total"] == len(small["bars"])


def test_the_largest_possible_response_fits_lambdas_payload_limit():
    from processor.bars import Bar
    from processor.decode import Rejection
    from processor.service import BatchOutcome

    limits = Limits()
    widest = Decimal("9999999999999999999999.9999999999999999")  # 38 digits
    bars = [
        Bar(
            "ABCDEFGHIJKLMNOP",
            i * 60_000,
            widest,
            widest,
            widest,
            widest,
            widest,
            widest,
            10**15,
            253_402_300_799_999,
            "x" * 128,
            253_402_300_799_999,
            "x" * 128,
        )
        for i in range(limits.max_response_bars + 10)
    ]
    reason = "r" * 300
    rejections = [
        Rejection(2_000_000, "\U0001f600" * 128, reason)
        for _ in range(limits.max_reported_rejections)
    ]
    outcome = BatchOutcome("applied", "x" * 128, "direct", 10**7, 10**7, rejections, bars)
    body = json.dumps(response("direct", [outcome], limits)).encode()  # as Lambda serialises it
    assert len(body) < 6 * 1024 * 1024
    many = response("s3", [outcome] * 10, limits)
    assert len(json.dumps(many).encode()) < 6 * 1024 * 1024


# -- text hygiene -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "trades"])
def test_a_byte_order_mark_costs_no_record(aws, make_runtime, fmt, tmp_path):
    path = write_trades(tmp_path / "f", TRADES[:30], fmt)
    body = codecs.BOM_UTF8 + path.read_bytes()
    result = batch_of(invoke(make_runtime(), upload(aws["s3"], f"incoming/bom.{fmt}", body)))
    assert result["accepted"] == 30 and result["rejected_total"] == 0


def test_every_archived_line_is_strict_json_and_non_finite_values_stay_strings(aws, make_runtime):
    direct = [
        TRADES[0],
        TRADES[1] | {"price": float("nan")},
        TRADES[2] | {"price": float("-inf"), "note": "\udc80"},
        TRADES[3] | {"price": "NaN"},
    ]
    invoke(make_runtime(), {"trades": direct, "batch_id": "strict"})
    body = jsonl(TRADES[4:6]).replace(b"\n", b"\n" + b'{"price": Infinity}\n', 1)
    invoke(make_runtime(), upload(aws["s3"], "incoming/strict.jsonl", body))
    records = []
    for lines in archive_lines(aws["s3"]).values():
        records += [strict_json(line) for line in lines]  # raises on NaN tokens or bad UTF-8
    rejected = {k.rsplit("/", 1)[1]: v for k, v in archive(aws["s3"], "rejected/").items()}
    direct_rejects = [r["record"] for r in rejected["strict.jsonl.gz"]]
    assert direct_rejects[0]["price"] == "nan"
    assert direct_rejects[1]["price"] == "-inf" and direct_rejects[1]["note"] == "\\udc80"
    assert direct_rejects[2]["price"] == "NaN"
    ((key, object_rejects),) = [(k, v) for k, v in rejected.items() if k.startswith("s3-")]
    assert [r["record"] for r in object_rejects] == ['{"price": Infinity}']
    assert len(records) == 7  # 1 + 3 lines of the direct batch, 2 + 1 of the object
