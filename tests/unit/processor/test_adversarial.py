"""Attack-style properties of decoding: valid trades mixed with hostile records, through every
format (JSON Lines, JSON array, {"trades": [...]}, CSV — each plain or gzip, with or without a
byte order mark), and the same bytes mutated at random.

Whatever comes in, decoding gives a verdict per record (or one for the whole object), every
record seen is either accepted or rejected, and every archived line is strict JSON. The same
mixtures through the real handler: tests/integration/processor/test_adversarial.py.
"""

from __future__ import annotations

import codecs
import gzip
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.batch import consume
from processor.errors import MalformedObjectError
from processor.formats import open_content
from processor.settings import Limits
from tests.processor_helpers import jsonl_lines, strict_json
from tests.processor_inputs import FORMATS, encode, mixtures


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
    lines = jsonl_lines(b"".join(accepted))
    assert [strict_json(line)["trade_id"] for line in lines] == [t["trade_id"] for t in valid]


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
        assert isinstance(err, MalformedObjectError), repr(err)
        return
    for line in jsonl_lines(b"".join(accepted)) + jsonl_lines(b"".join(rejected)):
        strict_json(line)
    if fmt == "jsonl" and not compressed:
        records = [line for line in data.removeprefix(codecs.BOM_UTF8).split(b"\n") if line.strip()]
        assert result.accepted + result.rejected == len(records)
