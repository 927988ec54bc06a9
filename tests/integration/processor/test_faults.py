"""Fault injection: throttling, cancelled transactions, 5xx on any call, a crash half-way —
each followed by redelivery. The final bars equal an independent aggregation, every batch's
records are archived once, and only the injected (transient) failures ever escape."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.market_data import BAD_RECORDS, MarketData
from processor.handler import handle
from tests.processor_helpers import (
    archive,
    expected_bars,
    jsonl,
    stored_bars,
    upload,
)

OPERATIONS = {
    "ddb": ("put_item", "batch_get_item", "transact_write_items", "update_item"),
    "s3": ("get_object", "put_object", "copy_object"),
}


class CrashError(Exception):
    """The container died (out of memory, timeout): not a ClientError, nothing cleaned up."""


def _client_error(code: str, operation: str, status: int = 400, **extra: Any) -> ClientError:
    body: Any = {
        "Error": {"Code": code, "Message": "injected"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(body | extra, operation)


def fault(kind: str, operation: str, items: int = 2) -> BaseException:
    if kind == "throttle":
        code = (
            "SlowDown" if operation.endswith("object") else "ProvisionedThroughputExceededException"
        )
        return _client_error(code, operation, 503 if code == "SlowDown" else 400)
    if kind == "5xx":
        return _client_error("InternalServerError", operation, 500)
    if kind == "cancel":  # a cancellation whose reasons say throttling: not ours to settle
        reasons = [{"Code": "None"}, {"Code": "ThrottlingError"}] * max(1, items // 2)
        return _client_error(
            "TransactionCanceledException", operation, 400, CancellationReasons=reasons
        )
    return CrashError(f"container killed during {operation}")


class Faulty:
    """A boto3 client that fails the ``n``-th call of an operation as scheduled."""

    def __init__(self, client: Any, schedule: dict[tuple[str, int], str]) -> None:
        self._client, self._schedule = client, schedule
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self.injected: list[tuple[str, int, str]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method) or name.startswith("_"):
            return method

        def call(**kwargs: Any) -> Any:
            with self._lock:
                self._calls[name] = n = self._calls.get(name, 0) + 1
                kind = self._schedule.pop((name, n), None)
            if kind is not None:
                self.injected.append((name, n, kind))
                raise fault(kind, name, len(kwargs.get("TransactItems", [])))
            return method(**kwargs)

        return call


TRADES = list(MarketData(240, symbols=3, seed=12, span_minutes=3))
BATCHES = [TRADES[0::3], TRADES[1::3], TRADES[2::3]]  # each touches every bar


def _deliveries(aws: dict[str, Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Three overlapping batches: a JSON Lines object with bad records, a poison object, a
    direct call; each with the valid trades it carries."""
    s3 = aws["s3"]
    first = upload(
        s3, "incoming/one.jsonl", jsonl([*BATCHES[0][:40], *BAD_RECORDS, *BATCHES[0][40:]])
    )
    poison = upload(s3, "incoming/poison.json", b'[{"trade_id": "x", ')
    direct = {"trades": BATCHES[1] + BATCHES[1][:5], "batch_id": "direct-one"}
    third = upload(s3, "incoming/three.jsonl", jsonl(BATCHES[2]))
    return [(first, BATCHES[0]), (poison, []), (direct, BATCHES[1]), (third, BATCHES[2])]


def run_until_done(runtime: Any, event: dict[str, Any], attempts: int = 20) -> dict[str, Any]:
    """Lambda's retries, then redrives: deliver again until the handler returns."""
    for _ in range(attempts):
        try:
            return handle(event, runtime.service)
        except (ClientError, CrashError):
            continue
    raise AssertionError("never completed")


def check_final_state(aws: dict[str, Any]) -> None:
    assert stored_bars(aws["ddb"]) == expected_bars(*BATCHES)
    raw = archive(aws["s3"], "raw/")
    assert sorted(r["trade_id"] for lines in raw.values() for r in lines) == sorted(
        t["trade_id"] for t in TRADES
    )
    rejected = archive(aws["s3"], "rejected/")
    assert sum(len(lines) for lines in rejected.values()) == len(BAD_RECORDS) + 5 + 1


