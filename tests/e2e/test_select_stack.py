"""The first pipeline run of an environment creates its stack, with the environment's KMS
secrets provider, and a preview of a stack not deployed yet still previews (against an empty
local state), because the preview role may not create anything in the state bucket.

`scripts/select_stack.py` runs as CI runs it, against a stand-in `pulumi` on PATH that records
each call and answers `stack ls` as a backend holding the stacks the test chooses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "select_stack.py"
FAKE_PULUMI = """#!{python}
import json, os, sys
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(),
                          "backend": os.environ.get("PULUMI_BACKEND_URL")}}) + "\\n")
if sys.argv[1:4] == ["--non-interactive", "stack", "ls"]:
    print(os.environ["FAKE_PULUMI_STACKS"])
if os.environ.get("FAKE_PULUMI_FAIL") and "select" in sys.argv:
    print("error: AccessDenied: not authorized to perform s3:PutObject", file=sys.stderr)
    sys.exit(255)
"""


def run(
    tmp_path: Path,
    *args: str,
    stacks: tuple[str, ...] = (),
    fail: bool = False,
    with_pulumi: bool = True,
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if with_pulumi:
        pulumi = bin_dir / "pulumi"
        pulumi.write_text(FAKE_PULUMI.format(python=sys.executable))
        pulumi.chmod(0o755)
    env = {
        **os.environ,
        "PATH": str(bin_dir),  # the stand-in only: no real pulumi is asked
        "FAKE_PULUMI_LOG": str(tmp_path / "calls.jsonl"),
        "FAKE_PULUMI_STACKS": json.dumps([{"name": name, "current": False} for name in stacks]),
        "GITHUB_ENV": str(tmp_path / "github_env"),
        "RUNNER_TEMP": str(tmp_path / "runner_temp"),
    }
    env.pop("PULUMI_BACKEND_URL", None)
    if fail:
        env["FAKE_PULUMI_FAIL"] = "1"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    log = tmp_path / "calls.jsonl"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def kms(environment: str) -> str:
    return f"awskms://alias/trading-analytics-pulumi-{environment}?region=us-east-1"


@pytest.mark.parametrize("environment", ["dev", "production"])
def test_deploy_selects_or_creates_the_stack_with_its_kms_key(tmp_path, environment):
    result, calls = run(tmp_path, environment)
    assert result.returncode == 0, result.stderr
    assert calls == [{
        "argv": ["--non-interactive", "stack", "select", "--create",
                 "--secrets-provider", kms(environment), environment],
        "cwd": str(ROOT / "stacks" / environment),
        "backend": None,  # the state bucket of stacks/<env>/Pulumi.yaml
    }]  # fmt: skip
    assert not (tmp_path / "github_env").exists()


def test_preview_of_an_existing_stack_only_selects_it(tmp_path):
    result, calls = run(tmp_path, "staging", "--preview", stacks=("dev", "staging"))
    assert result.returncode == 0, result.stderr
    assert [c["argv"] for c in calls] == [
        ["--non-interactive", "stack", "ls", "--json"],
        ["--non-interactive", "stack", "select", "staging"],
    ]
    assert {c["backend"] for c in calls} == {None}
    assert not (tmp_path / "github_env").exists()


def test_preview_of_a_stack_not_deployed_yet_uses_an_empty_local_state(tmp_path):
    # Another project's stack of the same name does not count (fully qualified names).
    result, calls = run(tmp_path, "dev", "--preview", stacks=("organization/other/devx",))
    assert result.returncode == 0, result.stderr
    state = tmp_path / "runner_temp" / "pulumi-preview-state"
    backend = state.as_uri()
    assert state.is_dir()
    assert [(c["argv"], c["backend"]) for c in calls] == [
        (["--non-interactive", "stack", "ls", "--json"], None),
        (["--non-interactive", "stack", "select", "--create", "--secrets-provider", kms("dev"),
          "dev"], backend),
    ]  # fmt: skip
    # The following steps of the job (pulumi/actions) use that state too.
    assert (tmp_path / "github_env").read_text() == f"PULUMI_BACKEND_URL={backend}\n"
    assert "::notice::Stack dev does not exist yet" in result.stdout


def test_a_fully_qualified_name_of_the_stack_counts_as_existing(tmp_path):
    stacks = ("organization/trading-analytics-dev/dev",)
    result, calls = run(tmp_path, "dev", "--preview", stacks=stacks)
    assert result.returncode == 0, result.stderr
    assert calls[-1]["argv"] == ["--non-interactive", "stack", "select", "dev"]


def test_a_failing_pulumi_stops_the_job_with_its_message(tmp_path):
    result, _ = run(tmp_path, "dev", fail=True)
    assert result.returncode == 1
    assert "stack select --create" in result.stderr
    assert "AccessDenied: not authorized to perform s3:PutObject" in result.stderr


def test_an_unknown_environment_is_refused_with_the_allowed_ones(tmp_path):
    result, calls = run(tmp_path, "qa")
    assert result.returncode == 2
    assert "no stack directory stacks/qa: allowed are ['dev', 'production', 'staging']" in (
        result.stderr
    )
    assert calls == []


@pytest.mark.parametrize("args", [("dev",), ("dev", "--preview")])
def test_without_the_pulumi_cli_it_says_so_in_one_line(tmp_path, args):
    result, _ = run(tmp_path, *args, with_pulumi=False)
    assert result.returncode == 2
    assert result.stderr == (
        "error: the Pulumi CLI is not on PATH, so the selection of stack dev cannot run; "
        "install the version in .pulumi-version (https://www.pulumi.com/docs/install/), then "
        "run this again\n"
    )
    assert not (tmp_path / "github_env").exists()
