"""Order- and split-independence of aggregation and merging, against an independent oracle.

Concurrent writers on a moto server: tests/integration/processor/test_concurrent.py."""

from __future__ import annotations

from itertools import pairwise

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.bars import Bar, aggregate, merge
from processor.records import Trade
from tests.processor_helpers import as_items, expected_bars

_TS = 1_795_185_000_000
trades_strategy = st.lists(
    st.builds(
        Trade,
        trade_id=st.sampled_from([f"t{i}" for i in range(40)]),
        symbol=st.sampled_from(["AAPL", "MSFT"]),
        price=st.decimals(min_value="0.01", max_value="999", places=2),
        quantity=st.decimals(min_value="0.001", max_value="50", places=3),
        timestamp=st.integers(_TS, _TS + 150_000),  # ties on timestamp happen often
    ),
    min_size=1,
    max_size=60,
    unique_by=lambda t: t.trade_id,
)


def bars_of(trades: list[Trade]) -> dict[tuple[str, int], Bar]:
    bars: dict[tuple[str, int], Bar] = {}
    aggregate(trades, bars)
    return bars


@given(trades_strategy, st.lists(st.integers(0, 60), max_size=5), st.randoms())
@settings(max_examples=150, deadline=None)
def test_any_split_and_order_gives_the_same_bars(trades, cuts, rnd):
    whole = bars_of(trades)
    shuffled = list(trades)
    rnd.shuffle(shuffled)
    bounds = sorted({0, len(shuffled), *(c % (len(shuffled) + 1) for c in cuts)})
    parts = [bars_of(shuffled[a:b]) for a, b in pairwise(bounds)]
    rnd.shuffle(parts)
    merged: dict[tuple[str, int], Bar] = {}
    for part in parts:
        for key, bar in part.items():
            merged[key] = merge(merged[key], bar) if key in merged else bar
    assert merged == whole
    assert as_items(merged) == expected_bars(as_dicts(trades))


def as_dicts(trades: list[Trade]) -> list[dict[str, object]]:
    return [msgspec.structs.asdict(t) for t in trades]


@given(
    trades_strategy,
    st.lists(st.decimals(min_value="0.01", max_value="999", places=2), min_size=1, max_size=5),
    st.integers(1, 60),
)
@settings(max_examples=150, deadline=None)
def test_aggregation_in_chunks_equals_an_independent_aggregation(trades, prices, chunk):
    """Repeated prices with other exponents (10.0 vs 10.00) and timestamp ties included."""
    trades = [
        msgspec.structs.replace(t, price=prices[i % len(prices)].normalize()) if i % 3 else t
        for i, t in enumerate(trades)
    ]
    bars: dict[tuple[str, int], Bar] = {}
    for i in range(0, len(trades), chunk):
        aggregate(trades[i : i + chunk], bars)
    assert as_items(bars) == expected_bars(as_dicts(trades))
