"""`python -m operations redrive` on moto's SQS, with an injected invoke (moto runs no Lambda)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from operations.redrive import Invocation, lambda_invoke, parse_record, redrive
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


def outcome(status: str, source: str, message: str | None = None) -> dict[str, Any]:
    """One batch of the processor's response (services/processor/README.md, "Contract")."""
    batch: dict[str, Any] = {
        "batch_id": None if status == "refused" else "s3-abc", "status": status,
        "source": source, "accepted": 0, "rejected": [], "rejected_total": 0, "bars": [],
        "bars_total": 0, "bars_truncated": False,
    }  # fmt: skip
    if message is not None:
        batch["message"] = message
    return batch


class Recorder:
    """An invoke that records its calls; it fails, or answers with the statuses it is told to
    for a key (every other event is applied)."""

    def __init__(
        self, failing: tuple[str, ...] = (), answers: dict[str, list[dict[str, Any]]] | None = None
    ) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.failing, self.answers = failing, answers or {}

    def __call__(self, function: str, payload: bytes) -> Invocation:
        event = json.loads(payload)
        self.calls.append((function, event))
        key = event.get("Records", [{}])[0].get("s3", {}).get("object", {}).get("key")
        if key in self.failing:
            return Invocation(error="Unhandled error, ClientError: still down")
        if key in self.answers:
            return Invocation(response={"batches": self.answers[key]})
        if key is None:  # a direct call answers with its one outcome
            return Invocation(response=outcome("applied", "direct"))
        return Invocation(response={"batches": [outcome("applied", f"s3://dev-ingest/{key}")]})


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
    assert "not a Lambda failure record: 'hello'" in text
    assert "not an invocation record Lambda sent (its body is not JSON); left in the queue" in text
    assert "failed 0 time(s)" not in text and "condition unknown" not in text
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


def test_a_replay_the_function_refuses_or_rejects_keeps_its_message(queue):
    """A normal return is not success: the response's status says whether it was applied."""
    sqs, url = queue
    foreign = "s3://example-prod-bucket/incoming/x.jsonl"
    refusal = f"{foreign}: not the ingest bucket dev-ingest; nothing read"
    answers = {
        "incoming/foreign.jsonl": [outcome("refused", foreign, refusal)],
        "incoming/broken.jsonl": [
            outcome("rejected", "s3://dev-ingest/incoming/broken.jsonl", "object: not UTF-8")
        ],
        "incoming/dup.jsonl": [outcome("duplicate", "s3://dev-ingest/incoming/dup.jsonl")],
    }
    for key in answers:
        sqs.send_message(QueueUrl=url, MessageBody=record(s3_event(key)))
    summary, text = run(sqs, url, Recorder(answers=answers), apply=True)
    assert (summary.listed, summary.replayed, summary.not_applied, summary.failed) == (3, 1, 2, 0)
    assert depth(sqs, url) == 2  # the refused and the rejected one, visible again
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    kept = {
        json.loads(m["Body"])["requestPayload"]["Records"][0]["s3"]["object"]["key"] for m in left
    }
    assert kept == {"incoming/foreign.jsonl", "incoming/broken.jsonl"}
    assert (
        "replayed but NOT applied, message kept: refused: the function refused the event, "
        f"nothing was read or written ({refusal})"
    ) in text
    assert "rejected: the function rejected the input as a whole" in text
    assert "the function did not apply the event and this message is its only copy" in text
    assert text.count("replayed: the function applied it; message deleted") == 1  # duplicate


def test_one_refused_batch_of_several_keeps_the_message(queue):
    sqs, url = queue
    answers = {"incoming/two.jsonl": [outcome("applied", "a"), outcome("skipped", "b")]}
    sqs.send_message(QueueUrl=url, MessageBody=record(s3_event("incoming/two.jsonl")))
    summary, text = run(sqs, url, Recorder(answers=answers), apply=True)
    assert (summary.replayed, summary.not_applied) == (0, 1)
    assert "skipped: the notified object version is gone from the ingest bucket (b)" in text
    assert depth(sqs, url) == 1


@pytest.mark.parametrize(
    ("returned", "function_error", "expected"),
    [
        ({"batches": [{"status": "applied"}]}, None, Invocation(response={"batches": [{"status": "applied"}]})),
        ({"status": "refused", "message": "event is list"}, None,
         Invocation(response={"status": "refused", "message": "event is list"})),
        ({"errorType": "ClientError", "errorMessage": "down"}, "Unhandled",
         Invocation(error="Unhandled error, ClientError: down")),
    ],
)  # fmt: skip
def test_the_real_invoke_reads_the_functions_response(returned, function_error, expected):
    """`lambda_invoke` on a real boto3 client whose answer is stubbed (moto runs no Lambda)."""
    client = boto3.client(
        "lambda", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    body = json.dumps(returned).encode()
    answer: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
    }
    if function_error:
        answer["FunctionError"] = function_error
    with Stubber(client) as stub:
        stub.add_response(
            "invoke", answer,
            {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": b"{}"},
        )  # fmt: skip
        assert lambda_invoke(client)(FUNCTION, b"{}") == expected


@pytest.mark.parametrize(
    ("response", "applied"),
    [
        ({"batches": [{"status": "applied"}, {"status": "duplicate"}]}, True),
        ({"status": "duplicate"}, True),
        ({"status": "conflict", "message": "batch id reused"}, False),
        ({"batches": []}, False),
        ("not the processor's answer", False),
        (None, False),
    ],
)
def test_only_applied_or_duplicate_batches_count_as_applied(response, applied):
    assert (Invocation(response=response).not_applied() is None) is applied
