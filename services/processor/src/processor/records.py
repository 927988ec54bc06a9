"""Trade records (SPEC §5): the validated shape and the one validator every input path uses.

Two entry points share the same checks, so a record gets the same verdict whichever way it
arrives: ``finish`` completes a ``WireTrade`` that msgspec already decoded with the right
basic types (the fast path for JSON), ``validate`` takes any decoded object (a dict from a
direct invocation, a CSV row, a JSON line msgspec could not type) and names what is wrong.

``Trade`` doubles as the fast path's decode target: msgspec enforces its cheap constraints
(id length, timestamp range, side) in C while decoding, and ``all_valid`` checks what is left
(symbols, numbers) over whole columns at once; either only ever says "all fine" or "look
closer", and looking closer is ``finish``/``validate``, which name the bad record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Context, Decimal, Inexact, InvalidOperation, localcontext
from functools import reduce
from operator import add, attrgetter
from typing import Annotated, Any, Final, Literal

import msgspec

__all__ = [
    "MAX_DECIMAL_PLACES",
    "MAX_VALUE",
    "RecordError",
    "Side",
    "Trade",
    "WireTrade",
    "all_valid",
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
_REQUIRED: Final = ("trade_id", "symbol", "price", "quantity", "timestamp")
#: In ``all_valid``: a comparison with NaN raises (instead of quietly answering False), and a
#: sum that would need rounding raises (so its exponent is exactly the smallest one).
_CHECKS: Final = Context(prec=38, traps=[InvalidOperation, Inexact])
_SYMBOL, _PRICE, _QUANTITY = attrgetter("symbol"), attrgetter("price"), attrgetter("quantity")

Side = Literal["buy", "sell"]
_SIDE_OF: Final[dict[Any, Side | None]] = {None: None, "": None, "buy": "buy", "sell": "sell"}


class RecordError(ValueError):
    """A record is not a valid trade; ``reason`` says what was wrong and what is allowed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Trade(msgspec.Struct, frozen=True, gc=False):
    """A validated trade: symbol upper-case, exact decimals, timestamp in epoch milliseconds.

    The constraints cost msgspec next to nothing while decoding (they are not checked when a
    ``Trade`` is built in Python, where ``finish``/``validate`` have already checked).
    """

    trade_id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TRADE_ID)]
    symbol: str
    price: Decimal
    quantity: Decimal
    timestamp: Annotated[int, msgspec.Meta(ge=0, le=MAX_TIMESTAMP_MS)]
    side: Side | None = None


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


def _text_fields(trade_id: Any, symbol: Any, side: Any) -> tuple[str, str, Side | None]:
    if not isinstance(trade_id, str) or not trade_id or len(trade_id) > MAX_TRADE_ID:
        raise RecordError(
            f"trade_id: {_show(trade_id)} is not a non-empty string of at most 128 characters"
        )
    if not isinstance(symbol, str) or _SYMBOL_RE.fullmatch(symbol) is None:
        raise RecordError(
            f"symbol: {_show(symbol)} is invalid; allowed: 1-16 characters of A-Z a-z 0-9 . - "
            "starting with a letter"
        )
    try:
        canonical = _SIDE_OF[side]
    except (KeyError, TypeError):  # TypeError: unhashable, e.g. a list
        raise RecordError(
            f"side: {_show(side)} is invalid; allowed: 'buy', 'sell' or absent"
        ) from None
    return trade_id, symbol.upper(), canonical


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


def _exact_positive(values: list[Decimal]) -> bool:
    """``_positive``'s test for a whole column (run under ``_CHECKS``; NaN raises).

    An exact sum of Decimals has the smallest exponent of its terms, so one ``sum`` tells
    whether every value has at most 8 decimal places (``1.000000000`` is refused here and
    accepted by the precise path, as it should be).
    """
    if min(values) <= 0 or max(values) >= MAX_VALUE:
        return False
    exponent = reduce(add, values).as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -MAX_DECIMAL_PLACES


def _canonical_symbol(symbol: str) -> bool:
    return _SYMBOL_RE.fullmatch(symbol) is not None and symbol == symbol.upper()


def all_valid(trades: Sequence[Trade]) -> bool:
    """Whether every trade, as msgspec decoded it into ``Trade``, is what ``finish`` returns.

    The per-record checks of ``finish`` cost ~5 us a trade in Python; msgspec has already
    enforced ``Trade``'s constraints, and the rest runs over whole columns in C (the few
    distinct symbols, min/max/sum of each number column). It is deliberately stricter than
    ``finish`` (a lower-case symbol needs normalising): ``False`` only means "take the
    precise per-record path", which then gives each record its verdict and reason.
    """
    if not trades:
        return True
    if not all(map(_canonical_symbol, set(map(_SYMBOL, trades)))):
        return False
    with localcontext(_CHECKS):
        try:
            return _exact_positive(list(map(_PRICE, trades))) and _exact_positive(
                list(map(_QUANTITY, trades))
            )
        except ArithmeticError:  # NaN, or a sum beyond 38 digits
            return False
