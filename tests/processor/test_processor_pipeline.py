"""The compact trade-id set used for in-batch duplicates, in both of its representations."""

from __future__ import annotations

from processor.pipeline import TradeIdSet


def test_trade_id_set_is_exact_across_compaction_and_growth():
    ids = TradeIdSet(compact_after=1_000)
    assert all(ids.add(f"t{i}") for i in range(300_000))
    assert not any(ids.add(f"t{i}") for i in range(0, 300_000, 7))
    assert ids.add("new")
