"""`--keep-running`: a live emulator for other shells, until Ctrl-C; redrive on it, end to end.

One subprocess — started with `--file` (a gzip CSV whose name needs URL-encoding) and
`--region eu-west-1`, so its report checks those too — driven as a user would from a second
shell with the keys it prints: an upload is processed as S3 would deliver it, a direct invocation works through Lambda's API, an event
that fails every attempt lands in the failure queue as Lambda's invocation record, `operations
redrive` lists it, replays it once the outage is over, and replaying it again changes nothing.
Then SIGINT stops everything. Bounded: each wait has a deadline; loopback only.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from benchmarks.market_data import sample_records
from tests.e2e.local.helpers import PROBES, expected_bars, reported_bars, reported_probes
from tests.repository import ORGANISATION, REPO_ROOT

pytestmark = pytest.mark.e2e  # see tests/conftest.py: kinds of test


REGION = "eu-west-1"
FUNCTION = f"dev-trading-processor-{REGION}"
INGEST = ORGANISATION.global_name(f"dev-trading-ingest-{REGION}")
ARCHIVE = ORGANISATION.global_name(f"dev-trading-archive-{REGION}")
TABLE = f"dev-trading-analytics-{REGION}"
FILE_NAME = "desk A=1 (copy).csv.gz"
RECORDS = sample_records(60, 3, seed=11)


def gzip_csv(path: Path) -> Path:
    text = io.StringIO()
    columns = ["trade_id", "symbol", "price", "quantity", "timestamp", "side"]
    writer = csv.DictWriter(text, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(RECORDS)
    path.write_bytes(gzip.compress(text.getvalue().encode()))
    return path


T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout_s: float = 60) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


class Platform:
    """The running `python -m local_platform --keep-running`, and what it printed."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "local_platform", "--keep-running", *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def exports(self) -> dict[str, str]:
        return dict(re.findall(r"(AWS_[A-Z_]+|[A-Z_]+_BUCKET|TABLE_NAME)=(\S+)", self.output))

    def commands(self) -> str:
        """The ready-to-paste block, from its first line to the redrive command."""
        start = self.output.index("unset AWS_SESSION_TOKEN AWS_PROFILE")
        end = self.output.index("\n", self.output.index("-m operations redrive", start))
        return self.output[start:end]


def table_items(env: dict[str, str], symbol: str) -> list[dict[str, Any]]:
    ddb = client("dynamodb", env)
    items: list[dict[str, Any]] = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :bar)",
        ExpressionAttributeValues={":pk": {"S": f"SYMBOL#{symbol}"}, ":bar": {"S": "BAR#1m#"}},
    )["Items"]
    return items


def client(service: str, env: dict[str, str]) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def trades(symbol: str, count: int = 3) -> bytes:
    lines = [
        {
            "trade_id": f"{symbol}-{i}",
            "symbol": symbol,
            "price": f"{100 + i}.5",
            "quantity": 10,
            "timestamp": f"2026-11-20T14:31:{10 + i:02d}Z",
        }  # fmt: skip
        for i in range(count)
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def operations(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "operations", *args],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    running = Platform("--file", str(gzip_csv(tmp_path / FILE_NAME)), "--region", REGION)
    try:
        wait_for("the instructions", lambda: "Ctrl-C stops it." in running.output, timeout_s=150)
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=10)


@pytest.fixture
def env(platform: Platform) -> dict[str, str]:
    exports = platform.exports()
    assert set(exports) >= {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    }
    assert exports["AWS_ACCESS_KEY_ID"].startswith("AKIA")  # an IAM user of the emulator
    return exports


def step_its_report_covers_the_file_in_that_region(platform: Platform) -> None:
    output = platform.output
    assert f"to s3://{INGEST}/incoming/{FILE_NAME}" in output  # the file keeps its name
    assert f"table   {TABLE}" in output
    assert f'source": "s3://{INGEST}/incoming/{FILE_NAME}' in output  # decoded by the handler
    assert reported_bars(output) == expected_bars(RECORDS)
    assert reported_probes(output) == PROBES


