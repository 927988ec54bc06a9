"""`redrive`: replay the events in an environment's failure queue, deleting each one replayed.

Lambda puts an asynchronous event that failed every attempt into the function's on-failure
destination as an invocation record ("Capturing records of Lambda asynchronous invocations",
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)::

    {"version": "1.0", "timestamp": "2026-11-22T10:05:00.000Z",
     "requestContext": {"requestId": "…", "functionArn": "arn:aws:lambda:…:function:NAME:$LATEST",
                        "condition": "RetriesExhausted", "approximateInvokeCount": 3},
     "requestPayload": {…the original event…},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},
     "responsePayload": {"errorMessage": "…", "errorType": "…"}}

A redrive invokes the function again, synchronously, with ``requestPayload`` unchanged, and
deletes the message only once the function has applied the event: every batch of its response
``applied`` or ``duplicate`` (the processor's response: ``services/processor/README.md``). An
invocation that raised, or that returned normally but did not apply the event (``refused``,
``rejected``, ``conflict``, ``skipped``), leaves the message in the queue (visible again at
once), since it is then the only copy of that event an operator has. Without ``--apply``
nothing is invoked or deleted: every message is read, listed, and made visible again.

It is safe because the processor deduplicates: a batch it already applied changes nothing when
it comes again, as long as its ledger entry and markers live — ``DEDUPLICATION_HORIZON_S`` from
the batch's first receipt, longer than the queue keeps a message (``FAILURE_QUEUE_RETENTION_S``)
plus the time Lambda may have held the event before (``MAX_EVENT_AGE_S``). A record older than
the queue's retention plus the margin (only possible if the queue's retention was raised) is not
replayed: its ledger entry may be gone, and its trades could count twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import unquote_plus

from operations.errors import OperationsError
from processor.contract import DEDUPLICATION_HORIZON_S, MAX_EVENT_AGE_S

__all__ = [
    "FailureRecord",
    "Invocation",
    "Invoke",
    "RedriveSummary",
    "lambda_invoke",
    "parse_record",
    "redrive",
]

#: Longest a record may have waited for a replay to be harmless (see the module's docstring).
SAFE_AGE_S = DEDUPLICATION_HORIZON_S - MAX_EVENT_AGE_S
#: While listing, a message read stays invisible this long (it is released at the end).
_LISTING_S = 120
#: While its replay runs, a message stays invisible this long: Lambda's longest timeout.
_IN_FLIGHT_S = 900


#: Outcomes after which the event's trades are in the table: replaying it again changes nothing.
APPLIED_STATUSES = frozenset({"applied", "duplicate"})
#: What each other outcome means, for the operator who finds the message still queued.
_NOT_APPLIED = {
    "refused": "the function refused the event, nothing was read or written",
    "rejected": "the function rejected the input as a whole (it is kept under rejected/ of the "
    "archive, with the reason)",
    "conflict": "its batch id was used before for other records (they are kept under rejected/ "
    "of the archive)",
    "skipped": "the notified object version is gone from the ingest bucket",
}


@dataclass(frozen=True)
class Invocation:
    """How an invocation went: ``error`` is None when the function returned normally, and
    ``response`` is then what it returned (the processor's response, parsed)."""

    error: str | None = None
    response: Any = None

    def not_applied(self) -> str | None:
        """Why a normal return did not apply the event; None when every batch was applied."""
        response = self.response
        batches = response.get("batches") if isinstance(response, Mapping) else None
        if batches is None and isinstance(response, Mapping) and "status" in response:
            batches = [response]  # a direct call answers with its one outcome
        if not isinstance(batches, list) or not batches:
            return f"the function returned no batch status: {json.dumps(response)[:200]}"
        reasons = []
        for batch in batches:
            if not isinstance(batch, Mapping):
                reasons.append(f"a batch that is not an object: {json.dumps(batch)[:200]}")
                continue
            status = batch.get("status")
            if status in APPLIED_STATUSES:
                continue
            meaning = _NOT_APPLIED.get(str(status), "the function did not apply it")
            detail = batch.get("message") or batch.get("source")
            reasons.append(f"{status}: {meaning}" + (f" ({detail})" if detail else ""))
        return "; ".join(reasons) or None


#: Invoke the function (name or ARN) with a payload; the real one is `lambda_invoke`.
Invoke = Callable[[str, bytes], Invocation]


@dataclass(frozen=True)
class FailureRecord:
    """One message of the failure queue, read as an invocation record."""

    message_id: str
    receipt_handle: str
    function_arn: str
    payload: Mapping[str, Any] | None
    condition: str
    attempts: int
    error: str
    received_at: datetime | None
    problem: str | None = None  # why it cannot be replayed
    #: The start of the message's body, when it is not an invocation record at all.
    body: str | None = None

    @property
    def is_record(self) -> bool:
        return self.body is None

    def age_s(self, now: datetime) -> float | None:
        return None if self.received_at is None else (now - self.received_at).total_seconds()

    @property
    def function_name(self) -> str:
        """The name in the record's function ARN (without a version qualifier)."""
        parts = self.function_arn.split(":")
        return parts[6] if len(parts) > 6 else self.function_arn

    def describe(self) -> str:
        """What the event was: the objects of an S3 notification, or a direct batch."""
        if self.body is not None:
            return f"not a Lambda failure record: {self.body!r}"
        payload = self.payload or {}
        records = payload.get("Records")
        if isinstance(records, list):
            objects = [
                f"s3://{r['s3']['bucket']['name']}/{unquote_plus(str(r['s3']['object']['key']))}"
                for r in records
                if isinstance(r, Mapping) and isinstance(r.get("s3"), Mapping)
            ]
            return "S3 notification: " + ", ".join(objects or ["(no object)"])
        if "trades" in payload or "trade_data" in payload:
            trades = payload.get("trades")
            count = len(trades) if isinstance(trades, list) else 1
            return (
                f"direct batch {payload.get('batch_id', '(id from its trades)')}: {count} trade(s)"
            )
        return "event: " + json.dumps(payload)[:120]


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def parse_record(message: Mapping[str, Any]) -> FailureRecord:
    """A queue message as an invocation record; ``problem`` says why it is not one."""
    base = {
        "message_id": str(message["MessageId"]),
        "receipt_handle": str(message["ReceiptHandle"]),
    }
    text = str(message.get("Body", ""))
    try:
        body, problem = json.loads(text), "its body has no requestContext"
    except ValueError:
        body, problem = None, "its body is not JSON"
    if not isinstance(body, Mapping) or not isinstance(body.get("requestContext"), Mapping):
        return FailureRecord(
            **base, function_arn="", payload=None, condition="", attempts=0, error="",
            received_at=None, body=text[:120] + ("…" if len(text) > 120 else ""),
            problem=f"not an invocation record Lambda sent ({problem})",
        )  # fmt: skip
    context, response = body["requestContext"], body.get("responsePayload")
    error = ""
    if isinstance(response, Mapping):
        error = f"{response.get('errorType', 'Error')}: {response.get('errorMessage', '')}"
    payload = body.get("requestPayload")
    return FailureRecord(
        **base,
        function_arn=str(context.get("functionArn", "")),
        payload=payload if isinstance(payload, Mapping) else None,
        condition=str(context.get("condition", "")),
        attempts=int(context.get("approximateInvokeCount", 0) or 0),
        error=error,
        received_at=_timestamp(body.get("timestamp")),
        problem=None if isinstance(payload, Mapping) else "its requestPayload is not a JSON object",
    )


def _messages(sqs: Any, queue_url: str, visibility_s: int) -> Iterator[dict[str, Any]]:
    """Every message of the queue once (each stays invisible for ``visibility_s``)."""
    seen: set[str] = set()
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility_s,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


@dataclass
class RedriveSummary:
    listed: int = 0
    replayed: int = 0
    failed: int = 0
    #: Replayed, the function returned normally, but did not apply the event.
    not_applied: int = 0
    skipped: int = 0


def _skip_reason(record: FailureRecord, function: str, now: datetime) -> str | None:
    if record.problem:
        return record.problem
    if record.function_name != function.split(":")[-1] and record.function_arn != function:
        return f"it is a record of function {record.function_name}, not {function}"
    age = record.age_s(now)
    if age is not None and age > SAFE_AGE_S:
        return (
            f"it is {age / 86_400:.1f} days old, past the {SAFE_AGE_S / 86_400:.2f} days within "
            "which the processor is sure to recognise a batch it already applied"
        )
    return None


def redrive(
    sqs: Any,
    queue_url: str,
    function: str,
    invoke: Invoke,
    out: TextIO,
    apply: bool = False,
    limit: int | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RedriveSummary:
    """List (and with ``apply`` replay) the failure queue's records; see the module docstring."""
    summary = RedriveSummary()
    released: list[str] = []
    for message in _messages(sqs, queue_url, _LISTING_S):
        if limit is not None and summary.listed >= limit:
            released.append(message["ReceiptHandle"])
            continue
        summary.listed += 1
        record = parse_record(message)
        age = record.age_s(now())
        out.write(f"{record.message_id}  {record.describe()}\n")
        if record.is_record:
            out.write(
                f"    failed {record.attempts} time(s), {record.condition or 'condition unknown'}"
                + (f", {age / 3600:.1f} h ago" if age is not None else "")
                + (f": {record.error}" if record.error else "")
                + "\n"
            )
        reason = _skip_reason(record, function, now())
        if reason is not None:
            summary.skipped += 1
            out.write(f"    not replayed: {reason}; left in the queue\n")
            released.append(record.receipt_handle)
            continue
        if not apply:
            out.write("    would be replayed\n")
            released.append(record.receipt_handle)
            continue
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=_IN_FLIGHT_S
        )
        result = invoke(function, json.dumps(record.payload).encode())
        not_applied = None if result.error is not None else result.not_applied()
        if result.error is None and not_applied is None:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record.receipt_handle)
            summary.replayed += 1
            out.write("    replayed: the function applied it; message deleted\n")
        elif result.error is None:
            summary.not_applied += 1
            out.write(
                f"    replayed but NOT applied, message kept: {not_applied}. It stays in the "
                "queue because the function did not apply the event and this message is its "
                "only copy; replaying it again gets the same answer, so deal with the cause, "
                "then delete the message by hand\n"
            )
            released.append(record.receipt_handle)
        else:
            summary.failed += 1
            out.write(f"    replay FAILED, message kept: {result.error}\n")
            released.append(record.receipt_handle)
    for handle in released:  # visible again now, for the next reader or the next redrive
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return summary


def lambda_invoke(lambda_client: Any) -> Invoke:
    """The real invoke: synchronous, so the result is known before the message is deleted."""

    def invoke(function: str, payload: bytes) -> Invocation:
        response = lambda_client.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=payload
        )
        body = response["Payload"].read().decode("utf-8", "replace")
        try:
            returned = json.loads(body)
        except ValueError:
            returned = body[:500]
        if "FunctionError" not in response:
            return Invocation(response=returned)
        if isinstance(returned, Mapping):
            text = f"{returned.get('errorType', 'Error')}: {returned.get('errorMessage', '')}"
        else:
            text = str(returned)[:500]
        return Invocation(error=f"{response['FunctionError']} error, {text}")

    return invoke


def check_queue_url(queue_url: str) -> str:
    if not queue_url.startswith(("https://", "http://")):
        raise OperationsError(f"--queue-url {queue_url!r}: allowed an SQS queue URL (https://…)")
    return queue_url
