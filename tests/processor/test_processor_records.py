"""Every rejection reason of a single record, on both the typed and the generic path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from processor.records import RecordError, Trade, WireTrade, all_valid, finish, validate

GOOD = {
    "trade_id": "t1",
    "symbol": "brk.b",
    "price": "187.25",
    "quantity": 10,
    "timestamp": 1795185000123,
    "side": "buy",
    "venue": "ignored",
}


def verdict(record: Any) -> Trade | str:
    """The generic validator's verdict, checked against the typed fast path when it applies."""
    try:
        slow: Trade | str = validate(record)
    except RecordError as err:
        slow = err.reason
    try:
        wire = msgspec.convert(record, WireTrade)
    except msgspec.ValidationError:
        return slow
    try:
        fast: Trade | str = finish(wire)
    except RecordError as err:
        fast = err.reason
    assert isinstance(fast, str) == isinstance(slow, str)
    if not isinstance(fast, str):
        assert fast == slow
    check_bulk_path(record, slow)
    return slow


def check_bulk_path(record: Any, slow: Trade | str) -> None:
    """The bulk path (decode straight into ``Trade``, then ``all_valid``) only ever accepts
    what the precise path accepts, unchanged; anything else it leaves to the precise path."""
    try:
        trade = msgspec.convert(record, Trade)
    except msgspec.ValidationError:
        return
    if all_valid([trade]):
        assert trade == slow
        assert msgspec.json.encode(trade) == msgspec.json.encode(slow)  # same archive line


def test_valid_record_is_normalised():
    trade = verdict(GOOD)
    assert trade == Trade("t1", "BRK.B", Decimal("187.25"), Decimal(10), 1795185000123, "buy")


@pytest.mark.parametrize(
    ("timestamp", "ms"),
    [
        ("2026-11-20T14:30:00.123Z", 1795185000123),
        ("2026-11-20T15:30:00.123+01:00", 1795185000123),
        ("1795185000123", 1795185000123),
        (1795185000123.0, 1795185000123),
    ],
)
def test_timestamp_forms(timestamp, ms):
    assert verdict(GOOD | {"timestamp": timestamp}).timestamp == ms  # type: ignore[union-attr]


def test_float_price_is_kept_as_written():
    assert verdict(GOOD | {"price": 0.1}).price == Decimal("0.1")  # type: ignore[union-attr]


def test_empty_side_is_absent():
    assert verdict(GOOD | {"side": ""}).side is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price": "NaN"}, "price: 'NaN' is not a finite number > 0"),
        ({"price": "Infinity"}, "price: 'Infinity' is not a finite number > 0"),
        ({"price": -1.5}, "price: '-1.5' is not a finite number > 0"),
        ({"price": 0}, "price: '0' is not a finite number > 0"),
        ({"price": "abc"}, "price: 'abc' is not a finite number > 0"),
        ({"price": True}, "price: True is not a number"),
        ({"price": [1]}, "price: [1] is not a number"),
        ({"price": "1e12"}, "price: '1e12' is out of range; allowed: below 1e10 with at most 8"),
        ({"price": "0.000000001"}, "price: '0.000000001' is out of range"),
        ({"quantity": 0}, "quantity: '0' is not a finite number > 0"),
        ({"quantity": "-3"}, "quantity: '-3' is not a finite number > 0"),
        ({"timestamp": "2026-11-20T14:31:00"}, "timestamp: '2026-11-20T14:31:00' has no zone"),
        (
            {"timestamp": "yesterday"},
            "timestamp: 'yesterday' is neither epoch milliseconds nor ISO",
        ),
        ({"timestamp": 1.5}, "timestamp: '1.5' is not epoch milliseconds (an integer)"),
        ({"timestamp": True}, "timestamp: True is not epoch milliseconds"),
        ({"timestamp": -1}, "timestamp: '-1' is out of range"),
        ({"symbol": "AA$PL"}, "symbol: 'AA$PL' is invalid; allowed: 1-16 characters"),
        ({"symbol": "1ABC"}, "symbol: '1ABC' is invalid"),
        ({"symbol": "A" * 17}, "is invalid; allowed: 1-16 characters"),
        ({"symbol": ""}, "symbol: '' is invalid"),
        ({"symbol": 5}, "symbol: '5' is invalid"),
        ({"trade_id": ""}, "trade_id: '' is not a non-empty string of at most 128 characters"),
        ({"trade_id": "x" * 129}, "is not a non-empty string of at most 128 characters"),
        ({"trade_id": 7}, "trade_id: '7' is not a non-empty string"),
        ({"side": "short"}, "side: 'short' is invalid; allowed: 'buy', 'sell' or absent"),
        ({"price": None}, "missing field(s) price; required: trade_id, symbol, price, quantity"),
    ],
)
def test_rejection_reasons(change, reason):
    result = verdict(GOOD | change)
    assert isinstance(result, str)
    assert reason in result


def test_missing_fields_are_all_named():
    result = verdict({"symbol": "AAPL"})
    assert result == (
        "missing field(s) trade_id, price, quantity, timestamp; required: "
        "trade_id, symbol, price, quantity, timestamp"
    )


def test_non_object_record():
    assert "is not an object" in str(verdict([1, 2]))


@pytest.mark.parametrize(
    ("change", "bulk"),
    [
        ({}, True),
        ({"symbol": "BRK.B"}, True),
        ({"side": None}, True),
        ({"price": 187.25, "quantity": "0.00000001"}, True),
        ({"symbol": "brk.b"}, False),  # valid, but needs upper-casing: precise path
        ({"side": ""}, False),  # valid, normalised to None by the precise path
        ({"price": "1.000000000"}, False),  # valid (8 places once trimmed): precise path
        ({"price": "NaN"}, False),
        ({"quantity": "sNaN"}, False),
        ({"price": "Infinity"}, False),
        ({"price": "-0"}, False),
        ({"quantity": "1e10"}, False),
        ({"price": "0.000000001"}, False),
    ],
)
def test_bulk_check_accepts_only_canonical_valid_trades(change, bulk):
    record = GOOD | {"symbol": "BRK.B"} | change
    try:
        trade = msgspec.convert(record, Trade)
    except msgspec.ValidationError:  # refused while decoding: the precise path decides
        assert not bulk
    else:
        assert all_valid([trade]) is bulk
    assert isinstance(verdict(record), Trade) or not bulk


def test_bulk_check_looks_at_every_trade():
    good = msgspec.convert(GOOD | {"symbol": "AAPL"}, Trade)
    bad = msgspec.convert(GOOD | {"price": "NaN", "trade_id": "t2"}, Trade)
    assert all_valid([good] * 50)
    assert not all_valid([good] * 25 + [bad] + [good] * 24)
    assert all_valid([])


@pytest.mark.parametrize(
    "change",
    [{"trade_id": ""}, {"trade_id": "x" * 129}, {"timestamp": -1}, {"side": "short"}],
    ids=["empty-id", "long-id", "negative-ts", "bad-side"],
)
def test_trade_constraints_refuse_while_decoding(change):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(GOOD | change, Trade)
