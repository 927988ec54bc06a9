"""Bars at their edges: ties at the open and the close, sums past ordinary precision, the bar
limits, and the bulk check refusing what the precise path refuses.

Every expected value is written out by hand (or computed with plain ``Decimal`` arithmetic at
a precision far above any bar's), never with the code under test.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from itertools import permutations

import msgspec
import pytest

from processor.bars import Bar, aggregate, block_bars, exceeds_limits, merge, merge_into
from processor.records import Trade

TS = 1_795_185_000_000  # 2026-11-20T14:30:00Z, the start of a minute
MINUTE = TS // 60_000
WIDEST = Decimal("9999999999.99999999")  # the largest price and quantity allowed


def trade(trade_id: str, price: str, ts: int = TS, quantity: Decimal | int = 1) -> Trade:
    return Trade(trade_id, "AAPL", Decimal(price), quantity, ts)


def bars_of(trades: list[Trade]) -> dict[tuple[str, int], Bar]:
    bars: dict[tuple[str, int], Bar] = {}
    aggregate(trades, bars)
    return bars


def open_close(bar: Bar) -> tuple[Decimal, str, Decimal, str]:
    return bar.open, bar.open_trade_id, bar.close, bar.close_trade_id


# Three trades at the same millisecond: the open is the smallest trade id, the close the
# greatest, whatever order they arrive in (the contract's order is (timestamp, trade_id)).
TIED = [trade("b", "2"), trade("a", "1"), trade("c", "3")]


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_ties_at_the_open_and_the_close_break_by_trade_id_in_any_order(order):
    trades = [TIED[i] for i in order]
    expected = (Decimal(1), "a", Decimal(3), "c")
    (bar,) = bars_of(trades).values()
    assert open_close(bar) == expected
    bulk = block_bars(trades)
    assert bulk is not None
    (bar,) = bulk.values()
    assert open_close(bar) == expected
    merged: dict[tuple[str, int], Bar] = {}
    for one in trades:  # one partial bar per trade, merged in arrival order
        merge_into(merged, bars_of([one]).values())
    (bar,) = merged.values()
    assert open_close(bar) == expected


def test_a_later_timestamp_beats_a_greater_trade_id_at_the_close_and_the_open():
    trades = [trade("z", "5", TS + 10), trade("a", "7", TS + 20), trade("y", "6", TS + 30)]
    for order in permutations(trades):
        (bar,) = bars_of(list(order)).values()
        assert open_close(bar) == (Decimal(5), "z", Decimal(6), "y")
        assert (bar.open_ts, bar.close_ts) == (TS + 10, TS + 30)


def test_sums_and_products_are_exact_far_past_ordinary_precision():
    """One trade's notional at the limits has 36 significant digits; ordinary arithmetic
    (28 digits) would round it."""
    trades = [
        trade("t1", "9999999999.99999999", quantity=WIDEST),
        trade("t2", "0.00000001", quantity=Decimal("0.00000001")),
    ]
    with localcontext() as exact:
        exact.prec = 200
        notional = WIDEST * WIDEST + Decimal("0.00000001") * Decimal("0.00000001")
        volume = WIDEST + Decimal("0.00000001")
    assert notional == Decimal("99999999999999999800.0000000000000002")
    for bars in (bars_of(trades), block_bars(trades)):
        assert bars is not None
        (bar,) = bars.values()
        assert bar.notional == notional and bar.volume == volume


def test_merging_bars_adds_exactly_past_ordinary_precision():
    a = bars_of([trade("t1", "9999999999.99999999", quantity=WIDEST)])
    b = bars_of([trade("t2", "0.00000001", TS + 1, quantity=Decimal("0.00000001"))])
    merge_into(a, b.values())
    (bar,) = a.values()
    assert bar.notional == Decimal("99999999999999999800.0000000000000002")
    assert bar.trade_count == 2


def test_integer_quantities_give_a_decimal_volume():
    """msgspec decodes a JSON integer quantity as an int; a bar's numbers are Decimals."""
    trades = [trade("t1", "10.5", quantity=3), trade("t2", "10.25", TS + 1, quantity=4)]
    for bars in (bars_of(trades), block_bars(trades)):
        assert bars is not None
        (bar,) = bars.values()
        assert type(bar.volume) is Decimal and bar.volume == 7
        assert bar.notional == Decimal("72.5")


