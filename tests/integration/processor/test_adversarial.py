"""The real handler under moto takes valid trades mixed with hostile records on every path
(JSON Lines, JSON array, {"trades": [...]}, CSV — plain or gzip, with or without a byte order
mark — and direct calls): it returns (never raises for input), every record seen is accepted
or rejected, every valid trade is counted once, and every archived line is strict JSON."""

from __future__ import annotations

import codecs
import gzip
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from processor.handler import Runtime, handle
from processor.settings import Settings
from tests.processor_helpers import (
    archive_lines,
    create_resources,
    expected_bars,
    stored_bars,
    strict_json,
    upload,
)
from tests.processor_inputs import csv_valid, encode, hostile_values, mixtures, text_of


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
    with mock_aws():
        ddb, s3 = clients["dynamodb"], clients["s3"]
        create_resources(ddb, s3)
        runtime = Runtime.create(Settings.from_env(), ddb=ddb, s3=s3, workers=4)
        if path == "direct":
            records = [
                json.loads(text_of(i).decode("utf-8", "replace"))
                if not isinstance(i, dict) and _loads(i)
                else i
                for i in items
            ]
            records += data.draw(st.lists(hostile_values(), max_size=3))
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
        json.loads(text_of(item).decode("utf-8", "strict"))
    except (ValueError, RecursionError):
        return False
    return True
