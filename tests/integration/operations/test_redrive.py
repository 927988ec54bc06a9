"""`python -m operations redrive` on moto's SQS, with an injected invoke (moto runs no Lambda)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from operations.redrive import Invocation, parse_record, redrive
from processor.contract import DEDUPLICATION_MARGIN_S, FAILURE_QUEUE_RETENTION_S

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test

FUNCTION = "dev-trading-processor-us-east-1"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def s3_event(key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "dev-ingest"}, "object": {"key": key, "eTag": "abc"}},
            }
        ]
    }


def record(payload: Any, *, age: timedelta = timedelta(hours=2), function_arn: str = ARN) -> str:
    """An invocation record as Lambda sends it to an on-failure destination."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": (NOW - age).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "requestContext": {
                "requestId": "c1a2b3d4-0000-4000-8000-000000000001",
                "functionArn": f"{function_arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": payload,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorMessage": "Rate exceeded", "errorType": "ClientError"},
        }
    )


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        sqs = boto3.client(
            "sqs", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        url = sqs.create_queue(QueueName="dev-failures")["QueueUrl"]
        yield sqs, url


def depth(sqs: Any, url: str) -> int:
    """Messages visible now (a dry run or a failed replay must leave them visible)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


class Recorder:
    """An invoke that records its calls and fails for the payloads it is told to."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.failing = failing

    def __call__(self, function: str, payload: bytes) -> Invocation:
        event = json.loads(payload)
        self.calls.append((function, event))
        key = event.get("Records", [{}])[0].get("s3", {}).get("object", {}).get("key")
        return (
            Invocation(error="Unhandled error, ClientError: still down")
            if key in self.failing
            else Invocation()
        )


def run(
    sqs: Any, url: str, invoke: Recorder, apply: bool, limit: int | None = None
) -> tuple[Any, str]:
    out = io.StringIO()
    summary = redrive(sqs, url, FUNCTION, invoke, out, apply=apply, limit=limit, now=lambda: NOW)
    return summary, out.getvalue()


def test_a_dry_run_lists_everything_and_changes_nothing(queue):
    sqs, url = queue
    for key in ("incoming/a.jsonl", "incoming/b%20c.jsonl"):
        sqs.send_message(QueueUrl=url, MessageBody=record(s3_event(key)))
    invoke = Recorder()
    summary, text = run(sqs, url, invoke, apply=False)
    assert (summary.listed, summary.replayed, summary.failed, summary.skipped) == (2, 0, 0, 0)
    assert invoke.calls == []
    assert depth(sqs, url) == 2  # made visible again at once
    assert "S3 notification: s3://dev-ingest/incoming/b c.jsonl" in text
    assert "failed 3 time(s), RetriesExhausted, 2.0 h ago: ClientError: Rate exceeded" in text
    assert text.count("would be replayed") == 2


def test_apply_replays_the_original_payload_and_deletes_only_what_succeeded(queue):
    sqs, url = queue
    sent = {key: s3_event(key) for key in ("incoming/ok.jsonl", "incoming/still-failing.jsonl")}
    for event in sent.values():
        sqs.send_message(QueueUrl=url, MessageBody=record(event))
    direct = {"trades": [{"trade_id": "t1"}], "batch_id": "desk-7"}
    sqs.send_message(QueueUrl=url, MessageBody=record(direct))
    invoke = Recorder(failing=("incoming/still-failing.jsonl",))
    summary, text = run(sqs, url, invoke, apply=True)
    assert (summary.listed, summary.replayed, summary.failed) == (3, 2, 1)
    assert sorted(json.dumps(e, sort_keys=True) for _, e in invoke.calls) == sorted(
        json.dumps(e, sort_keys=True) for e in [*sent.values(), direct]
    )  # each original payload, unchanged
    assert {f for f, _ in invoke.calls} == {FUNCTION}
    assert depth(sqs, url) == 1  # the failing one is back, visible; the others are gone
    (left,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert parse_record(left).payload == sent["incoming/still-failing.jsonl"]
    assert "replay FAILED, message kept: Unhandled error, ClientError: still down" in text
    assert "direct batch desk-7: 1 trade(s)" in text


def test_what_is_not_a_replayable_record_is_left_alone(queue):
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    sqs.send_message(QueueUrl=url, MessageBody=record("not an object"))
    sqs.send_message(
        QueueUrl=url,
        MessageBody=record(s3_event("incoming/x"), function_arn=ARN.replace("dev-", "staging-")),
    )
    too_old = timedelta(seconds=FAILURE_QUEUE_RETENTION_S + DEDUPLICATION_MARGIN_S + 60)
    sqs.send_message(QueueUrl=url, MessageBody=record(s3_event("incoming/old"), age=too_old))
    invoke = Recorder()
    summary, text = run(sqs, url, invoke, apply=True)
    assert (summary.listed, summary.skipped, summary.replayed) == (4, 4, 0)
    assert invoke.calls == []
    assert depth(sqs, url) == 4
    assert "not a Lambda invocation record (no requestContext)" in text
    assert "its requestPayload is not a JSON object" in text
    assert f"it is a record of function staging-trading-processor-us-east-1, not {FUNCTION}" in text
    assert "days old, past the 17.00 days within which the processor is sure to recognise" in text


def test_a_record_on_the_queues_last_day_is_still_replayed(queue):
    """Retention (14 days) is inside the deduplication horizon: the oldest message is safe."""
    sqs, url = queue
    last_day = timedelta(seconds=FAILURE_QUEUE_RETENTION_S - 3600)
    sqs.send_message(QueueUrl=url, MessageBody=record(s3_event("incoming/late"), age=last_day))
    summary, _ = run(sqs, url, Recorder(), apply=True)
    assert summary.replayed == 1


def test_max_limits_how_many_are_handled(queue):
    sqs, url = queue
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=record(s3_event(f"incoming/{i}")))
    invoke = Recorder()
    summary, _ = run(sqs, url, invoke, apply=True, limit=2)
    assert (summary.listed, summary.replayed) == (2, 2)
    assert depth(sqs, url) == 3