def step_it_prints_ready_to_paste_variables_and_commands(
    platform: Platform, env: dict[str, str]
) -> None:
    output = platform.output
    assert re.search(
        r"^The emulator keeps running on http://127\.0\.0\.1:\d+: Ctrl-C stops it\.$", output, re.M
    )
    assert "unset AWS_SESSION_TOKEN AWS_PROFILE" in output
    assert env["INGEST_BUCKET"] == INGEST and env["ARCHIVE_BUCKET"] == ARCHIVE  # the handler's
    assert env["TABLE_NAME"] == TABLE
    assert "samples/market-data.jsonl" not in output  # the sample again would be a duplicate
    assert "-m operations query --table" in output and "-m operations redrive --queue-url" in output
    endpoint = f"--endpoint-url {env['AWS_ENDPOINT_URL']}"
    aws = [line for line in platform.commands().splitlines() if line.startswith("aws ")]
    assert aws and all(endpoint in line for line in aws)  # aws-cli v1 ignores AWS_ENDPOINT_URL


def step_an_upload_is_processed_as_s3_delivers_it(env: dict[str, str]) -> None:
    client("s3", env).put_object(Bucket=INGEST, Key="incoming/live feed.jsonl", Body=trades("LIVE"))
    (bar,) = wait_for("the LIVE bar", lambda: table_items(env, "LIVE"))
    assert bar["trade_count"] == {"N": "3"}


def step_a_direct_invocation_through_lambdas_api(env: dict[str, str]) -> None:
    payload = {
        "trades": [json.loads(line) for line in trades("INVK", 2).decode().splitlines()],
        "batch_id": "cli-1",
    }
    response = client("lambda", env).invoke(FunctionName=FUNCTION, Payload=json.dumps(payload))
    assert "FunctionError" not in response
    body = json.loads(response["Payload"].read())
    assert (body["batch_id"], body["accepted"]) == ("cli-1", 2)


def step_the_query_command_reads_the_running_emulator(env: dict[str, str]) -> None:
    wait_for("the LIVE bar", lambda: table_items(env, "LIVE"))
    result = operations(
        env,
        "query",
        "--table",
        TABLE,
        "--symbol",
        "live",
        "--from",
        "2026-11-20T14:31Z",
        "--to",
        "2026-11-20T14:32Z",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[:2] == ["2026-11-20T14:31Z", "100.5"]


def step_a_failed_event_is_redriven_once_and_a_second_redrive_changes_nothing(
    platform: Platform, env: dict[str, str]
) -> None:
    s3, sqs = client("s3", env), client("sqs", env)
    queue_url = sqs.get_queue_url(QueueName=f"dev-trading-processor-failures-{REGION}")["QueueUrl"]
    redrive = ("redrive", "--queue-url", queue_url, "--function", FUNCTION)
    archive = boto3.resource(
        "s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    ).Bucket(ARCHIVE)  # fmt: skip
    archive.objects.all().delete()
    archive.delete()  # an outage: every attempt fails on the archive write
    s3.put_object(Bucket=INGEST, Key="incoming/outage.jsonl", Body=trades("OUTG"))
    wait_for(
        "the failure record", lambda: "invocation record is in the failure queue" in platform.output
    )
    (message,) = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # the rendered 2 retries + 1
    assert (
        record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "incoming%2Foutage.jsonl"
    )
    assert record["responsePayload"]["errorType"] == "NoSuchBucket"

    dry = operations(env, *redrive)
    assert dry.returncode == 0, dry.stderr
    assert f"S3 notification: s3://{INGEST}/incoming/outage.jsonl" in dry.stdout
    assert (
        "1 message(s): 0 replayed, 0 failed, 0 not replayable; run again with --apply" in dry.stdout
    )
    assert table_items(env, "OUTG") == []

    location = {"LocationConstraint": REGION}
    s3.create_bucket(Bucket=ARCHIVE, CreateBucketConfiguration=location)  # the outage is over
    applied = operations(env, *redrive, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert "replayed: the function applied it; message deleted" in applied.stdout
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages") is None
    (bar,) = table_items(env, "OUTG")
    assert bar["trade_count"] == {"N": "3"}
    # The function's log lines carry the request id of the failed invocations (their record's).
    request_id = record["requestContext"]["requestId"]
    assert f'"request_id": "{request_id}"' in platform.output

    sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])  # the same record again
    again = operations(env, *redrive, "--apply")
    assert "1 replayed" in again.stdout
    assert table_items(env, "OUTG") == [bar]  # deduplicated: nothing counted twice


def step_a_replay_the_function_refuses_keeps_its_message(env: dict[str, str]) -> None:
    """A record whose event names another bucket: the function returns normally, refusing it;
    the redrive says so, keeps the message and exits 1."""
    sqs = client("sqs", env)
    queue_url = sqs.get_queue_url(QueueName=f"dev-trading-processor-failures-{REGION}")["QueueUrl"]
    foreign = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "example-prod-bucket"},
        "object": {"key": "incoming/x.jsonl", "eTag": "abc"}}}]}  # fmt: skip
    body = {
        "version": "1.0", "timestamp": "2026-11-22T10:05:00.000Z",
        "requestContext": {"requestId": "r-1", "condition": "RetriesExhausted",
                           "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}:$LATEST",
                           "approximateInvokeCount": 3},
        "requestPayload": foreign,
    }  # fmt: skip
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
    sqs.send_message(QueueUrl=queue_url, MessageBody="not json at all")
    dry = operations(env, "redrive", "--queue-url", queue_url, "--function", FUNCTION)
    assert "not a Lambda failure record: 'not json at all'" in dry.stdout
    assert "condition unknown" not in dry.stdout
    applied = operations(
        env, "redrive", "--queue-url", queue_url, "--function", FUNCTION, "--apply"
    )
    assert applied.returncode == 1, applied.stdout + applied.stderr
    assert (
        "replayed but NOT applied, message kept: refused: the function refused the event, "
        "nothing was read or written (s3://example-prod-bucket/incoming/x.jsonl: not the ingest "
        f"bucket {INGEST}; nothing read)"
    ) in applied.stdout
    assert "replayed: the function applied it" not in applied.stdout
    assert "1 not applied (kept)" in applied.stdout
    left = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert sorted(m["Body"] for m in left["Messages"]) == sorted(
        [json.dumps(body), "not json at all"]
    )


