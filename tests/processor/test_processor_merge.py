"""Order- and split-independence: pure property test, and concurrent writers on a moto server."""

from __future__ import annotations

import random
import threading
import urllib.request
from itertools import pairwise
from typing import Any

import boto3
import msgspec
import pytest
from helpers import (  # type: ignore[import-not-found]
    REGION,
    as_items,
    create_resources,
    expected_bars,
    stored_bars,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.server import ThreadedMotoServer

from processor.bars import Bar, aggregate, merge
from processor.records import Trade

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


@pytest.mark.unit
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


@pytest.mark.unit
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


@pytest.mark.integration
@pytest.mark.parametrize("workers", [16, 1], ids=["bar-per-transaction", "50-bars-per-transaction"])
def test_concurrent_overlapping_batches_on_a_moto_server(workers):
    """Several function instances merge overlapping batches of the same bars at the same time."""
    from benchmarks.market_data import MarketData
    from processor.handler import Runtime, handle
    from processor.settings import Settings

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        client: Any = lambda name: boto3.client(name, region_name=REGION, endpoint_url=endpoint)  # noqa: E731
        create_resources(client("dynamodb"), client("s3"))
        trades = list(MarketData(400, symbols=3, seed=11, span_minutes=2))
        rng = random.Random(5)
        shuffled = rng.sample(trades, len(trades))
        parts = [shuffled[i::6] for i in range(6)]  # every part touches the same bars
        batches = [(f"b{i}", part) for i, part in enumerate(parts)]
        batches += [("b0", parts[0]), ("b3", parts[3])]  # the same batches again, concurrently
        settings_ = Settings.from_env()
        runtimes = [
            Runtime.create(settings_, endpoint_url=endpoint, workers=workers) for _ in range(4)
        ]
        errors: list[BaseException] = []
        start = threading.Barrier(len(batches))

        def run(i: int, batch_id: str, batch: list[dict[str, Any]]) -> None:
            try:
                start.wait(timeout=30)
                for _ in range(2):  # and every batch delivered twice
                    handle(
                        {"trades": batch, "batch_id": batch_id}, runtimes[i % len(runtimes)].service
                    )
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=run, args=(i, *b)) for i, b in enumerate(batches)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors and not any(t.is_alive() for t in threads)
        assert stored_bars(client("dynamodb")) == expected_bars(*parts)
    finally:
        server.stop()
