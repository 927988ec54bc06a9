"""The context object Lambda's Python runtime hands the handler, for the local runs.

The attributes are those of the runtime's own `LambdaContext` (awslambdaric,
`lambda_context.py`), filled from the rendered function: a fresh request id for each
invocation (the processor's log lines carry it), the function's name, version, ARN, log group
and memory (a string, as the runtime reads it from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), and a
deadline its timeout after the invocation began.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from platform_core.offline import RenderedStack

__all__ = ["FunctionSettings", "LambdaContext"]


@dataclass(frozen=True)
class FunctionSettings:
    """What a context is made of, from the rendered function."""

    name: str
    arn: str
    memory_mb: int
    timeout_s: int
    log_group: str

    @classmethod
    def of(cls, stack: RenderedStack, region: str) -> FunctionSettings:
        function: Mapping[str, Any] = stack.one("aws:lambda/function:Function").inputs
        name = str(function["name"])
        account = str(function["role"]).split(":")[4]  # the role's ARN: same account
        logging = function.get("loggingConfig") or {}
        return cls(
            name=name,
            arn=f"arn:aws:lambda:{region}:{account}:function:{name}",
            memory_mb=int(function["memorySize"]),
            timeout_s=int(function["timeout"]),
            log_group=str(logging.get("logGroup") or f"/aws/lambda/{name}"),
        )

    def context(self, request_id: str | None = None) -> LambdaContext:
        """The context of one invocation (``request_id``: an asynchronous event's retries share
        one, as Lambda's do)."""
        started = time.time()
        return LambdaContext(
            aws_request_id=request_id or str(uuid.uuid4()),
            function_name=self.name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=str(self.memory_mb),
            log_group_name=self.log_group,
            log_stream_name=f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]local",
            deadline_ms=int((started + self.timeout_s) * 1000),
        )


@dataclass(frozen=True)
class LambdaContext:
    """One invocation's context (the attributes the runtime's context has)."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int
    function_version: str = "$LATEST"
    client_context: None = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout, never below 0 (as the runtime)."""
        return max(0, self.deadline_ms - int(time.time() * 1000))
