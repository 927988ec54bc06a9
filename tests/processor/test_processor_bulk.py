"""The bulk paths: clean chunks, set-based dedupe, background compression, grouped writes."""

from __future__ import annotations

import gzip
import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import TABLE, expected_bars, stored_bars  # type: ignore[import-not-found]

from benchmarks.market_data import MarketData
from benchmarks.processor import StubAws, StubRefusalError
from processor.archive import GzipSpool
from processor.bars import Bar, aggregate
from processor.decode import decode_object, decode_trades
from processor.pipeline import TradeIdSet, consume
from processor.records import validate
from processor.store import BarStore

TRADES = list(MarketData(120, symbols=3, seed=21, span_minutes=2))
JSONL = "".join(json.dumps(t) + "\n" for t in TRADES).encode()


def test_clean_jsonl_chunk_needs_no_per_trade_bookkeeping():
    (chunk,) = decode_object(io.BytesIO(JSONL), "k.jsonl")
    assert chunk.indexes == range(len(TRADES)) and chunk.rejections == []
    assert chunk.trades == [validate(t) for t in TRADES]


def test_non_canonical_records_take_the_precise_path_with_the_same_result():
    records = [t | {"symbol": t["symbol"].lower(), "side": ""} for t in TRADES]
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    (chunk,) = decode_object(io.BytesIO(body), "k.jsonl")
    assert isinstance(chunk.indexes, list) and chunk.indexes == list(range(len(TRADES)))
    assert chunk.trades == [validate(r) for r in records]
    assert all(t.symbol.isupper() and t.side is None for t in chunk.trades)
    (direct,) = decode_trades(records)
    assert direct.trades == chunk.trades


def test_clean_direct_records_and_a_dirty_chunk_keep_their_indexes():
    (clean,) = decode_trades(TRADES, start=7)
    assert clean.indexes == range(7, 7 + len(TRADES))
    dirty = [*TRADES[:3], TRADES[3] | {"price": "NaN"}, *TRADES[4:6]]
    (chunk,) = decode_trades(dirty)
    assert chunk.indexes == [0, 1, 2, 4, 5]
    assert [r.index for r in chunk.rejections] == [3]


def test_add_new_records_all_or_nothing():
    ids = TradeIdSet()
    assert ids.add_new(["a", "b"])
    assert not ids.add_new(["c", "a"])  # "a" seen before: nothing recorded
    assert ids.add("c")
    assert not ids.add_new(["d", "d"])  # repeat inside: nothing recorded
    assert ids.add("d")


def test_add_new_across_compaction_then_one_at_a_time():
    ids = TradeIdSet(compact_after=100)
    assert ids.add_new([f"t{i}" for i in range(150)])  # compacts on the way
    assert not ids.add_new(["new"])  # compact table: the caller goes id by id
    assert ids.add("new") and not ids.add("t3")


def test_repeats_across_chunks_are_rejected_with_their_index():
    records = TRADES[:50] + [TRADES[10]] + TRADES[50:60]
    lines: list[bytes] = []
    result = consume(decode_trades(records), "b", "s", lines.append, lambda _: None)
    assert result.accepted == 60 and result.rejected == 1
    assert result.reported[0].index == 50 and "repeated" in result.reported[0].reason
    bars: dict[tuple[str, int], Bar] = {}
    aggregate([validate(t) for t in TRADES[:60]], bars)
    assert result.bars == bars


def test_background_compression_gives_the_same_bytes():
    blocks = [JSONL[i : i + 997] for i in range(0, len(JSONL), 997)]
    with ThreadPoolExecutor(2) as pool:
        outputs = []
        for executor in (None, pool):
            spool = GzipSpool(executor)
            for block in blocks:
                spool.write(block)
            outputs.append(spool.finish().read())
            spool.close()
    assert outputs[0] == outputs[1] and gzip.decompress(outputs[1]) == JSONL


