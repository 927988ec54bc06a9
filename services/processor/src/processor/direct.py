"""Direct invocations: the batch of a call (its id and fingerprint, derived from its records
when not given), and decoding records that are already Python values (a call's trades, a
JSON array's elements). Loaded on the first direct call (or array document).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any, Final

import msgspec

from processor.bars import block_bars
from processor.decode import CHUNK_RECORDS, ENCODER, Chunk, record_into
from processor.events import BATCH_ID_RE, FORMS, DirectBatch, digest, event_forms
from processor.records import Trade, json_kind, show

__all__ = ["decode_records", "direct_batch"]

_KNOWN_FIELDS: Final = frozenset(Trade.__struct_fields__)
_PRICE, _QUANTITY = itemgetter("price"), itemgetter("quantity")
#: What a JSON number decodes to (a Decimal: a JSON document's fractions).
_JSON_NUMBERS: Final = frozenset({int, float, Decimal})
_SORTED: Final = msgspec.msgpack.Encoder(order="sorted")
_ALLOWED_FORMS: Final = (
    "exactly one of 'trades' (an array of trades), 'trade_data' (one trade) or S3 'Records', "
    "spelled so (a null one counts as absent)"
)


def _canonical(value: Any) -> bytes:
    """The same bytes for the same records, whatever their key order; never raises.

    MessagePack with sorted keys in the common case (a tenth of the cost of sorted JSON;
    types stay apart: ``1``, ``1.0``, ``True`` and ``"1"`` differ, NaN is kept). What it
    cannot encode (integers beyond 64 bits, keys of mixed types, a lone surrogate, nesting
    beyond its stack) falls back to an iterative tagged form, which starts with a byte no
    MessagePack array or map starts with.
    """
    try:
        return _SORTED.encode(value)
    except (TypeError, ValueError, OverflowError, RecursionError, msgspec.EncodeError):
        return _canonical_slowly(value)


def _tagged(value: Any) -> str:
    return f"{type(value).__name__}:{value!r}"


class _Key:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_END_LIST, _END_MAP = object(), object()


def _canonical_slowly(value: Any) -> bytes:
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if item is _END_LIST or item is _END_MAP:
            out.append("]" if item is _END_LIST else "}")
        elif isinstance(item, _Key):
            out.append(f"k{item.text!r}:")
        elif isinstance(item, Mapping):
            out.append("{")
            stack.append(_END_MAP)
            for key in sorted(item, key=repr, reverse=True):
                stack += (item[key], _Key(repr(key)))
        elif isinstance(item, list | tuple):
            out.append("[")
            stack.append(_END_LIST)
            stack.extend(reversed(item))
        elif isinstance(item, int) and not isinstance(item, bool):
            out.append(f"i{item:x},")  # hexadecimal: no digit limit
        else:
            out.append(f"v{_tagged(item)!r},")
    return "".join(out).encode("utf-8", "backslashreplace")


def direct_batch(event: Mapping[str, Any], forms: Sequence[Any] | None = None) -> DirectBatch:
    """The batch of a direct invocation (its records, id and fingerprint), or why it is none.

    ``forms``: the event's keys that name a form (``events.event_forms``, at least one)."""
    forms = event_forms(event) if forms is None else forms
    form = forms[0]
    records = event[form] if form == "trades" else [event[form]]
    fingerprint = digest(_canonical(records))
    given = event.get("batch_id")
    problem = None
    if len(forms) > 1:  # taking one would drop the other without a word
        problem = f"event: has {' and '.join(map(show, forms))}; allowed: {_ALLOWED_FORMS}"
    elif form not in FORMS:  # ignoring it would drop its trades without a word
        problem = f"event: has {show(form)}, which is not a key the function reads; allowed: " + (
            _ALLOWED_FORMS
        )
    elif form == "trades" and not isinstance(records, list):
        problem = f"event: 'trades' is {json_kind(records)}; allowed: an array of trade objects"
    elif given is not None and (not isinstance(given, str) or not BATCH_ID_RE.fullmatch(given)):
        problem = (
            f"batch_id: {show(given)} is invalid; allowed: 1-128 characters of A-Z a-z 0-9 "
            ". _ : -"
        )
    if problem is not None:
        batch_id = f"invalid-{digest(_canonical(dict(event)))[:32]}"
        return DirectBatch(batch_id, batch_id, [], problem, dict(event))
    batch_id = given if isinstance(given, str) else f"direct-{fingerprint[:32]}"
    return DirectBatch(batch_id, fingerprint, records)


def _clean_records(part: Sequence[Any], first: int) -> Chunk | None:
    """All of ``part`` as one chunk, if every record is a valid, canonical, flat trade object
    with numbers as JSON numbers (the common case, in a few C calls)."""
    try:
        if set(map(type, part)) != {dict} or not all(map(_KNOWN_FIELDS.issuperset, part)):
            return None
        if not set(map(type, map(_PRICE, part))) | set(map(type, map(_QUANTITY, part))) <= (
            _JSON_NUMBERS
        ):  # numeric strings need the precise path's checks (ASCII digits, no "_")
            return None
        trades = msgspec.convert(part, list[Trade])
        bars = block_bars(trades)
        if bars is None:
            return None
        return Chunk(trades, ENCODER.encode_lines(part), range(first, first + len(part)), [], bars)
    except (KeyError, msgspec.ValidationError, UnicodeEncodeError):
        return None


def decode_records(records: Sequence[Any], first: int, max_depth: int) -> Iterator[Chunk]:
    """Chunks of records that are already Python values (direct invocation, array elements).

    ``first`` is the index of ``records[0]``.
    """
    for lo in range(0, len(records), CHUNK_RECORDS):
        part = records[lo : lo + CHUNK_RECORDS]
        start = first + lo
        clean = _clean_records(part, start)
        if clean is not None:
            yield clean
            continue
        chunk = Chunk.empty()
        for offset, record in enumerate(part):
            record_into(start + offset, record, chunk, max_depth)
        yield chunk
