"""Events into sources: direct batches and their ids, S3 records and every way to refuse one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.market_data import MarketData
from processor.events import DirectBatch, ObjectRef, Refusal, parse_event
from processor.settings import Limits

TRADES = list(MarketData(30, symbols=3, seed=1))
INGEST = "ingest-bucket"
LIMITS = Limits()


def parse(event: Any, limits: Limits = LIMITS):
    return parse_event(event, INGEST, limits)


def direct(event: Any) -> DirectBatch:
    parsed = parse(event)
    assert parsed.kind == "direct"
    (batch,) = parsed.sources
    assert isinstance(batch, DirectBatch)
    return batch


def record(key: Any = "incoming/a.jsonl", **changes: Any) -> dict[str, Any]:
    obj = {"key": key, "eTag": "etag", "size": 3} | changes.pop("object", {})
    base = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": INGEST}, "object": obj},
    }
    return base | changes


def test_a_derived_batch_id_is_stable_for_the_same_records():
    first = direct({"trades": TRADES[:2]})
    again = direct({"trades": [dict(reversed(list(t.items()))) for t in TRADES[:2]]})
    assert first.batch_id == again.batch_id and first.batch_id.startswith("direct-")
    assert first.fingerprint == again.fingerprint


@pytest.mark.parametrize(
    "other",
    [
        TRADES[:1],
        TRADES[1:3],
        [TRADES[1], TRADES[0]],
        [TRADES[0] | {"price": str(TRADES[0]["price"])}],
        [TRADES[0] | {"price": float("nan")}],
        [TRADES[0] | {"price": None}],
        [TRADES[0], TRADES[1] | {"extra": [1]}],
    ],
)
def test_different_direct_batches_get_different_ids(other):
    assert direct({"trades": TRADES[:2]}).batch_id != direct({"trades": other}).batch_id


@given(
    st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
            lambda c: st.lists(c) | st.dictionaries(st.text(), c),
            max_leaves=8,
        ),
        max_size=4,
    ),
    st.lists(st.integers(), max_size=3),
)
@settings(max_examples=100, deadline=None)
def test_any_records_give_an_id_and_distinct_records_distinct_ids(records, extra):
    first = direct({"trades": records})
    assert first.batch_id.startswith("direct-") and len(first.batch_id) == 39
    if extra:
        assert direct({"trades": records + extra}).batch_id != first.batch_id


def test_hostile_records_still_get_an_id():
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    for records in ([deep], [10**5000], [{1: "a", "b": 2}], ["\udc80"]):
        assert direct({"trades": records}).batch_id.startswith("direct-")


def test_given_batch_id_and_single_trade_form():
    assert direct({"trades": [], "batch_id": "b-1"}).batch_id == "b-1"
    single = direct({"trade_data": TRADES[0]})
    assert list(single.records) == [TRADES[0]] and single.problem is None


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"trades": "nope"}, "'trades' is a string; allowed: an array of trade objects"),
        ({"trades": {"a": 1}}, "'trades' is an object"),
        ({"trades": [], "batch_id": "a/b"}, "batch_id: 'a/b' is invalid"),
        ({"trades": [], "batch_id": "x" * 129}, "is invalid; allowed: 1-128 characters"),
        ({"trades": [], "batch_id": 5}, "batch_id: '5' is invalid"),
        (
            {"trades": TRADES[:1], "trade_data": TRADES[1]},
            "event: has 'trades' and 'trade_data'; allowed: exactly one of 'trades'",
        ),
        ({"trade_data": TRADES[0], "Records": []}, "has 'trade_data' and 'Records'"),
        (
            {"Records": [record()], "trades": TRADES[:1], "trade_data": TRADES[1]},
            "has 'trades' and 'trade_data' and 'Records'",
        ),
        # A key spelled almost like a form is neither ignored nor lets its twin be read alone.
        ({"trades": TRADES[:1], "Trades": TRADES[1:2]}, "has 'trades' and 'Trades'; allowed"),
        ({"trades": TRADES[:1], " trade_data": TRADES[1]}, "has 'trades' and ' trade_data'"),
        ({"tradeData": TRADES[1], "trade_data": TRADES[0]}, "has 'trade_data' and 'tradeData'"),
        ({"Trades": TRADES[:1]}, "has 'Trades', which is not a key the function reads"),
        ({"TRADE-DATA": TRADES[0]}, "has 'TRADE-DATA', which is not a key the function reads"),
        ({"trades": None, "trade_data": None}, "has 'trades' and 'trade_data'"),
        ({"trades": None}, "'trades' is null; allowed: an array of trade objects"),
    ],
)
def test_malformed_direct_events_are_rejected_whole(event, problem):
    batch = direct(event)
    assert batch.problem is not None and problem in batch.problem
    assert batch.batch_id.startswith("invalid-") and batch.payload == event


@pytest.mark.parametrize(
    ("event", "form"),
    [
        ({"trades": TRADES[:2], "trade_data": None}, "trades"),
        ({"trades": None, "trade_data": TRADES[0]}, "trade_data"),
        ({"trades": TRADES[:2], "Trades": None, "Records": None, "batch_id": None}, "trades"),
    ],
)
def test_a_null_form_counts_as_absent_like_a_null_batch_id(event, form):
    """Serialisers write unset optional fields as null; a null carries no trade, so reading
    the other form drops nothing, and the batch is the one the event names without the null."""
    alone = direct({form: event[form]})
    batch = direct(event)
    assert batch.problem is None and list(batch.records) == list(alone.records)
    assert batch.batch_id == alone.batch_id and batch.batch_id.startswith("direct-")


@pytest.mark.parametrize(
    "key", ["record", "trade", "trades_count", "my_trades", "x" * 40 + "trades", "Records_"]
)
def test_keys_that_only_resemble_a_form_are_unknown_fields(key):
    batch = direct({"trades": TRADES[:1], key: TRADES[1]})
    assert batch.problem is None and list(batch.records) == TRADES[:1]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"hello": 1}, "neither 'trades'"),
        ([1], "event is an array"),
        ("text", "event is a string"),
        (None, "event is null"),
        (7, "event is a number"),
        (True, "event is a boolean"),
        ({"Records": []}, "'Records' is not a non-empty list"),
        ({"Records": "x"}, "'Records' is not a non-empty list"),
    ],
)
def test_unusable_events_are_refused(event, reason):
    parsed = parse(event)
    (refusal,) = parsed.sources
    assert parsed.kind == "unusable" and isinstance(refusal, Refusal)
    assert reason in refusal.reason


def test_s3_keys_are_url_decoded_and_versions_kept():
    (ref,) = parse({"Records": [record("incoming/a+b%2Bc%3D%C3%A9.jsonl")]}).sources
    assert isinstance(ref, ObjectRef) and ref.key == "incoming/a b+c=é.jsonl"
    (versioned,) = parse({"Records": [record(object={"versionId": "v1"})]}).sources
    assert isinstance(versioned, ObjectRef) and versioned.version_id == "v1"
    assert versioned.location_id != ref.location_id


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"eventName": "ObjectRemoved:Delete"}, "not an S3 ObjectCreated notification"),
        ({"eventName": None}, "not an S3 ObjectCreated notification"),
        ({"s3": None}, "malformed notification"),
        ({"s3": {"bucket": {"name": INGEST}}}, "malformed notification"),
        ({"s3": {"bucket": {"name": INGEST}, "object": {"eTag": "e"}}}, "malformed notification"),
        ({"s3": {"bucket": {"name": INGEST}, "object": {"key": 5, "eTag": "e"}}}, "as strings"),
        ({"s3": {"bucket": {"name": INGEST}, "object": ["x"]}}, "malformed notification"),
        ({"s3": {"bucket": {"name": INGEST}, "object": {"key": "incoming/a"}}}, "no eTag"),
        (
            {"s3": {"bucket": {"name": INGEST}, "object": {"key": "incoming/a", "eTag": ""}}},
            "no eTag",
        ),
        (
            {
                "s3": {
                    "bucket": {"name": INGEST},
                    "object": {"key": "incoming/a", "eTag": "e", "versionId": 3},
                }
            },
            "versionId",
        ),
        (
            {
                "s3": {
                    "bucket": {"name": "dev-archive"},
                    "object": {"key": "incoming/a", "eTag": "e"},
                }
            },
            "not the ingest bucket",
        ),
        (
            {"s3": {"bucket": {"name": "other"}, "object": {"key": "incoming/a", "eTag": "e"}}},
            "not the ingest bucket",
        ),
        (
            {
                "s3": {
                    "bucket": {"name": INGEST},
                    "object": {"key": "raw/dt=1/x.jsonl.gz", "eTag": "e"},
                }
            },
            "outside incoming/",
        ),
        (
            {"s3": {"bucket": {"name": INGEST}, "object": {"key": "incomingx/a", "eTag": "e"}}},
            "outside incoming/",
        ),
        (
            {"s3": {"bucket": {"name": INGEST}, "object": {"key": "%69ncoming/a", "eTag": "e"}}},
            None,
        ),
    ],
)
def test_a_bad_notification_record_is_refused_without_affecting_the_others(bad, reason):
    records: list[Any] = [
        record("incoming/first.jsonl"),
        record() | bad,
        record("incoming/last.jsonl"),
    ]
    parsed = parse({"Records": records})
    first, middle, last = parsed.sources
    assert isinstance(first, ObjectRef) and first.key == "incoming/first.jsonl"
    assert isinstance(last, ObjectRef) and last.key == "incoming/last.jsonl"
    if reason is None:  # "%69" is "i": the decoded key is under incoming/
        assert isinstance(middle, ObjectRef) and middle.key == "incoming/a"
    else:
        assert isinstance(middle, Refusal) and reason in middle.reason


def test_a_record_that_is_not_an_object_is_refused():
    first, second = parse({"Records": [5, record()]}).sources
    assert isinstance(first, Refusal) and isinstance(second, ObjectRef)


def test_records_beyond_the_event_limit_are_refused():
    parsed = parse(
        {"Records": [record(f"incoming/{i}") for i in range(5)]}, Limits(max_event_records=3)
    )
    assert [type(s).__name__ for s in parsed.sources] == ["ObjectRef"] * 3 + ["Refusal"] * 2
    assert "more than 3 notification records" in parsed.sources[3].reason
