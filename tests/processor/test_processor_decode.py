"""Every decoding path of events and S3 objects, and every whole-object failure."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pytest

from benchmarks.market_data import MarketData, write_trades
from processor.decode import (
    MAX_LINE_BYTES,
    Chunk,
    DirectBatch,
    decode_object,
    decode_trades,
    parse_event,
)
from processor.errors import MalformedObjectError, UnsupportedEventError

TRADES = list(MarketData(30, symbols=3, seed=1))


def flat(chunks) -> tuple[list[tuple[int, str]], list[tuple[int | None, str | None, str]]]:
    chunks = list(chunks)
    assert all(isinstance(c, Chunk) for c in chunks)
    return (
        [(i, t.trade_id) for c in chunks for i, t in zip(c.indexes, c.trades, strict=True)],
        [(r.index, r.trade_id, r.reason) for c in chunks for r in c.rejections],
    )


def encode(fmt: str, records, tmp_path, compress=False):
    path = tmp_path / "x"
    write_trades(path, records, fmt, compress=compress)  # type: ignore[arg-type]
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["jsonl", "json", "trades", "csv"])
@pytest.mark.parametrize("compress", [False, True])
def test_every_format_plain_and_gzip(fmt, compress, tmp_path):
    data = encode(fmt, TRADES, tmp_path, compress)
    key = f"incoming/file.{ {'trades': 'json', 'json': 'json'}.get(fmt, fmt)}" + (".gz" * compress)
    accepted, rejected = flat(decode_object(io.BytesIO(data), key))
    assert rejected == []
    assert accepted == [(i, t["trade_id"]) for i, t in enumerate(TRADES)]


def test_format_is_sniffed_without_extension(tmp_path):
    for fmt in ("jsonl", "json", "trades", "csv"):
        accepted, _ = flat(decode_object(io.BytesIO(encode(fmt, TRADES, tmp_path)), "incoming/x"))
        assert len(accepted) == len(TRADES), fmt


def test_wrapped_document_with_other_keys_first():
    doc = json.dumps({"batch_id": "b", "note": {"a": [1]}, "trades": TRADES[:3]}, indent=2)
    accepted, rejected = flat(decode_object(io.BytesIO(doc.encode()), "incoming/x.json"))
    assert [i for i, _ in accepted] == [0, 1, 2] and not rejected


def test_jsonl_bad_lines_keep_their_index():
    lines = [
        json.dumps(TRADES[0]),
        "",
        "{not json",
        json.dumps(TRADES[1] | {"price": "NaN"}),
        json.dumps(TRADES[2]) + "\r",
    ]
    accepted, rejected = flat(decode_object(io.BytesIO("\n".join(lines).encode()), "k.jsonl"))
    assert [i for i, _ in accepted] == [0, 4]
    assert rejected[0][:2] == (2, None) and "line is not valid JSON" in rejected[0][2]
    assert rejected[1] == (3, TRADES[1]["trade_id"], "price: 'NaN' is not a finite number > 0")


def test_overlong_line_is_rejected_and_the_rest_read():
    data = b'{"x": "' + b"a" * (MAX_LINE_BYTES * 2) + b'"}\n' + json.dumps(TRADES[0]).encode()
    accepted, rejected = flat(decode_object(io.BytesIO(data), "k.jsonl"))
    assert accepted == [(1, TRADES[0]["trade_id"])]
    assert rejected[0][0] == 0 and "longer than" in rejected[0][2]


def test_truncated_gzip_is_a_whole_object_failure(tmp_path):
    data = encode("jsonl", list(MarketData(2000, seed=2)), tmp_path, compress=True)
    with pytest.raises(MalformedObjectError, match="gzip stream is broken"):
        list(decode_object(io.BytesIO(data[: len(data) // 2]), "k.jsonl.gz"))


def test_corrupt_gzip_is_a_whole_object_failure():
    data = gzip.compress(b'{"a": 1}\n' * 100)
    broken = data[:20] + bytes(b ^ 0xFF for b in data[20:40]) + data[40:]
    with pytest.raises(MalformedObjectError, match="gzip"):
        list(decode_object(io.BytesIO(broken), "k.jsonl.gz"))


def test_malformed_json_array_names_the_element():
    data = ("[" + json.dumps(TRADES[0]) + "," + json.dumps(TRADES[1])[:-5]).encode()
    with pytest.raises(MalformedObjectError, match="malformed JSON") as info:
        list(decode_object(io.BytesIO(data), "k.json"))
    assert info.value.index == 1


def test_array_with_trailing_garbage():
    data = (json.dumps(TRADES[:2]) + " [").encode()
    with pytest.raises(MalformedObjectError, match="unexpected data after"):
        list(decode_object(io.BytesIO(data), "k.json"))


def test_wrapped_document_without_trades():
    with pytest.raises(MalformedObjectError, match="no 'trades' array"):
        list(decode_object(io.BytesIO(b'{\n"trade": []\n}'), "k.json"))


def test_csv_missing_columns_names_them():
    data = b"trade_id,symbol,price\nt1,AAPL,1\n"
    with pytest.raises(MalformedObjectError, match="lacks column.s. quantity, timestamp"):
        list(decode_object(io.BytesIO(data), "k.csv"))


def test_csv_rows_with_wrong_width_and_bad_values():
    data = (
        b"trade_id,symbol,price,quantity,timestamp,side\n"
        b"t1,AAPL,1.5,2,1795185000000,buy\n"
        b"t2,AAPL,1.5\n"
        b"t3,AAPL,NaN,2,2026-11-20T14:30:00Z,\n"
    )
    accepted, rejected = flat(decode_object(io.BytesIO(data), "k.csv"))
    assert accepted == [(0, "t1")]
    assert rejected == [
        (1, None, "CSV row has 3 fields; the header has 6"),
        (2, "t3", "price: 'NaN' is not a finite number > 0"),
    ]


def test_not_utf8_text():
    with pytest.raises(MalformedObjectError, match="not UTF-8"):
        list(decode_object(io.BytesIO(b"trade_id,symbol\n\xff\xfe\n"), "k.csv"))


def test_junk_is_an_unrecognised_format():
    junk = bytes(range(32, 127)) * 1000
    with pytest.raises(MalformedObjectError, match="unrecognised format"):
        list(decode_object(io.BytesIO(junk), "incoming/junk.bin"))


def test_empty_object_has_no_records():
    assert flat(decode_object(io.BytesIO(b""), "k.jsonl")) == ([], [])


def test_direct_records_in_chunks_keep_indexes():
    records = [*TRADES[:2], {"trade_id": "z"}, TRADES[2]]
    accepted, rejected = flat(decode_trades(records))
    assert [i for i, _ in accepted] == [0, 1, 3]
    assert rejected[0][:2] == (2, "z") and rejected[0][2].startswith("missing field(s)")


def test_parse_direct_event_derives_a_stable_batch_id():
    first = parse_event({"trades": TRADES[:2]})
    again = parse_event({"trades": [dict(t) for t in TRADES[:2]]})
    assert isinstance(first, DirectBatch) and isinstance(again, DirectBatch)
    assert first.batch_id == again.batch_id and first.batch_id.startswith("direct-")
    assert parse_event({"trades": [], "batch_id": "b-1"}).batch_id == "b-1"  # type: ignore[union-attr]


def test_parse_single_trade_form():
    parsed = parse_event({"trade_data": TRADES[0]})
    assert isinstance(parsed, DirectBatch) and list(parsed.records) == [TRADES[0]]


@pytest.mark.parametrize(
    ("event", "error", "match"),
    [
        ({"trades": "nope"}, MalformedObjectError, "'trades' is str"),
        ({"trades": [], "batch_id": "a/b"}, MalformedObjectError, "batch_id: 'a/b' is invalid"),
        ({"hello": 1}, UnsupportedEventError, "neither 'trades'"),
        ([1], UnsupportedEventError, "event is list"),
        ({"Records": [{"eventName": "ObjectRemoved:Delete"}]}, UnsupportedEventError, "no S3"),
    ],
)
def test_unusable_events(event, error, match):
    with pytest.raises(error, match=match):
        parse_event(event)


def test_s3_keys_are_url_decoded_and_versions_identify_batches():
    def event(key: str, **obj: str) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": "b"}, "object": {"key": key, **obj}},
                }
            ]
        }

    (ref,) = parse_event(event("incoming/a+b%2Bc%3D.jsonl", eTag="e"))  # type: ignore[misc]
    assert ref.key == "incoming/a b+c=.jsonl"
    (v1,) = parse_event(event("k", eTag="e", versionId="v1"))  # type: ignore[misc]
    (v2,) = parse_event(event("k", eTag="e", versionId="v2"))  # type: ignore[misc]
    (e2,) = parse_event(event("k", eTag="e"))  # type: ignore[misc]
    assert len({v1.batch_id, v2.batch_id, e2.batch_id}) == 3
    with pytest.raises(UnsupportedEventError, match="no versionId or eTag"):
        parse_event(event("k"))
