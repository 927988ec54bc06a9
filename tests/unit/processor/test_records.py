"""Every verdict of one record: reasons, the exact bounds, text hygiene, and the bulk check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.bars import block_bars
from processor.direct import decode_records
from processor.records import RecordError, Trade, show, validate

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
    """The validator's verdict, checked against the bulk path whenever that path applies, and
    against a direct call's whole decoding of the record with its symbol upper-case and no
    unknown fields (the bulk path takes only those)."""
    slow = precise(record)
    check_bulk_path(record, slow)
    if isinstance(record, dict) and isinstance(record.get("symbol"), str):
        known = {"trade_id", "symbol", "price", "quantity", "timestamp", "side"}
        canonical = {k: v for k, v in record.items() if k in known}
        canonical["symbol"] = record["symbol"].upper()
        check_direct_call(canonical, precise(canonical))
    return slow


def check_direct_call(record: dict[str, Any], slow: Trade | str) -> None:
    chunks = list(decode_records([record], 0, 32))
    trades = [t for chunk in chunks for t in chunk.trades]
    reasons = [r.reason for chunk in chunks for r in chunk.rejections]
    assert (trades, reasons) == (([slow], []) if isinstance(slow, Trade) else ([], [slow]))


def precise(record: Any) -> Trade | str:
    try:
        return validate(record)
    except RecordError as err:
        return err.reason


def check_bulk_path(record: Any, slow: Trade | str) -> None:
    """The bulk path (straight into ``Trade``, then ``block_bars``) only ever accepts what the
    precise path accepts, unchanged; anything else it leaves to the precise path."""
    try:
        trade = msgspec.convert(record, Trade)
    except msgspec.ValidationError:
        return
    if all_valid([trade]):
        assert trade == slow  # field by field; an integer quantity may stay an int


def all_valid(trades: list[Trade]) -> bool:
    return block_bars(trades) is not None


def test_valid_record_is_normalised():
    trade = verdict(GOOD)
    assert trade == Trade("t1", "BRK.B", Decimal("187.25"), Decimal(10), 1795185000123, "buy")


@pytest.mark.parametrize(
    ("timestamp", "ms"),
    [
        ("2026-11-20T14:30:00.123Z", 1795185000123),
        ("2026-11-20T15:30:00.123+01:00", 1795185000123),
        ("2026-11-20T14:30:00.1239Z", 1795185000123),  # sub-millisecond: dropped
        ("1795185000123", 1795185000123),
        (" 1795185000123 ", 1795185000123),
        ("00001795185000123", 1795185000123),
        (1795185000123.0, 1795185000123),
        (Decimal("1795185000123.000"), 1795185000123),
    ],
)
def test_timestamp_forms_give_whole_milliseconds(timestamp, ms):
    trade = verdict(GOOD | {"timestamp": timestamp})
    assert isinstance(trade, Trade) and trade.timestamp == ms
    assert type(trade.timestamp) is int  # never a float, from any form


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"trade_id": "x" * 128}, "x" * 128),
        ({"trade_id": "é" * 128}, "é" * 128),
        ({"timestamp": 0}, 0),
        ({"timestamp": "1970-01-01T00:00:00Z"}, 0),
        ({"timestamp": 253_402_300_799_999}, 253_402_300_799_999),
        ({"price": "9999999999.99999999"}, Decimal("9999999999.99999999")),
        ({"price": "0.00000001"}, Decimal("0.00000001")),
        ({"quantity": "9999999999.99999999"}, Decimal("9999999999.99999999")),
        ({"symbol": "A"}, "A"),
        ({"symbol": "ABCDEFGHIJKLMNOP"}, "ABCDEFGHIJKLMNOP"),
    ],
)
def test_values_at_the_exact_bounds_are_accepted(change, expected):
    trade = verdict(GOOD | change)
    assert isinstance(trade, Trade)
    (name,) = change
    assert getattr(trade, name) == expected


@pytest.mark.parametrize(
    ("timestamp", "ms"),
    [
        # Nanoseconds and the last millisecond of the range: a float of seconds would round.
        ("2026-11-22T10:00:00.123456789Z", 1_795_341_600_123),
        ("2026-11-22T10:00:00.999999Z", 1_795_341_600_999),
        ("9999-12-31T23:59:59.999999999Z", 253_402_300_799_999),
        ("9999-12-31T23:59:59.999+00:00", 253_402_300_799_999),
        ("253402300799999", 253_402_300_799_999),
        ("000253402300799999", 253_402_300_799_999),
        (253_402_300_799_999.0, 253_402_300_799_999),
        (Decimal("253402300799999"), 253_402_300_799_999),
        (0.0, 0),
        ("0", 0),
        (Decimal("0E+3"), 0),
        (1.0, 1),
    ],
)
def test_timestamps_are_exact_integers_at_any_size(timestamp, ms):
    trade = verdict(GOOD | {"timestamp": timestamp})
    assert isinstance(trade, Trade)
    assert type(trade.timestamp) is int and trade.timestamp == ms


def test_the_last_iso_millisecond_is_exact():
    """Epoch milliseconds worked out by hand: 2026-11-22 is day 20,779 since 1970-01-01."""
    assert 20_779 * 86_400_000 + 10 * 3_600_000 == 1_795_341_600_000
    assert verdict(GOOD | {"timestamp": "2026-11-22T10:00:00.123456789Z"}).timestamp == (  # type: ignore[union-attr]
        1_795_341_600_000 + 123
    )


def test_a_value_within_the_scale_keeps_its_digits():
    trade = verdict(GOOD | {"price": "187.25", "quantity": "0.10"})
    assert isinstance(trade, Trade)
    assert (str(trade.price), str(trade.quantity)) == ("187.25", "0.10")
    assert str(verdict(GOOD | {"price": 5}).price) == "5"  # type: ignore[union-attr]


def test_extra_zeros_are_trimmed_to_the_scale():
    trade = verdict(GOOD | {"price": "1.000000000", "quantity": "2.5000000000000"})
    assert isinstance(trade, Trade)
    assert str(trade.price) == "1.00000000" and str(trade.quantity) == "2.50000000"


def test_float_price_is_kept_as_written():
    assert verdict(GOOD | {"price": 0.1}).price == Decimal("0.1")  # type: ignore[union-attr]


def test_empty_side_is_absent():
    assert verdict(GOOD | {"side": ""}).side is None  # type: ignore[union-attr]


NOT_A_NUMBER = "is not a number; allowed: a JSON number or a numeric string of ASCII digits"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price": "NaN"}, "price: 'NaN' is not a finite number > 0"),
        ({"price": "nan"}, "price: 'nan' is not a finite number > 0"),
        ({"price": "-Infinity"}, "price: '-Infinity' is not a finite number > 0"),
        ({"price": "inf"}, "price: 'inf' is not a finite number > 0"),
        ({"price": "sNaN"}, "price: 'sNaN' is not a finite number > 0"),
        ({"price": float("nan")}, "price: 'nan' is not a finite number > 0"),
        ({"price": float("inf")}, "price: 'inf' is not a finite number > 0"),
        ({"price": Decimal("Infinity")}, "price: 'Infinity' is not a finite number > 0"),
        ({"price": -1.5}, "price: '-1.5' is not a finite number > 0"),
        ({"price": "-0"}, "price: '-0' is not a finite number > 0"),
        ({"price": 0}, "price: '0' is not a finite number > 0"),
        ({"price": "abc"}, f"price: 'abc' {NOT_A_NUMBER}"),
        ({"price": "\uff11\uff12"}, f"price: '\uff11\uff12' {NOT_A_NUMBER}"),
        ({"price": "\u0661\u0662"}, f"price: '\u0661\u0662' {NOT_A_NUMBER}"),
        ({"price": "1_000"}, f"price: '1_000' {NOT_A_NUMBER}"),
        ({"price": "1e999999999999999999"}, "price: '1e999999999999999999' is out of range"),
        ({"price": True}, f"price: True {NOT_A_NUMBER}"),
        ({"price": [1]}, f"price: a list {NOT_A_NUMBER}"),
        ({"price": {"v": 1}}, f"price: an object {NOT_A_NUMBER}"),
        ({"price": "1e10"}, "price: '1e10' is out of range; allowed: below 1e10 with at most 8"),
        ({"price": 10**400}, "price: <an integer of 1329 bits> is out of range"),
        ({"price": "1" * 5000}, "is out of range"),
        ({"price": "0.000000001"}, "price: '0.000000001' is out of range"),
        ({"price": "0." + "1" * 100_000}, "is out of range"),
        ({"quantity": 0}, "quantity: '0' is not a finite number > 0"),
        ({"quantity": "-3"}, "quantity: '-3' is not a finite number > 0"),
        ({"quantity": "\uff11"}, f"quantity: '\uff11' {NOT_A_NUMBER}"),
        ({"timestamp": "2026-11-20T14:31:00"}, "timestamp: '2026-11-20T14:31:00' has no zone"),
        ({"timestamp": "yesterday"}, "timestamp: 'yesterday' is neither epoch milliseconds nor"),
        (
            {"timestamp": "\uff12\uff10\uff12\uff16-11-20T14:31:00Z"},
            "is not ASCII; allowed: epoch milliseconds",
        ),
        (
            {
                "timestamp": "\uff11\uff17\uff19\uff15\uff11\uff18\uff15\uff10\uff10\uff10\uff11\uff12\uff13"
            },
            "is not ASCII",
        ),
        ({"timestamp": 1.5}, "timestamp: '1.5' is not epoch milliseconds (an integer)"),
        ({"timestamp": float("inf")}, "timestamp: 'inf' is not epoch milliseconds"),
        ({"timestamp": float("nan")}, "timestamp: 'nan' is not epoch milliseconds"),
        ({"timestamp": Decimal("Infinity")}, "timestamp: 'Infinity' is not epoch milliseconds"),
        ({"timestamp": Decimal("1e400")}, "timestamp: '1E+400' is out of range"),
        ({"timestamp": Decimal("1e999999999")}, "timestamp: '1E+999999999' is out of range"),
        ({"timestamp": "9" * 5000}, "is out of range; allowed: 1970-01-01 to 9999-12-31 UTC"),
        ({"timestamp": 10**5000}, "timestamp: <an integer of 16610 bits> is out of range"),
        ({"timestamp": True}, "timestamp: True is not epoch milliseconds"),
        ({"timestamp": -1}, "timestamp: '-1' is out of range"),
        ({"timestamp": 253_402_300_800_000}, "timestamp: '253402300800000' is out of range"),
        ({"timestamp": "1969-12-31T23:59:59.999Z"}, "is out of range"),
        ({"symbol": "AA$PL"}, "symbol: 'AA$PL' is invalid; allowed: 1-16 characters"),
        ({"symbol": "1ABC"}, "symbol: '1ABC' is invalid"),
        ({"symbol": "A" * 17}, "is invalid; allowed: 1-16 characters"),
        ({"symbol": "ÄPPLE"}, "symbol: 'ÄPPLE' is invalid"),
        ({"symbol": ""}, "symbol: '' is invalid"),
        ({"symbol": 5}, "symbol: '5' is invalid"),
        ({"trade_id": ""}, "trade_id: '' is not a non-empty string of at most 128 characters"),
        ({"trade_id": "x" * 129}, "is not a non-empty string of at most 128 characters"),
        ({"trade_id": 7}, "trade_id: '7' is not a non-empty string"),
        ({"trade_id": "a\udc80b"}, "is not valid Unicode (a lone surrogate or a byte that is"),
        ({"trade_id": "\ud800"}, "is not valid Unicode"),
        ({"side": "short"}, "side: 'short' is invalid; allowed: 'buy', 'sell' or absent"),
        ({"side": "BUY"}, "side: 'BUY' is invalid"),
        ({"side": ["buy"]}, "side: a list is invalid"),
        ({"price": None}, "missing field(s) price; required: trade_id, symbol, price, quantity"),
    ],
)
def test_rejection_reasons(change, reason):
    result = verdict(GOOD | change)
    assert isinstance(result, str)
    assert reason in result


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"timestamp": "2026-11-20T14:31:00"},
            "timestamp: '2026-11-20T14:31:00' has no zone; allowed: ISO-8601 with Z or an "
            "offset, or epoch milliseconds",
        ),
        (
            {"timestamp": "\uff11\uff12"},
            "timestamp: '\uff11\uff12' is not ASCII; allowed: epoch milliseconds in ASCII "
            "digits or ISO-8601 with a zone",
        ),
        (
            {"timestamp": "1" + "0" * 15},
            "timestamp: '1000000000000000' is out of range; allowed: 1970-01-01 to 9999-12-31 UTC",
        ),
        (
            {"timestamp": "253402300800000"},
            "timestamp: '253402300800000' is out of range; allowed: 1970-01-01 to 9999-12-31 UTC",
        ),
        (
            {"timestamp": 253_402_300_800_000.0},
            "timestamp: '253402300800000.0' is out of range; allowed: 1970-01-01 to 9999-12-31 UTC",
        ),
        (
            {"timestamp": -1.0},
            "timestamp: '-1.0' is out of range; allowed: 1970-01-01 to 9999-12-31 UTC",
        ),
        (
            {"timestamp": 5.5},
            "timestamp: '5.5' is not epoch milliseconds (an integer) or ISO-8601 with a zone",
        ),
        (
            {"timestamp": [5]},
            "timestamp: a list is not epoch milliseconds (an integer) or ISO-8601 with a zone",
        ),
        (
            {"trade_id": "a\udc80"},
            "trade_id: 'a\\udc80' is not valid Unicode (a lone surrogate or a byte that is not "
            "UTF-8)",
        ),
        (
            {"symbol": "1ABC"},
            "symbol: '1ABC' is invalid; allowed: 1-16 characters of A-Z a-z 0-9 . - starting "
            "with a letter",
        ),
        (
            {"price": "1.000000001"},
            "price: '1.000000001' is out of range; allowed: below 1e10 with at most 8 decimal "
            "places",
        ),
    ],
)
def test_whole_reasons_word_for_word(change, reason):
    assert verdict(GOOD | change) == reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([1, 2], "record: a list is not an object; allowed: a JSON object per trade"),
        ("text", "record: 'text' is not an object; allowed: a JSON object per trade"),
        (None, "record: None is not an object; allowed: a JSON object per trade"),
    ],
)
def test_a_record_that_is_not_an_object_says_what_it_is(record, reason):
    assert verdict(record) == reason


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2**128, "<an integer of 129 bits>"),
        (2**128 - 1, "'340282366920938463463374607431768211..."),  # 128 bits: its digits
        ("x" * 38, "'" + "x" * 38 + "'"),  # 40 characters with its quotes: whole
        ("x" * 39, "'" + "x" * 36 + "..."),  # 41: cut to 37 and an ellipsis
        (Decimal("1.50"), "'1.50'"),
        ({"a": 1}, "an object"),
        (True, "True"),
    ],
)
def test_values_in_reasons_are_shown_short(value, shown):
    assert show(value) == shown


def test_a_record_error_is_its_reason():
    error = RecordError("price: '0' is not a finite number > 0")
    assert str(error) == error.reason == "price: '0' is not a finite number > 0"


def test_missing_fields_are_all_named():
    result = verdict({"symbol": "AAPL"})
    assert result == (
        "missing field(s) trade_id, price, quantity, timestamp; required: "
        "trade_id, symbol, price, quantity, timestamp"
    )


@pytest.mark.parametrize("record", [[1, 2], "text", 5, None, True])
def test_non_object_record(record):
    assert "is not an object" in str(verdict(record))


@pytest.mark.parametrize(
    ("change", "bulk"),
    [
        ({}, True),
        ({"symbol": "BRK.B"}, True),
        ({"side": None}, True),
        ({"price": 187.25, "quantity": "0.00000001"}, True),
        ({"price": "0.00000001"}, True),  # exactly 8 places
        ({"price": "9999999999.99999999", "quantity": "9999999999.99999999"}, True),
        ({"quantity": 0}, False),
        ({"symbol": "brk.b"}, False),  # valid, but needs upper-casing: precise path
        ({"side": ""}, False),  # valid, normalised to None by the precise path
        ({"price": "1.000000000"}, False),  # valid (8 places once trimmed): precise path
        ({"price": "NaN"}, False),
        ({"quantity": "sNaN"}, False),
        ({"price": "Infinity"}, False),
        ({"price": "-0"}, False),
        ({"quantity": "1e10"}, False),
        ({"price": "0.000000001"}, False),
        ({"price": "0." + "1" * 10_000}, False),
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
    small = msgspec.convert(GOOD | {"quantity": "0.000000001", "trade_id": "t3"}, Trade)
    assert all_valid([good] * 50)
    assert not all_valid([good] * 25 + [bad] + [good] * 24)
    assert not all_valid([good] * 25 + [small] + [good] * 24)
    assert all_valid([])


@pytest.mark.parametrize(
    "change",
    [{"trade_id": ""}, {"trade_id": "x" * 129}, {"timestamp": -1}, {"side": "short"}],
    ids=["empty-id", "long-id", "negative-ts", "bad-side"],
)
def test_trade_constraints_refuse_while_decoding(change):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(GOOD | change, Trade)


_numbers = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.text(max_size=12),
    st.from_regex(r"-?[0-9]{0,12}(\.[0-9]{0,12})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
)


@given(
    price=_numbers,
    quantity=_numbers,
    timestamp=st.one_of(_numbers, st.datetimes().map(lambda d: d.isoformat())),
    symbol=st.one_of(
        st.text(max_size=18), st.from_regex(r"[A-Za-z][A-Za-z0-9.-]{0,16}", fullmatch=True)
    ),
    trade_id=st.text(max_size=130),
    side=st.sampled_from([None, "", "buy", "sell", "BUY", 1]),
)
@settings(max_examples=300, deadline=None)
def test_any_field_values_give_a_verdict_never_an_exception(
    price, quantity, timestamp, symbol, trade_id, side
):
    record = {
        "trade_id": trade_id,
        "symbol": symbol,
        "price": price,
        "quantity": quantity,
        "timestamp": timestamp,
        "side": side,
    }
    result = verdict(record)  # RecordError is the only exception validate may raise
    if isinstance(result, Trade):
        assert Decimal(0) < result.price < Decimal(10) ** 10
        assert Decimal(0) < result.quantity < Decimal(10) ** 10
        assert result.price.as_tuple().exponent >= -8  # type: ignore[operator]
        assert Decimal(result.quantity).as_tuple().exponent >= -8  # type: ignore[operator]
        assert 0 <= result.timestamp <= 253_402_300_799_999
        assert result.symbol.isascii() and result.symbol == symbol.upper()
