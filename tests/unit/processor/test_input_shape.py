"""Inputs whose shape is wrong as a whole get one reason for the whole object, never a silent
choice: another encoding, a container format, a key or a column given twice."""

from __future__ import annotations

import gzip
import io
import json
import zipfile

import pytest

from processor.errors import MalformedObjectError
from processor.formats import open_content
from processor.settings import Limits

TRADE = {"trade_id": "t1", "symbol": "AAPL", "price": "10", "quantity": "1", "timestamp": 60_000}
LINES = (json.dumps(TRADE) + "\n").encode()


def _decode(data: bytes, key: str) -> list[object]:
    _, chunks = open_content(io.BytesIO(data), key, Limits())
    return list(chunks)


def _zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:  # a fixed date: the same bytes in every process
        archive.writestr(zipfile.ZipInfo("trades.jsonl", date_time=(2026, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (LINES.decode().encode("utf-16"), "UTF-16 text"),  # with its byte-order mark
        (LINES.decode().encode("utf-16-le"), "NUL bytes"),
        (LINES.decode().encode("utf-32"), "UTF-32 text"),
        (gzip.compress(gzip.compress(LINES, mtime=0), mtime=0), "gzip-compressed twice"),
        (_zip(LINES), "a zip archive"),
    ],
    ids=["utf-16", "utf-16-le", "utf-32", "gzip-twice", "zip"],  # pytest-xdist compares ids
)
@pytest.mark.parametrize("key", ["incoming/t.jsonl", "incoming/t.csv", "incoming/t"])
def test_content_that_is_not_utf8_text_is_refused_whole_with_what_it_is(data, named, key):
    with pytest.raises(MalformedObjectError) as caught:
        _decode(data, key)
    assert named in str(caught.value)
    assert "not UTF-8 text" in str(caught.value)


@pytest.mark.parametrize(
    "document",
    [
        {"trades": []},  # the second copy below holds the trade
        {"trades": 5},
        {"trades": [TRADE]},
    ],
)
def test_a_trades_key_given_twice_refuses_the_document(document):
    text = json.dumps(document)[:-1] + ', "trades": [' + json.dumps(TRADE) + "]}"
    with pytest.raises(MalformedObjectError, match="more than one 'trades' key"):
        _decode(text.encode(), "incoming/t.json")


def test_one_trades_key_among_others_is_read():
    text = json.dumps({"source": "x", "trades": [TRADE], "note": {"trades": []}})
    [chunk] = _decode(text.encode(), "incoming/t.json")
    assert [t.trade_id for t in chunk.trades] == ["t1"]  # type: ignore[attr-defined]


def test_a_csv_column_named_twice_refuses_the_file():
    data = b"trade_id,symbol,price,quantity,timestamp,Price\nt1,AAPL,10,1,60000,11\n"
    with pytest.raises(MalformedObjectError, match="repeats column\\(s\\) price"):
        _decode(data, "incoming/t.csv")


def test_a_short_csv_row_is_rejected_with_its_trade_id():
    data = b"trade_id,symbol,price,quantity,timestamp,side\nt1,AAPL,10,1,60000\n"
    [chunk] = _decode(data, "incoming/t.csv")
    [rejection] = chunk.rejections  # type: ignore[attr-defined]
    assert (rejection.index, rejection.trade_id) == (0, "t1")
    assert rejection.reason == "CSV row has 5 fields; the header has 6"
