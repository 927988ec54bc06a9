"""`--keep-running`: the emulator stays up for other shells, until Ctrl-C (or SIGTERM).

The function is created in the emulator and the ingest bucket's trigger replayed
(`local_platform.functions`), so uploads under the trigger prefix are processed as they arrive,
``aws lambda invoke`` works, and a failed asynchronous event lands in the failure queue, where
`python -m operations redrive` finds it.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from local_platform import functions
from local_platform.run import LocalRun, clients_of
from processor.contract import (
    BAR_SORT_KEY_PREFIX,
    ENV_ARCHIVE_BUCKET,
    ENV_ENVIRONMENT,
    ENV_INGEST_BUCKET,
    ENV_TABLE_NAME,
    INGEST_PREFIX,
    bar_partition_key,
)

__all__ = ["instructions", "keep_running"]


def aws_cli_major() -> int | None:
    """The major version of the `aws` on PATH (1 or 2), or None when there is none."""
    aws = shutil.which("aws")
    if aws is None:
        return None
    try:
        done = subprocess.run(
            [aws, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"aws-cli/(\d+)\.", done.stdout + done.stderr)  # v1 prints to stderr
    return int(found.group(1)) if found else None


def _invoke_commands(function: str, payload: str, endpoint: str, major: int | None) -> list[str]:
    """`aws lambda invoke` for the CLI at hand: v2 needs its flag to take the payload as raw
    JSON, and v1 refuses that flag as an unknown option."""
    command = f"aws lambda invoke --endpoint-url {endpoint} --function-name {function} "
    v1 = f"{command}--payload {payload} /dev/stdout"
    v2 = f"{command}--cli-binary-format raw-in-base64-out --payload {payload} /dev/stdout"
    if major == 1:
        return [v1]
    if major == 2:
        return [v2]
    return ["# with aws-cli v2:", v2, "# with aws-cli v1:", v1]


def instructions(result: LocalRun, aws_major: int | None = None) -> str:
    """Ready-to-paste environment variables and commands for the running emulator; the `aws`
    commands name the endpoint themselves (aws-cli v1 does not read AWS_ENDPOINT_URL)."""
    resources, operator = result.resources, result.operator
    assert resources is not None and operator is not None
    endpoint, table = result.endpoint_url, resources.table_name
    symbol = next((str(bar["pk"]) for bar in result.bars), bar_partition_key("AAPL"))
    key_values = {":pk": {"S": symbol}, ":bar": {"S": BAR_SORT_KEY_PREFIX}}
    variables = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": operator.access_key_id,
        "AWS_SECRET_ACCESS_KEY": operator.secret_access_key,
        "AWS_DEFAULT_REGION": result.region,
        ENV_TABLE_NAME: table,
        ENV_INGEST_BUCKET: resources.ingest_bucket,
        ENV_ARCHIVE_BUCKET: resources.archive_bucket,
        ENV_ENVIRONMENT: result.options.environment,
    }
    exports = " \\\n  ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())
    python = shlex.quote(sys.executable)
    payload = {"trades": [{"trade_id": "cli-1", "symbol": "AAPL", "price": "187.12",
                           "quantity": "10", "timestamp": "2026-11-20T14:35:00Z"}]}  # fmt: skip
    query_values = shlex.quote(json.dumps(key_values, separators=(",", ":")))
    more = shlex.quote(str(Path(tempfile.gettempdir()) / "more-market-data.jsonl"))
    commands = [
        "# new market data, processed as S3 delivers it: another seed gives new trades in the",
        "# sample's symbols and minutes, so their bars grow (the sample again: a duplicate)",
        f"{python} -m benchmarks.market_data {more} --trades 100 --symbols 5 --seed 8 "
        "--span-minutes 5",
        f"aws s3 cp --endpoint-url {endpoint} {more} "
        f"s3://{resources.ingest_bucket}/{INGEST_PREFIX}more-market-data.jsonl",
        "# invoke the function directly",
        *_invoke_commands(
            resources.function_name,
            shlex.quote(json.dumps(payload, separators=(",", ":"))),
            endpoint,
            aws_major,
        ),
        "# the bars of one symbol, by the operator tool or by DynamoDB itself",
        f"{python} -m operations query --table {table} --symbol {symbol.split('#', 1)[-1]}",
        f"aws dynamodb query --endpoint-url {endpoint} --table-name {table} "
        "--key-condition-expression 'pk = :pk AND begins_with(sk, :bar)' "
        f"--expression-attribute-values {query_values}",
        "# the archive, and the failure queue with what a redrive would replay",
        f"aws s3 ls --endpoint-url {endpoint} s3://{resources.archive_bucket}/ --recursive",
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
        out.write(instructions(result, aws_cli_major()))
        out.flush()
        stop = threading.Event()
        with _stopped_by_signals(stop):
            while not stop.wait(poll_s):
                pass
        out.write("\nStopping the emulator … ")
        out.flush()
    finally:
        functions.unregister(local)
