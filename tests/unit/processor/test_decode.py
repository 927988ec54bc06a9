"""Every decoding path of S3 objects and direct records, and every whole-object failure."""

from __future__ import annotations

import codecs
import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.market_data import MarketData, write_trades
from processor import jsonl
from processor.decode import Chunk, Rejection, record_into, usable_trade_id
from processor.direct import decode_records
from processor.errors import MalformedObjectError, ObjectTooLargeError
from processor.formats import FORMATS, detect, open_content
from processor.settings import Limits

TRADES = list(MarketData(30, symbols=3, seed=1))
LIMITS = Limits()
Flat = tuple[list[tuple[int, str]], list[tuple[int | None, str | None, str]]]


def chunks_of(data: bytes, key: str = "k.jsonl", limits: Limits = LIMITS) -> list[Chunk]:
    _, chunks = open_content(io.BytesIO(data), key, limits)
    return list(chunks)


def flat(chunks: list[Chunk]) -> Flat:
    assert all(isinstance(c, Chunk) for c in chunks)
    return (
        [(i, t.trade_id) for c in chunks for i, t in zip(c.indexes, c.trades, strict=True)],
        [(r.index, r.trade_id, r.reason) for c in chunks for r in c.rejections],
    )


def decoded(data: bytes, key: str = "k.jsonl", limits: Limits = LIMITS) -> Flat:
    return flat(chunks_of(data, key, limits))


def lines_of(chunks: list[Chunk]) -> list[bytes]:
    return [line for c in chunks for line in c.line_list()]


def encode(fmt: str, records: Any, tmp_path: Path, compress: bool = False) -> bytes:
    path = tmp_path / "x"
    write_trades(path, records, fmt, compress=compress)  # type: ignore[arg-type]
    return path.read_bytes()


def jsonl_of(*records: Any) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


@pytest.mark.parametrize("fmt", ["jsonl", "json", "trades", "csv"])
@pytest.mark.parametrize("compress", [False, True])
def test_every_format_plain_and_gzip(fmt, compress, tmp_path):
    data = encode(fmt, TRADES, tmp_path, compress)
    key = f"incoming/file.{ {'trades': 'json', 'json': 'json'}.get(fmt, fmt)}" + (".gz" * compress)
    accepted, rejected = decoded(data, key)
    assert rejected == []
    assert accepted == [(i, t["trade_id"]) for i, t in enumerate(TRADES)]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "trades", "csv"])
def test_format_is_sniffed_without_extension_and_a_bom_is_fine(fmt, tmp_path):
    data = codecs.BOM_UTF8 + encode(fmt, TRADES, tmp_path)
    accepted, rejected = decoded(data, "incoming/x")
    assert len(accepted) == len(TRADES) and rejected == [], fmt


def test_the_registry_names_its_formats_and_modules():
    assert set(FORMATS) == {"jsonl", "json", "csv"}
    for fmt in FORMATS.values():
        assert callable(fmt.decoder())
    assert detect(b'{"trade_id": "a"}\n{"trade_id": "b"}', "x") == "jsonl"
    assert detect(b'{"trades": [\n', "x.json") == "json"
    assert detect(b"[]", "x") == "json"
    assert detect(b"trade_id,symbol\n", "x") == "csv"
    with pytest.raises(MalformedObjectError, match="unrecognised format"):
        detect(b"hello", "x.txt")


def test_archive_lines_are_the_accepted_records_as_received(tmp_path):
    data = jsonl_of(TRADES[0], '{"price": NaN}', TRADES[1])
    chunks = chunks_of(data)
    assert lines_of(chunks) == [json.dumps(TRADES[0]).encode(), json.dumps(TRADES[1]).encode()]
    csv_chunks = chunks_of(encode("csv", TRADES[:2], tmp_path), "x.csv")
    assert [json.loads(line)["price"] for line in lines_of(csv_chunks)] == [
        str(t["price"]) for t in TRADES[:2]
    ]


