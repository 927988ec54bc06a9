"""A batch whose claim creates its ledger reads no applied markers (nothing can have written
one); the markers' own conditions still keep a bar from counting a batch twice."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.market_data import MarketData
from processor.direct import direct_batch
from processor.handler import handle
from tests.processor_helpers import TABLE, all_items, expected_bars, jsonl, stored_bars, upload

TRADES = list(MarketData(300, symbols=5, seed=31, span_minutes=4))


def _invoke(runtime: Any, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handle(event, runtime.service, request_id="test")
    return result


def _delete_ledger(ddb: Any) -> None:
    """What a TTL sweep may do first: the ledger goes, the batch's markers stay a while."""
    (ledger,) = [item for item in all_items(ddb) if item["sk"]["S"] == "LEDGER"]
    ddb.delete_item(TableName=TABLE, Key={"pk": ledger["pk"], "sk": ledger["sk"]})


def test_a_first_delivery_reads_bars_only_and_a_redelivery_its_markers_too(aws, make_runtime):
    runtime = make_runtime()
    store = runtime.service.store
    original, asked = store._batch_get, list[str]()

    def counting(keys: Any) -> Any:
        asked.extend(key["sk"]["S"] for key in keys)
        return original(keys)

    store._batch_get = counting
    event = {"trades": TRADES, "batch_id": "markers"}
    assert _invoke(runtime, event)["status"] == "applied"
    bars = len(expected_bars(TRADES))
    assert len(asked) == bars and not any(sk.startswith("APPLIED#") for sk in asked)
    asked.clear()
    _delete_ledger(aws["ddb"])
    aws["ddb"].put_item(  # as an attempt left it that crashed before completing
        TableName=TABLE,
        Item={
            "pk": {"S": "BATCH#markers"},
            "sk": {"S": "LEDGER"},
            "status": {"S": "pending"},
            "fingerprint": {"S": direct_batch(event).fingerprint},
            "received_at": {"N": "1795185000000"},
            "source": {"S": "direct"},
        },
    )
    assert _invoke(runtime, event)["status"] == "applied"
    assert sum(sk.startswith("APPLIED#") for sk in asked) == bars
    assert stored_bars(aws["ddb"]) == expected_bars(TRADES)


@pytest.mark.parametrize("kind", ["direct", "s3"])
def test_a_batch_whose_ledger_expired_before_its_markers_counts_once(aws, make_runtime, kind):
    runtime = make_runtime()
    if kind == "direct":
        event: dict[str, Any] = {"trades": TRADES, "batch_id": "swept"}
    else:
        event = upload(aws["s3"], "incoming/swept.jsonl", jsonl(TRADES))
    _invoke(runtime, event)
    expected = expected_bars(TRADES)
    assert stored_bars(aws["ddb"]) == expected
    _delete_ledger(aws["ddb"])
    again = _invoke(runtime, event)  # claims anew: no marker read, every put meets its marker
    outcome = again if kind == "direct" else again["batches"][0]
    assert outcome["status"] == "applied" and outcome["bars_total"] == len(expected)
    assert stored_bars(aws["ddb"]) == expected