def step_ctrl_c_stops_it_cleanly(platform: Platform, env: dict[str, str]) -> None:
    port = int(env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    platform.process.send_signal(signal.SIGINT)
    assert platform.process.wait(timeout=30) == 0
    assert platform.output.rstrip().endswith("Stopping the emulator … stopped.")
    assert platform.process.stderr is not None and "Traceback" not in platform.process.stderr.read()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect(("127.0.0.1", port))


def test_keep_running_end_to_end(platform, env):
    """One emulator, the steps in order (a second shell's view), then Ctrl-C."""
    step_its_report_covers_the_file_in_that_region(platform)
    step_it_prints_ready_to_paste_variables_and_commands(platform, env)
    step_an_upload_is_processed_as_s3_delivers_it(env)
    step_a_direct_invocation_through_lambdas_api(env)
    step_the_query_command_reads_the_running_emulator(env)
    step_a_failed_event_is_redriven_once_and_a_second_redrive_changes_nothing(platform, env)
    step_a_replay_the_function_refuses_keeps_its_message(env)
    step_ctrl_c_stops_it_cleanly(platform, env)


@pytest.mark.skipif(shutil.which("aws") is None, reason="no aws CLI: the printed commands need it")
def test_the_printed_commands_work_as_pasted(platform):
    """Pasted into bash as they are, with the `aws` installed here (v1 or v2): every command
    succeeds, and the new market data changes bars (it is not a duplicate of the sample)."""
    shell_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", platform.commands()], env=shell_env,
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert re.search(r'"batch_id": ?"direct-[0-9a-f]+"', ran.stdout)  # lambda invoke's response
    assert '"StatusCode": 200' in ran.stdout
    assert '"Items": [' in ran.stdout  # aws dynamodb query
    assert "raw/dt=" in ran.stdout  # aws s3 ls of the archive
    assert "Failure queue" in ran.stdout  # the redrive's dry run
    wait_for(
        "the new market data applied",
        lambda: re.search(r"asynchronous event processed: s3-[0-9a-f]+: applied, 100 accepted",
                          platform.output),
    )  # fmt: skip
