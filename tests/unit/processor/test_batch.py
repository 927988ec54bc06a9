"""One batch in memory: repeated trade ids, the bar limit, the rejection lines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.market_data import MarketData
from processor.batch import BatchResult, TradeIdSet, consume, rejection_lines
from processor.decode import Rejection
from processor.direct import decode_records
from processor.errors import ObjectTooLargeError
from processor.settings import Limits
from tests.processor_helpers import as_items, expected_bars, strict_json

TRADES = list(MarketData(120, symbols=3, seed=21, span_minutes=2))


def test_trade_id_set_is_exact_across_compaction_and_growth():
    ids = TradeIdSet(compact_after=1_000)
    assert all(ids.add(f"t{i}") for i in range(300_000))
    assert not any(ids.add(f"t{i}") for i in range(0, 300_000, 7))
    assert ids.add("new")


def test_add_new_records_all_or_nothing():
    ids = TradeIdSet()
    assert ids.add_new(["a", "b"])
    assert not ids.add_new(["c", "a"])  # "a" seen before: nothing recorded
    assert ids.add("c")
    assert not ids.add_new(["d", "d"])  # repeat inside: nothing recorded
    assert ids.add("d")


def test_add_new_is_all_or_nothing_in_the_compact_table_too():
    ids = TradeIdSet(compact_after=100)
    assert ids.add_new([f"t{i}" for i in range(150)])  # compacts on the way
    assert ids.add_new(["new", "newer"])
    assert not ids.add_new(["x", "t3"])  # seen before: nothing recorded
    assert not ids.add_new(["y", "y"])  # repeat inside: nothing recorded
    assert ids.add("x") and ids.add("y") and not ids.add("t3") and not ids.add("newer")
    assert ids.add_new([f"u{i}" for i in range(5_000)])  # grows the table on the way
    assert not any(ids.add(f"u{i}") for i in range(0, 5_000, 7))


def _consume(
    records: list[Any], limits: Limits | None = None
) -> tuple[BatchResult, list[bytes], list[bytes]]:
    limits = limits or Limits()
    accepted: list[bytes] = []
    rejected: list[bytes] = []
    chunks = list(decode_records(records, 0, limits.max_depth))
    result = consume(chunks, limits, accepted.append, rejected.append)
    return result, b"".join(accepted).splitlines(), b"".join(rejected).splitlines()


def test_repeats_across_chunks_are_rejected_with_their_index():
    records = TRADES[:50] + [TRADES[10], TRADES[49]] + TRADES[50:60]
    result, accepted, rejected = _consume(records * 1)
    assert result.accepted == 60 and result.rejected == 2
    assert [(r.index, r.trade_id) for r in result.reported] == [
        (50, TRADES[10]["trade_id"]),
        (51, TRADES[49]["trade_id"]),
    ]
    assert all("repeated within the batch" in r.reason for r in result.reported)
    assert [json.loads(line)["trade_id"] for line in accepted] == [
        t["trade_id"] for t in TRADES[:60]
    ]
    assert [strict_json(line)["record"] for line in rejected] == [TRADES[10], TRADES[49]]
    assert as_items(result.bars) == expected_bars(TRADES[:60])


def test_a_repeat_in_a_later_chunk_of_a_large_batch():
    records = list(MarketData(6_000, symbols=3, seed=2))
    result, accepted, _ = _consume([*records, records[5_999], records[0]])
    assert result.accepted == 6_000 and [r.index for r in result.reported] == [6_000, 6_001]
    assert len(accepted) == 6_000


def test_a_batch_touching_more_bars_than_the_limit_is_too_large():
    with pytest.raises(ObjectTooLargeError, match="touches more than 5 bars"):
        _consume(TRADES, Limits(max_batch_bars=5))
    assert len(_consume(TRADES, Limits(max_batch_bars=6))[0].bars) == 6


def test_reported_rejections_are_capped_and_all_archived():
    bad = [{"trade_id": f"x{i}"} for i in range(30)]
    result, _, rejected = _consume(bad, Limits(max_reported_rejections=7))
    assert result.rejected == 30 and len(result.reported) == 7 and len(rejected) == 30


def test_rejection_lines_are_strict_json_for_any_record():
    deep: object = []
    for _ in range(100):
        deep = [deep]
    records = [float("nan"), {"a": float("inf")}, "\udc80x", {"\ud800": 1}, deep, 10**5000]
    lines = rejection_lines([Rejection(i, None, "r", r) for i, r in enumerate(records)], 32)
    decoded = [strict_json(line)["record"] for line in lines.splitlines()]
    assert decoded[0] == "nan" and decoded[1] == {"a": "inf"}
    assert decoded[2] == "\\udc80x" and decoded[3] == {"\\ud800": 1}
    depth, node = 0, decoded[4]
    while isinstance(node, list):
        depth, node = depth + 1, node[0]
    assert depth == 32 and "nested deeper than 32 levels" in node
    assert decoded[5].startswith("<an integer of")
