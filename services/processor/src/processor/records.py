"""Trade records: the validated shape, and the one validator every input path uses.

``validate`` takes any decoded record (a dict from a direct invocation, a CSV row, a JSON
value) and returns a ``Trade`` or raises ``RecordError`` naming the field, the value and what
is allowed. Its bulk form, for whole blocks, is msgspec decoding straight into ``Trade``
(enforcing the cheap constraints in C), then ``bars.block_bars``, which reads the rest off the
bars (with ``columns_valid`` where quantities are fractions). It only ever says "all fine" or
"look closer", and looking closer is ``validate``, so a record gets the same verdict whichever
way it arrives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Context, Decimal, InvalidOperation
from operator import attrgetter
from typing import Annotated, Any, Final, Literal

import msgspec

__all__ = [
    "MAX_DECIMAL_PLACES",
    "MAX_INTEGER_QUANTITY",
    "MAX_TIMESTAMP_MS",
    "MAX_TRADE_ID_CHARS",
    "MAX_VALUE",
    "REQUIRED_FIELDS",
    "SYMBOL_PATTERN",
    "RecordError",
    "Side",
    "Trade",
    "canonical_symbol",
    "columns_valid",
    "has_lone_surrogate",
    "show",
    "validate",
]

MAX_TRADE_ID_CHARS: Final = 128
#: Symbols: 1-16 characters, a letter first; stored upper-case.
SYMBOL_PATTERN: Final = "[A-Za-z][A-Za-z0-9.-]{0,15}"
#: Prices and quantities are below MAX_VALUE with at most MAX_DECIMAL_PLACES places, so one
#: trade's notional has at most 36 significant digits (DynamoDB keeps 38).
MAX_DECIMAL_PLACES: Final = 8
MAX_VALUE: Final = Decimal(10) ** 10
MAX_INTEGER_QUANTITY: Final = 10**10  # MAX_VALUE as an int, for msgspec's constraint
MAX_TIMESTAMP_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
REQUIRED_FIELDS: Final = ("trade_id", "symbol", "price", "quantity", "timestamp")

_SYMBOL_RE: Final = re.compile(SYMBOL_PATTERN)
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")
_PLACES: Final = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)
_MAX_TIMESTAMP_DIGITS: Final = len(str(MAX_TIMESTAMP_MS))
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
#: Rounding here only ever trims zeros (the result is compared with the value), so no trap.
_TRIM: Final = Context(prec=40, traps=[InvalidOperation])
_PRICE, _QUANTITY = attrgetter("price"), attrgetter("quantity")
_NUMBER_RULE: Final = "allowed: a JSON number or a numeric string of ASCII digits"

Side = Literal["buy", "sell"]
_SIDE_OF: Final[dict[Any, Side | None]] = {None: None, "": None, "buy": "buy", "sell": "sell"}


class RecordError(ValueError):
    """A record is not a valid trade; ``reason`` says what was wrong and what is allowed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Trade(msgspec.Struct, frozen=True, gc=False):
    """A validated trade: symbol upper-case, exact numbers, timestamp in epoch milliseconds.

    The constraints cost msgspec next to nothing while decoding; they are not checked when a
    ``Trade`` is built in Python, where ``validate`` has already checked. A quantity written
    as a JSON integer decodes as an ``int`` (exact too, a quarter of the decoding cost of a
    ``Decimal``, and its range checked in C); ``validate`` always gives a ``Decimal``, which
    compares equal.
    """

    trade_id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TRADE_ID_CHARS)]
    symbol: str
    price: Decimal
    quantity: Decimal | Annotated[int, msgspec.Meta(gt=0, lt=MAX_INTEGER_QUANTITY)]
    timestamp: Annotated[int, msgspec.Meta(ge=0, le=MAX_TIMESTAMP_MS)]
    side: Side | None = None


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (an invalid ``\\udXXX`` escape or a byte that
    was not UTF-8): such text cannot be written as UTF-8."""
    return not text.isascii() and _SURROGATE_RE.search(text) is not None


def json_kind(value: Any) -> str:
    """What ``value`` is in JSON's terms, for messages read by people who wrote JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, Mapping) else "an array"


