"""The `aws lambda invoke` that `--keep-running` prints fits the aws CLI at hand: v2 needs
`--cli-binary-format raw-in-base64-out` to take the payload as JSON, v1 refuses it as an
unknown option. (tests/e2e/local/test_keep_running.py runs the printed block with the installed
CLI; here the version detection and each variant, with stand-in `aws` programs.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from local_platform.serve import _invoke_commands, aws_cli_major

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test

FLAG = "--cli-binary-format raw-in-base64-out"


def stand_in(tmp_path: Path, stdout: str, stderr: str) -> Path:
    """An `aws` that answers --version as a given release does (v1 wrote it on stderr)."""
    aws = tmp_path / "aws"
    aws.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\n"
    )
    aws.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    ("stdout", "stderr", "major"),
    [
        ("aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.ubuntu.22\n", "", 2),
        ("", "aws-cli/1.18.69 Python/3.8.10 Linux/5.4 botocore/1.16.19\n", 1),
        ("aws-cli/1.45.11 Python/3.11.7 Linux/6.18 botocore/1.43.11\n", "", 1),
        ("something else\n", "", None),
    ],
)
def test_the_major_version_of_the_aws_on_path(tmp_path, monkeypatch, stdout, stderr, major):
    monkeypatch.setenv("PATH", str(stand_in(tmp_path, stdout, stderr)))
    assert aws_cli_major() == major


def test_no_aws_on_path_is_no_version(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert aws_cli_major() is None


def test_each_variant_of_the_invoke_command():
    (v1,) = _invoke_commands("fn", "'{}'", "http://127.0.0.1:1", 1)
    (v2,) = _invoke_commands("fn", "'{}'", "http://127.0.0.1:1", 2)
    assert FLAG not in v1 and FLAG in v2
    for command in (v1, v2):
        assert command.startswith("aws lambda invoke --endpoint-url http://127.0.0.1:1 ")
        assert "--function-name fn " in command
        assert command.endswith("--payload '{}' /dev/stdout")
    both = _invoke_commands("fn", "'{}'", "http://127.0.0.1:1", None)
    assert both == ["# with aws-cli v2:", v2, "# with aws-cli v1:", v1]
