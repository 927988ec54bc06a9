"""Valid trades mixed with hostile records, and their encodings in every input format.

Shared by the decoding properties (unit) and the handler's (integration): an item is a valid
trade (dict), a hostile JSON text (str) or hostile bytes; ``encode`` writes items as JSON
Lines, a JSON array, ``{"trades": [...]}`` or CSV.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import strategies as st

_TS = 1_795_185_000_000


@st.composite
def valid_trades(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 25))
    ids = draw(
        st.lists(
            st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    trades = []
    for trade_id in ids:
        price = draw(
            st.decimals(
                min_value="0.00000001",
                max_value="99999.99",
                places=draw(st.integers(0, 8)),
                allow_nan=False,
            )
        )
        trades.append(
            {
                "trade_id": trade_id,
                "symbol": draw(st.sampled_from(["AAPL", "msft", "BRK.B", "X"])),
                "price": draw(
                    st.sampled_from(
                        [str(price), float(price) if len(str(price)) < 12 else str(price)]
                    )
                ),
                "quantity": draw(st.sampled_from([1, 5, "0.5", 100.25])),
                "timestamp": draw(st.integers(_TS, _TS + 180_000)),
                "side": draw(st.sampled_from(["buy", "sell", None])),
            }
        )
    return trades


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


#: JSON texts that are one value each (so an array of them keeps its element count) and are
#: never a valid trade.
HOSTILE_TEXTS = [
    '{"trade_id": "h", "symbol": "A", "price": 1, "quantity": 1, "timestamp": ' + "9" * 5000 + "}",
    '{"trade_id": "h", "symbol": "A", "price": ' + "9" * 5000 + ', "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5, "x": '
    + _deep(1500)
    + "}",
    '{"trade_id": "h", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5, "x": '
    + _deep(40)
    + "}",
    '{"trade_id": "h", "symbol": "A", "price": 1, "quantity": 1, "timestamp": "Infinity"}',
    '{"trade_id": "h", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 1e400}',
    '{"trade_id": "h", "symbol": "A", "price": NaN, "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": -Infinity, "quantity": 1, "timestamp": 5}',
    '{"trade_id": "\\udc80", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": "\\uff11", "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": "\uff11", "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": "1_0", "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5.5}',
    '{"trade_id": 5, "symbol": ["A"], "price": true, "quantity": null, "timestamp": {}}',
    '{"trade_id": "h", "symbol": "A", "price": 1e10, "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": 0.000000001, "quantity": 1, "timestamp": 5}',
    '{"trade_id": "h", "symbol": "A", "price": 1, "quantity": 1, "timestamp": -1}',
    '{"a": tru}',
    '{"price": 1,, "x": 2}',
    "[1, 2]",
    '"a string"',
    "null",
    "{}",
    '{"trade_id": "' + "x" * 129 + '", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5}',
]
HOSTILE_BYTES = [
    b'{"trade_id": "\xff\xfe", "symbol": "A"}',
    b'{"trade_id": "h\xed\xa0\x80", "x": 1}',
]


def hostile_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.just("\udc80")
    )
    return st.recursive(
        scalars,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    )


@st.composite
def mixtures(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Any]]:
    """Valid trades with hostile records mixed in: ``(valid, items)``, where an item is a
    valid trade (dict), a hostile JSON text (str) or hostile bytes."""
    valid = draw(valid_trades())
    hostile = draw(
        st.lists(st.sampled_from(HOSTILE_TEXTS) | st.sampled_from(HOSTILE_BYTES), max_size=8)
    )
    items: list[Any] = list(valid)
    for item in hostile:
        items.insert(draw(st.integers(0, len(items))), item)
    return valid, items


def text_of(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    return (item if isinstance(item, str) else json.dumps(item)).encode("utf-8", "surrogatepass")


def encode(fmt: str, items: list[Any]) -> bytes:
    if fmt == "jsonl":
        return b"".join(text_of(i) + b"\n" for i in items)
    if fmt in ("json", "trades"):
        body = b"[" + b",\n".join(map(text_of, items)) + b"]"
        return body if fmt == "json" else b'{"note": 1, "trades": ' + body + b"}"
    out = io.StringIO()
    writer = csv.writer(out)  # quotes any field holding a line break
    writer.writerow(["trade_id", "symbol", "price", "quantity", "timestamp", "side"])
    for item in items:
        if isinstance(item, dict):
            writer.writerow(
                [
                    item[k] if item[k] is not None else ""
                    for k in ("trade_id", "symbol", "price", "quantity", "timestamp", "side")
                ]
            )
        else:  # a hostile record as a row: its text in the first column, or too few fields
            writer.writerow([text_of(item).decode("utf-8", "surrogateescape"), "A", "1", "1"])
    return out.getvalue().encode("utf-8", "surrogateescape")


def csv_valid(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a CSV row of a trade says: every value as its text."""
    return [t | {k: str(t[k]) for k in ("price", "quantity")} for t in valid]


FORMATS = st.sampled_from(["jsonl", "json", "trades", "csv"])
