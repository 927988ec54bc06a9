"""What `--file` and `--invoke` accept, checked before anything starts (the command's own
`main`, in-process), and how an upload reads the file it is given (moto in-process)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_platform.cli import main
from local_platform.provision import LocalEnvironment
from local_platform.run import LocalRun, Options, _deliver

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test

BUCKET = "dev-ingest"


def not_regular_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of path that is not a regular file, and what the message must call it."""
    directory = tmp_path / "a-directory"
    directory.mkdir()
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.jsonl"
    zero.symlink_to("/dev/zero")
    dangling = tmp_path / "gone.jsonl"
    dangling.symlink_to(tmp_path / "nowhere")
    return {
        "directory": (directory, "is a directory; allowed: a regular file"),
        "fifo": (fifo, "is a named pipe (FIFO); allowed: a regular file"),
        "device": (
            zero,
            "is a character device (a symbolic link to /dev/zero); allowed: a regular file",
        ),
        "dangling": (dangling, "does not exist (a symbolic link to nothing)"),
    }


@pytest.mark.parametrize("kind", ["directory", "fifo", "device", "dangling"])
@pytest.mark.parametrize(("option", "what"), [("--file", "market-data file"),
                                              ("--invoke", "payload file")])  # fmt: skip
def test_a_path_that_is_not_a_regular_file_is_named_for_what_it_is(
    tmp_path, capsys, kind, option, what
):
    path, says = not_regular_files(tmp_path)[kind]
    assert main([option, str(path)], out=io.StringIO()) == 2  # returns: nothing read the FIFO
    assert capsys.readouterr().err == f"error: {what} {path} {says}\n"


@pytest.fixture
def operator() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        s3.create_bucket(Bucket=BUCKET)
        yield lambda service: s3


def deliver(path: Path, operator: Any) -> tuple[LocalRun, bytes]:
    result = LocalRun(Options(file=path), region="us-east-1")
    resources = LocalEnvironment(
        table_name="t", ingest_bucket=BUCKET, archive_bucket="a", trigger_prefix="incoming/",
        trigger_events=("s3:ObjectCreated:*",), function_name="f", function_environment={},
        failure_queue_url="http://q",
    )  # fmt: skip
    _deliver(result, resources, operator)
    body = operator("s3").get_object(Bucket=BUCKET, Key=result.options.upload_key)["Body"]
    return result, body.read()


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux's /proc")
def test_a_file_that_reports_no_size_is_uploaded_with_what_reading_it_gives(operator):
    """/proc/version says 0 bytes and holds a line: the upload holds that line."""
    expected = Path("/proc/version").read_bytes()
    assert Path("/proc/version").stat().st_size == 0 and expected
    result, uploaded = deliver(Path("/proc/version"), operator)
    assert uploaded == expected
    assert result.event["Records"][0]["s3"]["object"]["size"] == len(expected)


def test_a_regular_file_is_uploaded_as_it_is(operator, tmp_path):
    path = tmp_path / "trades.jsonl"
    path.write_bytes(b'{"trade_id": "t1"}\n' * 1000)
    result, uploaded = deliver(path, operator)
    assert uploaded == path.read_bytes()
    assert result.event["Records"][0]["s3"]["object"]["key"] == "incoming/trades.jsonl"