SCENARIOS = [
    *(
        (client, op, 1, kind)
        for client, ops in OPERATIONS.items()
        for op in ops
        for kind in ("throttle", "5xx", "crash")
    ),
    *(("ddb", "transact_write_items", n, kind) for n in (2, 3) for kind in ("crash", "cancel")),
    ("ddb", "transact_write_items", 1, "cancel"),
    ("s3", "put_object", 2, "crash"),  # the raw object written, the rejected one not
]


@pytest.mark.parametrize(
    ("client", "operation", "nth", "kind"),
    SCENARIOS,
    ids=[f"{o}-{n}-{k}" for _, o, n, k in SCENARIOS],
)
def test_one_fault_then_redelivery_gives_exact_bars(
    aws, make_runtime, client, operation, nth, kind
):
    faulty = {"ddb": Faulty(aws["ddb"], {}), "s3": Faulty(aws["s3"], {})}
    faulty[client]._schedule[(operation, nth)] = kind
    runtime = make_runtime(ddb=faulty["ddb"], s3=faulty["s3"])
    for event, _ in _deliveries(aws):
        run_until_done(runtime, event)
    assert (
        faulty[client].injected == [(operation, nth, kind)]
        or (operation, nth) in faulty[client]._schedule
    )
    check_final_state(aws)


@given(
    schedule=st.lists(
        st.tuples(
            st.sampled_from([(c, o) for c, ops in OPERATIONS.items() for o in ops]),
            st.integers(1, 12),
            st.sampled_from(["throttle", "5xx", "crash", "cancel"]),
        ),
        max_size=8,
    ),
    order=st.randoms(use_true_random=False),
)
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_faults_in_any_delivery_order_give_exact_bars(clients, schedule, order):
    from moto import mock_aws

    from processor.handler import Runtime
    from processor.settings import Settings
    from tests.processor_helpers import create_resources

    with mock_aws():
        aws = {"ddb": clients["dynamodb"], "s3": clients["s3"]}
        create_resources(aws["ddb"], aws["s3"])
        plans: dict[str, dict[tuple[str, int], str]] = {"ddb": {}, "s3": {}}
        for (client, operation), nth, kind in schedule:
            if kind != "cancel" or operation == "transact_write_items":
                plans[client][(operation, nth)] = kind
        runtime = Runtime.create(
            Settings.from_env(),
            ddb=Faulty(aws["ddb"], plans["ddb"]),  # type: ignore[arg-type]
            s3=Faulty(aws["s3"], plans["s3"]),  # type: ignore[arg-type]
            workers=4,
        )
        deliveries = _deliveries(aws)
        deliveries += deliveries[:2]  # and some delivered twice
        order.shuffle(deliveries)
        for event, _ in deliveries:
            run_until_done(runtime, event)
        check_final_state(aws)


def test_a_cancellation_that_only_reports_conflicts_is_retried_inside(aws, make_runtime):
    calls: list[int] = []
    ddb = aws["ddb"]

    class Conflicting:
        def __getattr__(self, name: str) -> Callable[..., Any]:
            method: Callable[..., Any] = getattr(ddb, name)
            if name != "transact_write_items":
                return method

            def call(**kwargs: Any) -> Any:
                calls.append(1)
                if len(calls) <= 2:
                    reasons = [{"Code": "TransactionConflict"}] * len(kwargs["TransactItems"])
                    raise _client_error(
                        "TransactionCanceledException", name, CancellationReasons=reasons
                    )
                return method(**kwargs)

            return call

    runtime = make_runtime(ddb=Conflicting(), workers=1)
    result = handle({"trades": TRADES[:30], "batch_id": "conflicted"}, runtime.service)
    assert result["status"] == "applied" and len(calls) >= 3
    assert stored_bars(ddb) == expected_bars(TRADES[:30])
