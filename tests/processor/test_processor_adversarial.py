"""Attack-style properties: valid trades mixed with hostile records, through every decoding path
(JSON Lines, JSON array, {"trades": [...]}, CSV — each plain or gzip, with or without a byte
order mark — and direct calls), and the same bytes mutated at random.

Whatever comes in, the handler returns (it never raises for input), every record seen is
either accepted or rejected, every valid trade is counted once, and every archived line is
strict JSON.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from typing import Any

import pytest
from helpers import (  # type: ignore[import-not-found]
    archive_lines,
    create_resources,
    expected_bars,
    stored_bars,
    strict_json,
    upload,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.batch import consume
from processor.formats import open_content
from processor.handler import Runtime, handle
from processor.settings import Limits, Settings

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


def _hostile_value() -> st.SearchStrategy[Any]:
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


def _text(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    return (item if isinstance(item, str) else json.dumps(item)).encode("utf-8", "surrogatepass")


def encode(fmt: str, items: list[Any]) -> bytes:
    if fmt == "jsonl":
        return b"".join(_text(i) + b"\n" for i in items)
    if fmt in ("json", "trades"):
        body = b"[" + b",\n".join(map(_text, items)) + b"]"
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
            writer.writerow([_text(item).decode("utf-8", "surrogateescape"), "A", "1", "1"])
    return out.getvalue().encode("utf-8", "surrogateescape")


def csv_valid(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a CSV row of a trade says: every value as its text."""
    return [t | {k: str(t[k]) for k in ("price", "quantity")} for t in valid]


FORMATS = st.sampled_from(["jsonl", "json", "trades", "csv"])


@pytest.mark.unit
@given(mixtures(), FORMATS, st.booleans(), st.booleans())
@settings(max_examples=120, deadline=None)
def test_decoding_and_aggregating_any_mixture(mixture, fmt, bom, compressed):
    valid, items = mixture
    data = (codecs.BOM_UTF8 if bom else b"") + encode(fmt, items)
    data = gzip.compress(data, mtime=0) if compressed else data
    accepted: list[bytes] = []
    content, chunks = open_content(io.BytesIO(data), f"incoming/x.{fmt}", Limits())
    result = consume(chunks, Limits(), accepted.append, lambda _: None)
    assert result.accepted == len(valid)
    assert result.accepted + result.rejected == len(items)
    lines = b"".join(accepted).splitlines()
    assert [strict_json(line)["trade_id"] for line in lines] == [t["trade_id"] for t in valid]


@pytest.mark.integration
@given(
    mixtures(),
    st.sampled_from(["jsonl", "json", "trades", "csv", "direct"]),
    st.booleans(),
    st.data(),
)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_handler_takes_any_mixture_on_every_path(clients, mixture, path, bom, data):
    valid, items = mixture
    from moto import mock_aws

    with mock_aws():
        ddb, s3 = clients["dynamodb"], clients["s3"]
        create_resources(ddb, s3)
        runtime = Runtime.create(Settings.from_env(), ddb=ddb, s3=s3, workers=4)
        if path == "direct":
            records = [
                json.loads(_text(i).decode("utf-8", "replace"))
                if not isinstance(i, dict) and _loads(i)
                else i
                for i in items
            ]
            records += data.draw(st.lists(_hostile_value(), max_size=3))
            result = handle({"trades": records}, runtime.service)
            seen = len(records)
        else:
            body = (codecs.BOM_UTF8 if bom else b"") + encode(path, items)
            if data.draw(st.booleans()):
                body = gzip.compress(body, mtime=0)
            (result,) = handle(upload(s3, f"incoming/x.{path}", body), runtime.service)["batches"]
            seen = len(items)
        assert result["status"] == "applied"
        assert (
            result["accepted"] == len(valid)
            and result["accepted"] + result["rejected_total"] == seen
        )
        expected = csv_valid(valid) if path == "csv" else valid
        assert stored_bars(ddb) == expected_bars(expected)
        for lines in archive_lines(s3).values():
            for line in lines:
                strict_json(line)
        assert len(json.dumps(result)) < 6 * 2**20


def _loads(item: Any) -> bool:
    """Whether Python's json (as Lambda's runtime) can parse a hostile text at all."""
    try:
        json.loads(_text(item).decode("utf-8", "strict"))
    except (ValueError, RecursionError):
        return False
    return True


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, position, value in edits:
        if not out:
            break
        at = position % len(out)
        if kind == 0:
            out[at] = value
        elif kind == 1:
            out.insert(at, value)
        else:
            del out[at]
    return bytes(out)


@pytest.mark.unit
@given(
    mixtures(),
    FORMATS,
    st.booleans(),
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 255)),
        min_size=1,
        max_size=6,
    ),
)
@settings(max_examples=150, deadline=None)
def test_mutated_bytes_give_a_verdict_never_an_exception(mixture, fmt, compressed, edits):
    _, items = mixture
    data = encode(fmt, items)
    data = _mutate(gzip.compress(data, mtime=0) if compressed else data, edits)
    accepted: list[bytes] = []
    rejected: list[bytes] = []
    try:
        content, chunks = open_content(io.BytesIO(data), f"incoming/x.{fmt}", Limits())
        result = consume(chunks, Limits(), accepted.append, rejected.append)
    except Exception as err:  # only a whole-object verdict may end decoding
        from processor.errors import MalformedObjectError

        assert isinstance(err, MalformedObjectError), repr(err)
        return
    for line in b"".join(accepted).splitlines() + b"".join(rejected).splitlines():
        strict_json(line)
    if fmt == "jsonl" and not compressed:
        records = [line for line in data.removeprefix(codecs.BOM_UTF8).split(b"\n") if line.strip()]
        assert result.accepted + result.rejected == len(records)
