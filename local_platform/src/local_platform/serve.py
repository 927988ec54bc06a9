"""`--keep-running`: the emulator stays up for other shells, until Ctrl-C (or SIGTERM).

The function is created in the emulator and the ingest bucket's trigger replayed
(`local_platform.functions`), so uploads under the trigger prefix are processed as they arrive,
``aws lambda invoke`` works, and a failed asynchronous event lands in the failure queue, where
`python -m operations redrive` finds it.
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from local_platform import functions
from local_platform.run import REPO_ROOT, LocalRun, clients_of
from processor.contract import (
    BAR_SORT_KEY_PREFIX,
    ENV_ARCHIVE_BUCKET,
    ENV_ENVIRONMENT,
    ENV_TABLE_NAME,
    INGEST_PREFIX,
    bar_partition_key,
)

__all__ = ["instructions", "keep_running"]


def instructions(result: LocalRun) -> str:
    """Ready-to-paste environment variables and commands for the running emulator."""
    resources, operator = result.resources, result.operator
    assert resources is not None and operator is not None
    endpoint, table = result.endpoint_url, resources.table_name
    sample = REPO_ROOT / "samples" / "market-data.jsonl"
    symbol = next((str(bar["pk"]) for bar in result.bars), bar_partition_key("AAPL"))
    key_values = {":pk": {"S": symbol}, ":bar": {"S": BAR_SORT_KEY_PREFIX}}
    variables = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": operator.access_key_id,
        "AWS_SECRET_ACCESS_KEY": operator.secret_access_key,
        "AWS_DEFAULT_REGION": result.region,
        ENV_TABLE_NAME: table,
        ENV_ARCHIVE_BUCKET: resources.archive_bucket,
        ENV_ENVIRONMENT: result.options.environment,
    }
    exports = " \\\n  ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())
    python = shlex.quote(sys.executable)
    payload = {"trades": [{"trade_id": "cli-1", "symbol": "AAPL", "price": "187.12",
                           "quantity": "10", "timestamp": "2026-11-20T14:35:00Z"}]}  # fmt: skip
    query_values = shlex.quote(json.dumps(key_values, separators=(",", ":")))
    commands = [
        "# upload more market data: the function processes it as S3 delivers it",
        f"aws s3 cp {shlex.quote(str(sample))} "
        f"s3://{resources.ingest_bucket}/{INGEST_PREFIX}more-market-data.jsonl",
        "# invoke the function directly",
        f"aws lambda invoke --function-name {resources.function_name} "
        "--cli-binary-format raw-in-base64-out "
        f"--payload {shlex.quote(json.dumps(payload, separators=(',', ':')))} /dev/stdout",
        "# the bars of one symbol, by the operator tool or by DynamoDB itself",
        f"{python} -m operations query --table {table} --symbol {symbol.split('#', 1)[-1]}",
        f"aws dynamodb query --table-name {table} --key-condition-expression "
        f"'pk = :pk AND begins_with(sk, :bar)' --expression-attribute-values {query_values}",
        "# the archive, and the failure queue with what a redrive would replay",
        f"aws s3 ls s3://{resources.archive_bucket}/ --recursive",
        f"{python} -m operations redrive --queue-url {resources.failure_queue_url} "
        f"--function {resources.function_name}",
    ]
    return (
        f"\nThe emulator keeps running on {endpoint}: Ctrl-C stops it.\n"
        "\nIn another shell (the local operator's keys: allowed everything, valid until the "
        "emulator stops):\n\n"
        "unset AWS_SESSION_TOKEN AWS_PROFILE\n"
        f"export {exports}\n\n" + "\n".join(commands) + "\n"
    )


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM set ``stop`` instead of raising mid-step."""

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def keep_running(result: LocalRun, out: TextIO, poll_s: float = 0.5) -> None:
    """Create the function in the emulator, print the instructions, wait for Ctrl-C/SIGTERM."""
    emulator, resources = result.emulator, result.resources
    assert emulator is not None and resources is not None and result.stack is not None
    assert result.operator is not None and result.role is not None and result.handler is not None
    local = functions.register(
        result.stack,
        clients_of(result.operator, emulator),
        clients_of(result.role.session, emulator),
        result.handler,
        resources.failure_queue_url,
        out,
    )
    try:
        out.write(instructions(result))
        out.flush()
        stop = threading.Event()
        with _stopped_by_signals(stop):
            while not stop.wait(poll_s):
                pass
        out.write("\nStopping the emulator … ")
        out.flush()
    finally:
        functions.unregister(local)