def test_wrapped_document_with_other_keys_first():
    doc = json.dumps({"batch_id": "b", "note": {"a": [1]}, "trades": TRADES[:3]}, indent=2)
    accepted, rejected = decoded(doc.encode(), "incoming/x.json")
    assert [i for i, _ in accepted] == [0, 1, 2] and not rejected


def test_jsonl_bad_lines_keep_their_index_and_blank_lines_are_no_records():
    lines = [
        json.dumps(TRADES[0]),
        "",
        "   ",
        "{not json",
        json.dumps(TRADES[1] | {"price": "NaN"}),
        json.dumps(TRADES[2]) + "\r",
    ]
    accepted, rejected = decoded("\n".join(lines).encode())
    assert [i for i, _ in accepted] == [0, 5]
    assert rejected[0][:2] == (3, None) and "line is not valid JSON" in rejected[0][2]
    assert rejected[1] == (4, TRADES[1]["trade_id"], "price: 'NaN' is not a finite number > 0")
    assert len(rejected) == 2


def test_a_nan_price_in_an_otherwise_clean_file_rejects_that_line_only():
    records = list(MarketData(20_000, symbols=5, seed=3))
    records[12_345] = records[12_345] | {"price": "NaN"}
    accepted, rejected = decoded(jsonl_of(*records))
    assert rejected == [
        (12_345, records[12_345]["trade_id"], "price: 'NaN' is not a finite number > 0")
    ]
    assert [i for i, _ in accepted] == [i for i in range(20_000) if i != 12_345]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"\uff11\uff18\uff17.\uff12\uff15"', "is not a number"),
        ('"\\u0661\\u0662"', "is not a number"),  # Arabic-Indic digits behind an escape
        ('"1_000"', "is not a number"),
        ('"Infinity"', "is not a finite number > 0"),
        ("1e400", "is out of range"),
        ("1" * 5000, "could not be decoded"),  # beyond Python's digit limit
    ],
)
def test_a_hostile_number_among_clean_lines_is_rejected_alone(value, reason):
    good = [json.dumps(t) for t in TRADES[:10]]
    bad = json.dumps(TRADES[10]).replace(f'"price": {TRADES[10]["price"]}', f'"price": {value}')
    accepted, rejected = decoded(jsonl_of(*good[:5], bad, *good[5:]))
    assert [i for i, _ in accepted] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert [(i, r) for i, _, r in rejected if reason in r] == [(5, rejected[0][2])]


def test_ids_with_underscores_and_non_ascii_text_are_fine():
    records = [t | {"trade_id": f"T_{i}_1", "venue": "Börse"} for i, t in enumerate(TRADES)]
    accepted, rejected = decoded(jsonl_of(*records))
    assert rejected == [] and [t for _, t in accepted] == [r["trade_id"] for r in records]


def _nested(depth: int) -> str:
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.mark.parametrize(
    ("depth", "accepted"), [(32, True), (33, False), (1000, False), (100_000, False)]
)
def test_nesting_beyond_the_depth_limit_rejects_the_line_alone(depth, accepted):
    trade = json.dumps(TRADES[1])[:-1] + f', "extra": {_nested(depth - 1)}}}'
    got, rejected = decoded(jsonl_of(TRADES[0], trade, TRADES[2]))
    assert [i for i, _ in got] == ([0, 1, 2] if accepted else [0, 2])
    if not accepted:
        assert rejected[0][0] == 1 and "nested deeper than 32 levels" in rejected[0][2]


