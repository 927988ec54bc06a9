"""The function inside the running emulator (`--keep-running`): invocations through AWS's APIs.

moto can run a Lambda function's code only in Docker. For `--keep-running`, the function is
created in moto's Lambda from the rendered stack (name, runtime, handler, role, environment,
its asynchronous-invocation settings with the failure queue as on-failure destination), and the
ingest bucket's notification is replayed from the rendered stack too. Two narrow patches then
run invocations of *this* function on the handler already loaded in this process, as its role:

- `Invoke` (``aws lambda invoke``, a redrive): synchronous, or queued for ``Event``;
- the S3 notification of an upload under the trigger prefix: queued, as S3 invokes
  asynchronously.

A queued event is retried as Lambda retries it (the rendered maximum retry attempts, after a
short pause instead of Lambda's minutes); when every attempt failed, its invocation record goes
to the failure queue, sent with the role's credentials as Lambda does. Every other function in
moto is left to moto.
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from moto.awslambda.models import LambdaFunction
from moto.s3 import notifications

from local_platform.context import FunctionSettings
from platform_core.offline import RenderedStack

__all__ = ["LocalFunction", "register"]

_LOCK = threading.Lock()
_FUNCTIONS: dict[str, LocalFunction] = {}  # by unqualified function ARN
_RETRY_PAUSE_S = 0.5


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class LocalFunction:
    """The loaded handler, one invocation at a time (one warm container)."""

    arn: str
    handler: Callable[[Any, Any], Any]
    #: What each invocation's context is made of.
    settings: FunctionSettings
    retry_attempts: int
    #: Sends an invocation record to the on-failure destination (with the role's credentials).
    send_to_failure_queue: Callable[[str], None]
    out: TextIO
    container: threading.Lock = field(default_factory=threading.Lock)
    queue: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="async-invocations")
    )

    def say(self, text: str) -> None:
        with _LOCK:
            self.out.write(f"[{datetime.now(UTC):%H:%M:%S}] {text}\n")
            self.out.flush()

    def invoke(self, event: Any, request_id: str) -> tuple[Any, BaseException | None]:
        """Run the handler once: (its response, None), or (Lambda's error payload, the error)."""
        with self.container:
            try:
                return self.handler(event, self.settings.context(request_id)), None
            except Exception as error:
                payload = {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "stackTrace": traceback.format_tb(error.__traceback__),
                }
                return payload, error

    def submit(self, event: Any) -> None:
        """Queue an asynchronous invocation (retries, then the failure queue)."""
        self.queue.submit(self._asynchronously, event)

    def _asynchronously(self, event: Any) -> None:
        attempts = 1 + self.retry_attempts
        request_id = str(uuid.uuid4())  # an event's retries keep its request id
        for attempt in range(1, attempts + 1):
            response, error = self.invoke(event, request_id)
            if error is None:
                self.say(f"asynchronous event processed: {_summary(response)}")
                return
            self.say(f"attempt {attempt} of {attempts} failed: {type(error).__name__}: {error}")
            if attempt < attempts:
                time.sleep(_RETRY_PAUSE_S * attempt)
        record = {
            "version": "1.0",
            "timestamp": _now(),
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{self.arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": response,
        }
        self.send_to_failure_queue(json.dumps(record))
        self.say("every attempt failed: its invocation record is in the failure queue")

    def close(self) -> None:
        self.queue.shutdown(wait=True, cancel_futures=True)


def _summary(response: Any) -> str:
    batches = response.get("batches", [response]) if isinstance(response, Mapping) else []
    return "; ".join(
        f"{b.get('batch_id') or b.get('source')}: {b.get('status')}, {b.get('accepted')} "
        f"accepted, {b.get('rejected_total', len(b.get('rejected', [])))} rejected"
        + (f" ({b['message']})" if b.get("message") else "")
        for b in batches
    )


_original_invoke = LambdaFunction.invoke
_original_notify = notifications._invoke_awslambda


def _invoke(
    self: LambdaFunction, body: str, request_headers: Any, response_headers: Any
) -> str | bytes:
    local = _FUNCTIONS.get(self.function_arn)
    if local is None:
        return _original_invoke(self, body, request_headers, response_headers)
    headers = {str(k).lower(): v for k, v in dict(request_headers).items()}
    kind = headers.get("x-amz-invocation-type", "RequestResponse")
    event = json.loads(body) if body else {}
    if kind == "DryRun":
        return b""
    if kind == "Event":
        local.submit(event)
        local.say("asynchronous invocation queued (Invoke, Event)")
        return b""
    response, error = local.invoke(event, str(uuid.uuid4()))
    if error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
        local.say(f"invocation failed: {type(error).__name__}: {error}")
    else:
        local.say(f"invoked: {_summary(response)}")
    return json.dumps(response).encode()


def _notify(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    local = _FUNCTIONS.get(fn_arn.removesuffix(":$LATEST"))
    if local is None:
        _original_notify(account_id, event_body, fn_arn, region_name)
        return
    keys = [r["s3"]["object"]["key"] for r in event_body.get("Records", [])]
    local.say(f"S3 notification for {', '.join(keys)} queued")
    local.submit(event_body)


def _install() -> None:
    if LambdaFunction.invoke is not _invoke:
        LambdaFunction.invoke = _invoke  # type: ignore[method-assign]
        notifications._invoke_awslambda = _notify


def _placeholder_code() -> bytes:
    """moto wants a deployment package; the code that runs is the handler in this process."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local platform runs processor.handler in-process.\n")
    return buffer.getvalue()


def register(
    stack: RenderedStack,
    client: Callable[[str], Any],
    role_client: Callable[[str], Any],
    handler: Callable[[Any, Any], Any],
    failure_queue_url: str,
    out: TextIO,
) -> LocalFunction:
    """Create the rendered function, its async settings and the S3 trigger; route them here."""
    _install()
    function = stack.one("aws:lambda/function:Function").inputs
    config = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs
    created = client("lambda").create_function(
        FunctionName=function["name"],
        Runtime=function["runtime"],
        Role=function["role"],
        Handler=function["handler"],
        Code={"ZipFile": _placeholder_code()},
        Timeout=int(function["timeout"]),
        MemorySize=int(function["memorySize"]),
        Architectures=list(function.get("architectures", ["arm64"])),
        Environment={"Variables": dict(function["environment"]["variables"])},
    )
    client("lambda").put_function_event_invoke_config(
        FunctionName=function["name"],
        MaximumRetryAttempts=int(config["maximumRetryAttempts"]),
        MaximumEventAgeInSeconds=int(config["maximumEventAgeInSeconds"]),
        DestinationConfig={
            "OnFailure": {"Destination": config["destinationConfig"]["onFailure"]["destination"]}
        },
    )
    sqs = role_client("sqs")
    settings = FunctionSettings.of(stack, client("lambda").meta.region_name)
    local = LocalFunction(
        arn=str(created["FunctionArn"]),
        handler=handler,
        settings=dataclasses.replace(settings, arn=str(created["FunctionArn"])),
        retry_attempts=int(config["maximumRetryAttempts"]),
        send_to_failure_queue=lambda body: sqs.send_message(
            QueueUrl=failure_queue_url, MessageBody=body
        ),
        out=out,
    )
    _FUNCTIONS[local.arn] = local
    notification = stack.one("aws:s3/bucketNotification:BucketNotification").inputs
    client("s3").put_bucket_notification_configuration(
        Bucket=notification["bucket"],
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": local.arn,
                    "Events": list(trigger["events"]),
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": trigger.get("filterPrefix", "")}
                            ]
                        }
                    },
                }
                for trigger in notification["lambdaFunctions"]
            ]
        },
    )
    return local


def unregister(local: LocalFunction) -> None:
    _FUNCTIONS.pop(local.arn, None)
    local.close()
