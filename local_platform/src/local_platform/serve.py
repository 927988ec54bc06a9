"""`--keep-running`: the emulator stays up for other shells, until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import json
import shlex
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from local_platform.run import REPO_ROOT, LocalRun
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

    query_values = shlex.quote(json.dumps(key_values, separators=(",", ":")))
    commands = [
        "# upload more market data: the function processes it as S3 would deliver it",
        f"aws s3 cp {shlex.quote(str(sample))} "
        f"s3://{resources.ingest_bucket}/{INGEST_PREFIX}more-market-data.jsonl",
        "# the bars of one symbol, by the operator tool or by DynamoDB itself",
        f"python -m operations query --endpoint-url {endpoint} --table {table} "
        f"--symbol {symbol.split('#', 1)[-1]}",
        f"aws dynamodb query --table-name {table} --key-condition-expression "
        f"'pk = :pk AND begins_with(sk, :bar)' --expression-attribute-values {query_values}",
        "# the archive, and the failure queue (with what a redrive would replay)",
        f"aws s3 ls s3://{resources.archive_bucket}/ --recursive",
        f"aws sqs receive-message --queue-url {resources.failure_queue_url}",
        f"python -m operations redrive --endpoint-url {endpoint} "
        f"--queue-url {resources.failure_queue_url} --function {resources.function_name}",
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
    """Print the instructions, then wait until Ctrl-C or SIGTERM."""
    out.write(instructions(result))
    out.flush()
    stop = threading.Event()
    with _stopped_by_signals(stop):
        while not stop.wait(poll_s):
            pass
    out.write("\nStopping the emulator (Ctrl-C) … ")
    out.flush()