def test_bad_utf8_and_lone_surrogates_reject_their_line_alone():
    good = jsonl_of(TRADES[0])
    bad_byte = json.dumps(TRADES[1]).encode().replace(b'"side"', b'"\xff\xfeside"') + b"\n"
    in_unknown = json.dumps(TRADES[2] | {"x": "?"}).encode().replace(b'"?"', b'"\xc0\xaf"') + b"\n"
    surrogate = json.dumps(TRADES[3] | {"trade_id": "\udc80"}).encode() + b"\n"
    accepted, rejected = decoded(good + bad_byte + in_unknown + surrogate + good)
    assert [i for i, _ in accepted] == [0, 4]  # a repeated id is the batch's to reject
    assert [i for i, _, _ in rejected] == [1, 2, 3]
    assert "not UTF-8" in rejected[0][2] and "not UTF-8" in rejected[1][2]
    assert "not valid JSON" in rejected[2][2]


@pytest.mark.parametrize("size", [3 * 2**20 + 17, 2**20 + 1])
def test_an_overlong_line_is_rejected_and_the_lines_after_it_are_read(size):
    long = b'{"x": "' + b"a" * size + b'"}'
    after = [json.dumps(t).encode() for t in TRADES[:25]]
    data = b"\n".join([json.dumps(TRADES[29]).encode(), long, *after]) + b"\n"
    accepted, rejected = decoded(data)
    assert accepted == [(0, TRADES[29]["trade_id"])] + [
        (i + 2, t["trade_id"]) for i, t in enumerate(TRADES[:25])
    ]
    assert [(i, "longer than 1048576 bytes" in r) for i, _, r in rejected] == [(1, True)]


def test_an_overlong_last_line_without_newline():
    data = jsonl_of(TRADES[0]) + b'{"x": "' + b"a" * (3 * 2**20) + b'"}'
    accepted, rejected = decoded(data)
    assert accepted == [(0, TRADES[0]["trade_id"])] and rejected[0][0] == 1


