"""Trade records (SPEC §5): the validated shape and the one validator every input path uses.

Two entry points share the same checks, so a record gets the same verdict whichever way it
arrives: ``finish`` completes a ``WireTrade`` that msgspec already decoded with the right
basic types (the fast path for JSON), ``validate`` takes any decoded object (a dict from a
direct invocation, a CSV row, a JSON line msgspec could not type) and names what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Final

import msgspec

__all__ = [
    "MAX_DECIMAL_PLACES",
    "MAX_VALUE",
    "RecordError",
    "Trade",
    "WireTrade",
    "finish",
    "validate",
]

MAX_TRADE_ID: Final = 128
#: Bounds that keep every bar exact within DynamoDB's 38 significant digits.
MAX_DECIMAL_PLACES: Final = 8
MAX_VALUE: Final = Decimal(10) ** 10
_PLACES: Final = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)
MAX_TIMESTAMP_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_SYMBOL_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9.-]{0,15}")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
_SIDES: Final = frozenset({"buy", "sell"})
_REQUIRED: Final = ("trade_id", "symbol", "price", "quantity", "timestamp")


class RecordError(ValueError):
    """A record is not a valid trade; ``reason`` says what was wrong and what is allowed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Trade(msgspec.Struct, frozen=True, gc=False):
    """A validated trade: symbol upper-case, exact decimals, timestamp in epoch milliseconds."""

    trade_id: str
    symbol: str
    price: Decimal
    quantity: Decimal
    timestamp: int
    side: str | None = None


class WireTrade(msgspec.Struct, gc=False):
    """The basic JSON types of a trade, as msgspec decodes them (values not yet checked)."""

    trade_id: str
    symbol: str
    price: Decimal
    quantity: Decimal
    timestamp: int | str
    side: str | None = None


def _show(value: Any) -> str:
    numeric = isinstance(value, Decimal | int | float) and not isinstance(value, bool)
    text = repr(str(value) if numeric else value)  # numbers quoted alike, whatever the path
    return text if len(text) <= 40 else text[:37] + "..."


def _positive(name: str, value: Decimal, raw: Any) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise RecordError(f"{name}: {_show(raw)} is not a finite number > 0")
    if value >= MAX_VALUE or value.quantize(_PLACES, ROUND_DOWN) != value:
        raise RecordError(
            f"{name}: {_show(raw)} is out of range; allowed: below 1e10 with at most "
            f"{MAX_DECIMAL_PLACES} decimal places"
        )
    return value


def _number(name: str, raw: Any) -> Decimal:
    if isinstance(raw, Decimal):
        return _positive(name, raw, raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise RecordError(
            f"{name}: {_show(raw)} is not a number; allowed: a JSON number or numeric string"
        )
    try:
        value = Decimal(repr(raw) if isinstance(raw, float) else raw)
    except InvalidOperation:
        raise RecordError(f"{name}: {_show(raw)} is not a finite number > 0") from None
    return _positive(name, value, raw)


def _iso_ms(raw: str) -> int:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise RecordError(
            f"timestamp: {_show(raw)} is neither epoch milliseconds nor ISO-8601"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RecordError(
            f"timestamp: {_show(raw)} has no zone; allowed: ISO-8601 with Z or an offset, "
            "or epoch milliseconds"
        )
    return (moment - _EPOCH) // _MS


def _timestamp(raw: Any) -> int:
    if isinstance(raw, str):
        text = raw.strip()
        value = int(text) if text.isascii() and text.isdigit() else _iso_ms(text)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, Decimal | float) and raw == raw and int(raw) == raw:
        value = int(raw)
    else:
        raise RecordError(
            f"timestamp: {_show(raw)} is not epoch milliseconds (an integer) or ISO-8601 "
            "with a zone"
        )
    if not 0 <= value <= MAX_TIMESTAMP_MS:
        raise RecordError(
            f"timestamp: {_show(raw)} is out of range; allowed: 1970-01-01 to 9999-12-31 UTC"
        )
    return value


def _text_fields(trade_id: Any, symbol: Any, side: Any) -> tuple[str, str, str | None]:
    if not isinstance(trade_id, str) or not trade_id or len(trade_id) > MAX_TRADE_ID:
        raise RecordError(
            f"trade_id: {_show(trade_id)} is not a non-empty string of at most 128 characters"
        )
    if not isinstance(symbol, str) or _SYMBOL_RE.fullmatch(symbol) is None:
        raise RecordError(
            f"symbol: {_show(symbol)} is invalid; allowed: 1-16 characters of A-Z a-z 0-9 . - "
            "starting with a letter"
        )
    if side is not None and side != "" and side not in _SIDES:
        raise RecordError(f"side: {_show(side)} is invalid; allowed: 'buy', 'sell' or absent")
    return trade_id, symbol.upper(), side or None


def finish(wire: WireTrade) -> Trade:
    """Check the values of a typed record (fast path); raise ``RecordError`` naming the field."""
    trade_id, symbol, side = _text_fields(wire.trade_id, wire.symbol, wire.side)
    ts = wire.timestamp
    if type(ts) is not int or not 0 <= ts <= MAX_TIMESTAMP_MS:
        ts = _timestamp(ts)
    return Trade(
        trade_id,
        symbol,
        _positive("price", wire.price, wire.price),
        _positive("quantity", wire.quantity, wire.quantity),
        ts,
        side,
    )


def validate(record: Any) -> Trade:
    """Validate any decoded record (dict); raise ``RecordError`` with a precise reason."""
    if not isinstance(record, Mapping):
        raise RecordError(
            f"record: {_show(record)} is not an object; allowed: a JSON object per trade"
        )
    missing = [name for name in _REQUIRED if record.get(name) is None]
    if missing:
        raise RecordError(
            f"missing field(s) {', '.join(missing)}; required: {', '.join(_REQUIRED)}"
        )
    trade_id, symbol, side = _text_fields(record["trade_id"], record["symbol"], record.get("side"))
    return Trade(
        trade_id,
        symbol,
        _number("price", record["price"]),
        _number("quantity", record["quantity"]),
        _timestamp(record["timestamp"]),
        side,
    )