def test_closing_a_spool_waits_for_the_block_in_flight():
    with ThreadPoolExecutor(1) as pool:
        spool = GzipSpool(pool)
        spool.write(JSONL * 20)
        spool.close()  # no write into a closed file afterwards


def _store(ddb: Any, workers: int) -> BarStore:
    return BarStore(ddb, TABLE, ThreadPoolExecutor(workers), 3600, workers)


def _bars(records: list[dict[str, Any]]) -> list[Bar]:
    bars: dict[tuple[str, int], Bar] = {}
    aggregate([validate(r) for r in records], bars)
    return list(bars.values())


def test_redelivery_regrouped_finds_some_markers_inside_one_transaction(aws):
    """First delivery wrote some bars one per transaction and crashed; the retry groups all
    bars into one transaction: the applied ones are cancelled by their markers and settle
    as stored, the rest are sent again, and every bar holds the batch exactly once."""
    ddb = aws["ddb"]
    bars = _bars(TRADES)
    assert len(bars) >= 4
    _store(ddb, 16).apply(bars[:2], "batch", 9, {})
    calls: list[int] = []
    store = _store(ddb, 1)
    original = ddb.transact_write_items

    def counting(**kw: Any) -> Any:
        calls.append(len(kw["TransactItems"]))
        return original(**kw)

    ddb.transact_write_items = counting
    stored = store.apply(bars, "batch", 9, store.read(b.key for b in bars))
    assert calls == [2 * len(bars), 2 * (len(bars) - 2)]
    assert stored_bars(ddb) == expected_bars(TRADES)
    assert sorted(stored, key=lambda b: b.key) == sorted(bars, key=lambda b: b.key)
    assert store.apply(bars, "batch", 9, {}) == bars  # and once more: nothing changes
    assert stored_bars(ddb) == expected_bars(TRADES)


def test_concurrent_writer_in_the_same_group_is_merged_again(aws):
    ddb = aws["ddb"]
    first, second = _bars(TRADES[::2]), _bars(TRADES[1::2])
    _store(ddb, 1).apply(first[:1], "other", 9, {})  # lands between our read and our write
    _store(ddb, 1).apply(second, "ours", 9, {})  # read nothing: the first bar's check fails
    _store(ddb, 1).apply(first[1:], "other", 9, {})
    assert stored_bars(ddb) == expected_bars(TRADES)


@pytest.mark.parametrize(
    "reasons",
    [
        [{"Code": "None"}, {"Code": "ThrottlingError"}],
        [{"Code": "None"}, {"Code": "None"}],
        [{"Code": "None"}],
    ],
    ids=["throttled", "unexplained", "reasons-missing"],
)
def test_cancellations_we_cannot_read_are_raised_as_they_came(reasons):
    error = ClientError(
        {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
        "TransactWriteItems",
    )

    class Failing:
        def transact_write_items(self, **_: Any) -> None:
            raise error

    store = BarStore(Failing(), TABLE, ThreadPoolExecutor(1), 3600)  # type: ignore[arg-type]
    with pytest.raises(ClientError) as info:
        store.apply(_bars(TRADES[:1]), "b", 9, {})
    assert info.value is error


def test_benchmark_stub_refuses_what_dynamodb_refuses():
    stub = StubAws()
    put = {"Put": {"Item": {"pk": {"S": "p"}, "sk": {"S": "s"}}}}
    with pytest.raises(StubRefusalError):
        stub.transact_write_items(TransactItems=[put, put])
    with pytest.raises(StubRefusalError):
        stub.transact_write_items(
            TransactItems=[
                {"Put": {"Item": {"pk": {"S": "p"}, "sk": {"S": str(i)}}}} for i in range(101)
            ]
        )
    with pytest.raises(StubRefusalError):
        stub.batch_get_item(RequestItems={"t": {"Keys": [{}] * 101}})
    assert stub.transact_write_items(TransactItems=[put]) == {}