def show(value: Any) -> str:
    """A short, printable excerpt of a value for a reason (numbers quoted alike on every path)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"<an integer of {value.bit_length()} bits>"
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        text = repr(str(value))
    elif isinstance(value, dict | list | tuple):
        return "an object" if isinstance(value, dict) else "a list"
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _checked(name: str, value: Decimal, raw: Any) -> Decimal:
    """``value`` if finite, > 0, below MAX_VALUE with at most 8 places (extra zeros trimmed)."""
    if not value.is_finite() or value <= 0:
        raise RecordError(f"{name}: {show(raw)} is not a finite number > 0")
    if value < MAX_VALUE:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -MAX_DECIMAL_PLACES:
            return value
        trimmed = value.quantize(_PLACES, ROUND_DOWN, _TRIM)  # "1.000000000" is fine
        if trimmed == value:
            return trimmed
    raise RecordError(
        f"{name}: {show(raw)} is out of range; allowed: below 1e10 with at most "
        f"{MAX_DECIMAL_PLACES} decimal places"
    )


def _number(name: str, raw: Any) -> Decimal:
    if isinstance(raw, Decimal):
        return _checked(name, raw, raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise RecordError(f"{name}: {show(raw)} is not a number; {_NUMBER_RULE}")
    if isinstance(raw, str) and (not raw.isascii() or "_" in raw):
        # Decimal() would read full-width digits and "1_000"; JSON numbers have neither.
        raise RecordError(f"{name}: {show(raw)} is not a number; {_NUMBER_RULE}")
    try:
        value = Decimal(repr(raw) if isinstance(raw, float) else raw)
    except InvalidOperation:
        raise RecordError(f"{name}: {show(raw)} is not a number; {_NUMBER_RULE}") from None
    return _checked(name, value, raw)


def _iso_ms(raw: Any, text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(
            f"timestamp: {show(raw)} is neither epoch milliseconds nor ISO-8601"
        ) from None
    if moment.utcoffset() is None:
        raise RecordError(
            f"timestamp: {show(raw)} has no zone; allowed: ISO-8601 with Z or an offset, "
            "or epoch milliseconds"
        )
    return (moment - _EPOCH) // _MS  # whole milliseconds; a sub-millisecond part is dropped


def _out_of_range(raw: Any) -> RecordError:
    return RecordError(
        f"timestamp: {show(raw)} is out of range; allowed: 1970-01-01 to 9999-12-31 UTC"
    )


def _timestamp(raw: Any) -> int:
    if isinstance(raw, str):
        text = raw.strip()
        if not text.isascii():
            raise RecordError(
                f"timestamp: {show(raw)} is not ASCII; allowed: epoch milliseconds in ASCII "
                "digits or ISO-8601 with a zone"
            )
        if not text.isdigit():
            value = _iso_ms(raw, text)
        elif len(text.lstrip("0")) > _MAX_TIMESTAMP_DIGITS:  # before int(): no digit limit hit
            raise _out_of_range(raw)
        else:
            value = int(text)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, Decimal | float) and not isinstance(raw, bool):
        number = Decimal(repr(raw)) if isinstance(raw, float) else raw
        if not number.is_finite() or number != number.to_integral_value(context=_TRIM):
            raise RecordError(
                f"timestamp: {show(raw)} is not epoch milliseconds (an integer) or ISO-8601 "
                "with a zone"
            )
        if not 0 <= number <= MAX_TIMESTAMP_MS:  # before int(): 1e999999999 stays a Decimal
            raise _out_of_range(raw)
        value = int(number)
    else:
        raise RecordError(
            f"timestamp: {show(raw)} is not epoch milliseconds (an integer) or ISO-8601 "
            "with a zone"
        )
    if not 0 <= value <= MAX_TIMESTAMP_MS:
        raise _out_of_range(raw)
    return value


def _trade_id(raw: Any) -> str:
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_TRADE_ID_CHARS:
        raise RecordError(
            f"trade_id: {show(raw)} is not a non-empty string of at most "
            f"{MAX_TRADE_ID_CHARS} characters"
        )
    if has_lone_surrogate(raw):
        raise RecordError(
            f"trade_id: {show(raw)} is not valid Unicode (a lone surrogate or a byte that is "
            "not UTF-8)"
        )
    return raw


def _symbol(raw: Any) -> str:
    if not isinstance(raw, str) or _SYMBOL_RE.fullmatch(raw) is None:
        raise RecordError(
            f"symbol: {show(raw)} is invalid; allowed: 1-16 characters of A-Z a-z 0-9 . - "
            "starting with a letter"
        )
    return raw.upper()


def _side(raw: Any) -> Side | None:
    try:
        return _SIDE_OF[raw]
    except (KeyError, TypeError):  # TypeError: unhashable, e.g. a list
        raise RecordError(
            f"side: {show(raw)} is invalid; allowed: 'buy', 'sell' or absent"
        ) from None


def validate(record: Any) -> Trade:
    """Validate any decoded record; raise ``RecordError`` with a precise reason."""
    if not isinstance(record, dict):  # what every decoder makes of a JSON object
        raise RecordError(
            f"record: {show(record)} is not an object; allowed: a JSON object per trade"
        )
    missing = [name for name in REQUIRED_FIELDS if record.get(name) is None]
    if missing:
        raise RecordError(
            f"missing field(s) {', '.join(missing)}; required: {', '.join(REQUIRED_FIELDS)}"
        )
    return Trade(
        _trade_id(record["trade_id"]),
        _symbol(record["symbol"]),
        _number("price", record["price"]),
        _number("quantity", record["quantity"]),
        _timestamp(record["timestamp"]),
        _side(record.get("side")),
    )


def canonical_symbol(symbol: str) -> bool:
    """Whether ``symbol`` is valid and upper-case already (what ``validate`` would keep)."""
    return _SYMBOL_RE.fullmatch(symbol) is not None and symbol.isupper()


def columns_valid(trades: Sequence[Trade]) -> bool:
    """Part of the bulk check (``bars.block_bars``) of trades as msgspec decoded them into
    ``Trade``, for a block with a quantity that is not an integer: every quantity is in
    range, every price has at most 8 places. Run under a context that traps
    ``InvalidOperation`` and ``Inexact``: a NaN or a sum that would round raises, meaning
    "look closer".

    Range checks come first (a comparison is cheap even for a million-digit value), then
    one exact sum, whose exponent is the smallest of its terms (``1.000000000`` is refused
    here and trimmed by ``validate``, as it should be).
    """
    if not trades:
        return True
    quantities = list(map(_QUANTITY, trades))
    if not (min(quantities) > 0 and max(quantities) < MAX_VALUE):
        return False
    exponent = sum(map(_PRICE, trades), Decimal(0)).as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -MAX_DECIMAL_PLACES