def test_truncated_gzip_is_a_whole_object_failure(tmp_path):
    data = encode("jsonl", list(MarketData(2000, seed=2)), tmp_path, compress=True)
    with pytest.raises(MalformedObjectError, match="gzip stream is broken"):
        chunks_of(data[: len(data) // 2], "k.jsonl.gz")


def test_corrupt_gzip_is_a_whole_object_failure():
    data = gzip.compress(b'{"a": 1}\n' * 100)
    broken = data[:20] + bytes(b ^ 0xFF for b in data[20:40]) + data[40:]
    with pytest.raises(MalformedObjectError, match="gzip"):
        chunks_of(broken, "k.jsonl.gz")


def test_malformed_json_array_structure_names_the_element():
    data = ("[" + json.dumps(TRADES[0]) + "," + json.dumps(TRADES[1])[:-5]).encode()
    with pytest.raises(MalformedObjectError, match="malformed JSON document") as info:
        chunks_of(data, "k.json")
    assert info.value.index is not None


def test_array_with_trailing_garbage():
    with pytest.raises(MalformedObjectError, match="unexpected data after"):
        chunks_of((json.dumps(TRADES[:2]) + " [").encode(), "k.json")


def test_wrapped_document_without_trades():
    with pytest.raises(MalformedObjectError, match="no 'trades' array"):
        chunks_of(b'{\n"trade": []\n}', "k.json")


def test_hostile_array_elements_are_rejected_alone():
    elements = [
        json.dumps(TRADES[0]),
        '{"trade_id": "n", "symbol": "X", "price": NaN, "quantity": 1, "timestamp": 1}',
        "[" * 3000 + "]" * 3000,
        json.dumps(TRADES[1])[:-1] + ', "deep": ' + _nested(40) + "}",
        '{"trade_id": "big", "timestamp": ' + "1" * 5000 + "}",
        '{"a": tru, "b": [1, {"c": "]}"}]}',
        '"a string", ' + json.dumps(TRADES[2]),  # two elements
        '{"x": "' + "y" * (2**20 + 10) + '"}',
        json.dumps(TRADES[3]),
    ]
    data = ("[" + ",\n".join(elements) + "]").encode()
    accepted, rejected = decoded(data, "k.json")
    assert accepted == [
        (0, TRADES[0]["trade_id"]),
        (7, TRADES[2]["trade_id"]),
        (9, TRADES[3]["trade_id"]),
    ]
    reasons = {i or 0: r for i, _, r in rejected}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 8]
    assert "NaN is not a JSON value" in reasons[1]
    assert "nested deeper" in reasons[2] and "nested deeper than 32 levels" in reasons[3]
    assert "not valid JSON" in reasons[4] and "not valid JSON" in reasons[5]
    assert "is not an object" in reasons[6] and "longer than" in reasons[8]


def test_bad_bytes_in_an_array_element_reject_that_element():
    data = (
        b"["
        + json.dumps(TRADES[0]).encode()
        + b',{"trade_id": "\xff", "x": 1},'
        + json.dumps(TRADES[1]).encode()
        + b"]"
    )
    accepted, rejected = decoded(data, "k.json")
    assert [i for i, _ in accepted] == [0, 2] and rejected[0][0] == 1


def test_csv_missing_columns_names_them():
    with pytest.raises(MalformedObjectError, match="lacks column.s. quantity, timestamp"):
        chunks_of(b"trade_id,symbol,price\nt1,AAPL,1\n", "k.csv")


def test_csv_rows_with_wrong_width_bad_values_bad_bytes_and_overlong_fields():
    data = (
        b"trade_id,symbol,price,quantity,timestamp,side\n"
        b"t1,AAPL,1.5,2,1795185000000,buy\n"
        b"t2,AAPL,1.5\n"
        b"t3,AAPL,NaN,2,2026-11-20T14:30:00Z,\n"
        b"t\xff4,AAPL,1.5,2,1795185000000,\n"
        b"t5,AAPL,1.5,2,1795185000000," + b"x" * 300 + b"\n"
        b"\n"
        b"t6,AAPL,1.5,2,1795185000000,sell\n"
    )
    accepted, rejected = decoded(data, "k.csv", Limits(max_record_bytes=200))
    assert accepted == [(0, "t1"), (6, "t6")]
    assert rejected[:2] == [
        (1, "t2", "CSV row has 3 fields; the header has 6"),
        (2, "t3", "price: 'NaN' is not a finite number > 0"),
    ]
    assert rejected[2][0] == 3 and "not valid Unicode" in rejected[2][2]
    assert rejected[3][0] == 4 and "field larger than field limit" in rejected[3][2]


def test_empty_and_blank_objects_have_no_records():
    assert decoded(b"") == ([], [])
    assert decoded(b" \n" * 100_000) == ([], [])


def test_leading_blank_blocks_still_count_as_lines():
    data = b"\n" * 200_000 + jsonl_of(TRADES[0], "{broken")
    accepted, rejected = decoded(data)
    assert accepted == [(200_000, TRADES[0]["trade_id"])] and rejected[0][0] == 200_001


def test_the_content_digest_is_the_same_for_the_same_bytes_gzipped_or_not():
    data = jsonl_of(*TRADES)
    digests = set()
    for body in (data, gzip.compress(data, mtime=0), gzip.compress(data, mtime=99)):
        content, chunks = open_content(io.BytesIO(body), "k.jsonl", LIMITS)
        list(chunks)
        digests.add(content.digest)
    assert len(digests) == 1
    content, chunks = open_content(io.BytesIO(data + b"\n"), "k.jsonl", LIMITS)
    list(chunks)
    assert content.digest not in digests


@pytest.mark.parametrize(
    ("fmt", "records", "limit", "too_large"),
    [
        ("jsonl", 100, 100, False),
        ("jsonl", 101, 100, True),
        ("csv", 100, 100, False),
        ("csv", 101, 100, True),
        ("json", 100, 100, False),
        ("json", 101, 100, True),
    ],
)
def test_the_record_limit_is_exact(fmt, records, limit, too_large, tmp_path):
    data = encode(fmt, list(MarketData(records, seed=5)), tmp_path)

    def run() -> Flat:
        return decoded(data, f"x.{fmt}", Limits(max_records=limit))

    if too_large:
        with pytest.raises(ObjectTooLargeError, match=f"more than {limit}"):
            run()
    else:
        assert len(run()[0]) == records


def test_blank_lines_count_towards_the_line_limit():
    with pytest.raises(ObjectTooLargeError, match="more than 10 lines"):
        decoded(b"\n" * 5 + jsonl_of(*TRADES[:6]), limits=Limits(max_records=10))


def test_a_gzip_bomb_stops_at_the_byte_limit():
    bomb = zlib.compress(b"1\n" * (8 << 20), 9)  # ~16 KB of gzip, 16 MiB of one-byte records
    gz = gzip.compress(b"1\n" * (8 << 20), 9, mtime=0)
    assert len(gz) < 40_000 and len(bomb) < 40_000
    with pytest.raises(ObjectTooLargeError, match="larger than 1048576 bytes once decompressed"):
        decoded(gz, "bomb.jsonl.gz", Limits(max_object_bytes=2**20))
    with pytest.raises(ObjectTooLargeError, match="more than 1000 lines"):
        decoded(gz, "bomb.jsonl.gz", Limits(max_records=1000))


def test_a_direct_batch_larger_than_one_chunk_keeps_every_record():
    records = list(MarketData(12_345, seed=6))
    chunks = list(decode_records(records, 0, 32))
    assert len(chunks) == 3
    assert [t.trade_id for c in chunks for t in c.trades] == [r["trade_id"] for r in records]
    assert [i for c in chunks for i in c.indexes] == list(range(12_345))


def test_direct_records_dirty_chunk_keeps_indexes_and_strictness():
    records: list[Any] = [*TRADES[:3], TRADES[3] | {"price": "NaN"}, *TRADES[4:6]]
    records += [TRADES[6] | {"extra": float("nan")}, TRADES[7] | {"trade_id": "a\udc80"}, 5]
    records += [TRADES[8] | {"extra": [[[[]]]] * 1}, TRADES[9] | {"deep": json.loads(_nested(40))}]
    (chunk,) = decode_records(records, 10, 32)
    assert list(chunk.indexes) == [10, 11, 12, 14, 15, 19]
    reasons = {r.index or 0: r.reason for r in chunk.rejections}
    assert sorted(reasons) == [13, 16, 17, 18, 20]
    assert "JSON has no NaN" in reasons[16] and "not valid Unicode" in reasons[17]
    assert "is not an object" in reasons[18] and "nested deeper than 32 levels" in reasons[20]


_line = st.one_of(
    st.sampled_from([json.dumps(t) for t in TRADES]),
    st.sampled_from([json.dumps(t | {"symbol": t["symbol"].lower()}) for t in TRADES[:3]]),
    st.sampled_from(
        [
            "",
            "  ",
            "{}",
            "[1]",
            "null",
            '{"trade_id": "x", "symbol": "A", "price": "1_0", "quantity": 1, "timestamp": 5}',
            '{"trade_id": "y", "symbol": "A", "price": "NaN", "quantity": 1, "timestamp": 5}',
            '{"trade_id": "z", "symbol": "A", "price": 1, "quantity": 1, "timestamp": "1970-01-01T00:00:00Z"}',
            '{"trade_id": "w", "symbol": "A", "price": 1, "quantity": 1, "timestamp": 5, "side": ""}',
            json.dumps(TRADES[4] | {"nested": {"a": [1, 2]}}),
            json.dumps(TRADES[5] | {"note": "\u00e9"}),
        ]
    ),
    # No NUL: content holding one is refused whole as not UTF-8 text (test_input_shape.py).
    st.text(max_size=30).filter(lambda s: "\n" not in s and "\x00" not in s),
)


@given(st.lists(_line, max_size=60))
@settings(max_examples=200, deadline=None)
def test_the_block_fast_path_agrees_with_the_line_by_line_path(lines):
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    fast = chunks_of(data) if data.strip() else []
    precise = Chunk.empty()
    for index, line in enumerate(data.split(b"\n")):
        jsonl._line(index, line, precise, LIMITS)
    assert flat(fast) == flat([precise])
    assert lines_of(fast) == precise.line_list()


def test_undecodable_array_elements_past_the_budget_reject_the_object():
    deep = "[" * 2000 + "]" * 2000
    data = ("[" + ",".join([json.dumps(TRADES[0])] + [deep] * 10) + "]").encode()
    accepted, rejected = decoded(data, "k.json", Limits(max_undecodable_bytes=40_000))
    assert len(accepted) == 1 and len(rejected) == 10
    with pytest.raises(MalformedObjectError, match="more than 30000 characters of array elements"):
        decoded(data, "k.json", Limits(max_undecodable_bytes=30_000))
    nested = json.dumps(TRADES[1])[:-1] + ', "x": ' + _nested(40) + "}"  # decodes, too deep
    data = ("[" + ",".join([nested] * 10) + "]").encode()
    with pytest.raises(MalformedObjectError, match="nest too deep"):
        decoded(data, "k.json", Limits(max_undecodable_bytes=1000))


class _FailingRecord(dict):  # type: ignore[type-arg]
    """A mapping whose every lookup fails: no decoder makes one, but nothing may escape."""

    def get(self, *args: Any) -> Any:
        raise KeyError("lookup failed")


def test_whatever_a_record_raises_becomes_its_rejection_with_the_error_named():
    chunk = Chunk.empty()
    record = _FailingRecord(TRADES[0])
    record_into(7, record, chunk, 32)
    assert chunk.trades == []
    assert chunk.rejections == [
        Rejection(7, None, "record could not be read (KeyError: 'lookup failed')", record)
    ]


@pytest.mark.parametrize(
    ("trade_id", "reported"),
    [
        ("x", "x"),
        ("x" * 128, "x" * 128),
        ("", None),
        ("x" * 129, None),
        ("a\udc80", None),
        (7, None),
    ],
)
def test_a_rejection_carries_the_trade_id_only_when_a_response_can(trade_id, reported):
    chunk = Chunk.empty()
    record_into(0, {"trade_id": trade_id, "price": "NaN"}, chunk, 32)
    (rejection,) = chunk.rejections
    assert rejection.trade_id == reported
    assert usable_trade_id({"trade_id": trade_id}) == reported
    assert usable_trade_id([trade_id]) is None


def test_a_rejected_line_is_kept_as_received_and_a_rejected_value_as_it_is():
    line = b'  {"trade_id": "t", "price": "NaN"}  \n'
    chunk = Chunk.empty()
    record_into(4, json.loads(line), chunk, 32, line=line)
    (rejection,) = chunk.rejections
    assert isinstance(rejection.record, msgspec.Raw)
    assert bytes(rejection.record) == b'{"trade_id": "t", "price": "NaN"}'
    value = {"trade_id": "t", "price": "NaN"}
    record_into(5, value, chunk, 32)
    assert chunk.rejections[1].record is value


def test_a_carriage_return_between_tokens_is_json_whitespace_and_the_line_is_kept_as_received():
    """Only "\n" ends a JSON Lines record; a raw "\r" between tokens is whitespace (found by
    the mutated-bytes property, whose check once cut archive lines at it)."""
    line = json.dumps(TRADES[0]).replace('"symbol"', '\r"symbol"', 1).encode()
    chunks = chunks_of(line + b"\n" + json.dumps(TRADES[1]).encode() + b"\n")
    assert decoded(line + b"\n")[0] == [(0, TRADES[0]["trade_id"])]
    assert lines_of(chunks) == [line, json.dumps(TRADES[1]).encode()]