def _bar(volume: str, notional: str) -> Bar:
    one = Decimal(1)
    return Bar(
        symbol="AAPL",
        minute_ms=MINUTE * 60_000,
        open=one,
        high=one,
        low=one,
        close=one,
        volume=Decimal(volume),
        notional=Decimal(notional),
        trade_count=1,
        open_ts=TS,
        open_trade_id="t",
        close_ts=TS,
        close_trade_id="t",
    )


@pytest.mark.parametrize(
    ("volume", "notional", "exceeds"),
    [
        ("9999999999999999999999.99999999", "9999999999999999999999.9999999999999999", False),
        ("1E+22", "1", True),
        ("1", "1E+22", True),
        ("1E+22", "1E+22", True),
        ("10000000000000000000000.00000001", "5", True),
    ],
)
def test_the_bar_limits_are_exact(volume, notional, exceeds):
    assert exceeds_limits(_bar(volume, notional)) is exceeds


def test_merge_takes_the_open_and_close_of_the_right_side():
    early = bars_of([trade("m", "1", TS + 5)])
    late = bars_of([trade("a", "2", TS + 6)])
    for x, y in ((early, late), (late, early)):
        (a,), (b,) = x.values(), y.values()
        bar = merge(a, b)
        assert open_close(bar) == (Decimal(1), "m", Decimal(2), "a")


def _decoded(**change: object) -> Trade:
    record = {"trade_id": "t", "symbol": "AAPL", "price": "1.5", "quantity": 2, "timestamp": TS}
    return msgspec.convert(record | change, Trade)


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ([{"price": "0.5"}], True),  # below one: still the fast path
        ([{"price": "9999999999.99999999"}], True),
        ([{"price": "0.00000001"}, {"price": "7"}], True),
        ([{"quantity": "0.00000001"}], True),
        ([{"price": "10000000000"}], False),  # 1e10: out of range
        ([{"price": "1"}, {"price": "10000000000"}], False),  # the highest price of a bar
        ([{"price": "10000000000"}, {"price": "1"}], False),
        ([{"quantity": 0}], False),
        ([{"quantity": "0"}], False),
        ([{"quantity": "0.000000001"}], False),
        ([{"price": "0.000000001"}], False),
        ([{"quantity": "NaN"}], False),  # a quiet NaN: sums to NaN without raising
        ([{"quantity": "0.5"}, {"quantity": "NaN"}], False),
        ([{"quantity": "Infinity"}], False),
        ([{"price": "1.5"}, {"price": "2.000000001"}, {"price": "3"}], False),  # off the notional
        ([{"quantity": "0.5"}, {"price": "2.000000001"}], False),  # fractions: the columns
    ],
)
def test_the_bulk_check_refuses_what_validation_refuses(changes, valid):
    try:
        trades = [_decoded(trade_id=f"t{i}", **change) for i, change in enumerate(changes)]
    except msgspec.ValidationError:  # refused while decoding (an integer quantity's range)
        assert not valid
    else:
        assert (block_bars(trades) is not None) is valid


def test_merging_is_order_free_when_two_batches_carry_the_same_trade_at_the_same_millisecond():
    """Trade ids are unique within a batch, not across batches: a tie on (timestamp, trade_id)
    is broken by the price, the lower one opening and the higher one closing."""
    (a,) = bars_of([trade("t1", "10")]).values()
    (b,) = bars_of([trade("t1", "11")]).values()
    assert open_close(merge(a, b)) == open_close(merge(b, a))
    assert (merge(a, b).open, merge(a, b).close) == (Decimal("10"), Decimal("11"))
