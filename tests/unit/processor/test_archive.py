"""The work that overlaps with decoding: gzip spools and the content read ahead on a pool."""

from __future__ import annotations

import gzip
import io
import json
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.market_data import MarketData
from processor.archive import GzipSpool, archive_key
from processor.errors import MalformedObjectError
from processor.formats import Content, open_content
from processor.settings import Limits

JSONL = "".join(json.dumps(t) + "\n" for t in MarketData(3000, seed=21)).encode()


@pytest.mark.parametrize("workers", [1, 2, 16])
def test_background_compression_gives_the_same_bytes_in_order(workers):
    rng = random.Random(workers)
    cuts = sorted(rng.sample(range(1, len(JSONL)), 300))
    blocks = [JSONL[a:b] for a, b in zip([0, *cuts], [*cuts, len(JSONL)], strict=True)]
    with ThreadPoolExecutor(workers) as pool:
        outputs = []
        for executor in (None, pool):
            spool = GzipSpool(executor)
            for block in blocks:
                spool.write(block)
            outputs.append(spool.finish().read())
            spool.close()
    assert outputs[0] == outputs[1] and gzip.decompress(outputs[1]) == JSONL


def test_a_redelivered_batch_rewrites_an_identical_archive():
    outputs = []
    for _ in range(2):
        spool = GzipSpool()
        spool.write(JSONL)
        outputs.append(spool.finish().read())
        spool.close()
    header_mtime = outputs[0][4:8]
    assert outputs[0] == outputs[1] and header_mtime == b"\0\0\0\0"
    assert gzip.decompress(outputs[0]) == JSONL


def test_the_lines_of_a_spool_read_back():
    spool = GzipSpool()
    spool.write(b"a\nbb\n")
    spool.write(b"ccc\n")
    spool.finish()
    assert list(spool.lines()) == [b"a", b"bb", b"ccc"]
    spool.close()


def test_closing_a_spool_waits_for_the_blocks_in_flight():
    with ThreadPoolExecutor(2) as pool:
        spool = GzipSpool(pool)
        for _ in range(3):
            spool.write(JSONL * 10)
        spool.close()  # no write into a closed file afterwards


def test_archive_keys_are_partitioned_by_first_receipt():
    assert archive_key("raw/", 1_795_185_000_000, "b-1") == "raw/dt=2026-11-20/hour=14/b-1.jsonl.gz"
    assert archive_key("rejected/", 0, "x", ".source") == "rejected/dt=1970-01-01/hour=00/x.source"


@pytest.mark.parametrize("compressed", [False, True])
def test_reading_ahead_gives_the_same_records_and_digest(compressed):
    data = gzip.compress(JSONL * 20, mtime=0) if compressed else JSONL * 20
    results = []
    with ThreadPoolExecutor(2) as pool:
        for executor in (None, pool):
            content, chunks = open_content(io.BytesIO(data), "k.jsonl", Limits(), executor)
            ids = [t.trade_id for chunk in chunks for t in chunk.trades]
            results.append((ids, content.digest))
            content.close()
    assert results[0] == results[1] and len(results[0][0]) == 60_000


def test_an_error_while_reading_ahead_surfaces_in_the_caller():
    data = gzip.compress(JSONL * 50, mtime=0)
    with ThreadPoolExecutor(2) as pool, pytest.raises(MalformedObjectError, match="gzip"):
        _, chunks = open_content(io.BytesIO(data[: len(data) // 2]), "k.jsonl", Limits(), pool)
        list(chunks)


def test_content_reads_in_any_sizes():
    with ThreadPoolExecutor(1) as pool:
        content = Content(io.BytesIO(JSONL), 10**9, pool)
        got = [content.read(size) for size in (7, 100_000, 3, 1 << 20, 1 << 20)]
        content.close()
    assert b"".join(got) == JSONL
