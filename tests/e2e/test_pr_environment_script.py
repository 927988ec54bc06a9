"""A pull request's copy of dev, deployed and destroyed by `scripts/pr_environment.py` as the
workflow runs it: against a stand-in `pulumi` (which records each call and answers `stack ls`
and `stack output`) and a stand-in `gh` (which answers the comment list through the real `jq`,
as `gh --jq` does, and records what it would post), on a copy of `stacks/dev`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from platform_core.naming import pull_request_suffix
from platform_core.offline import render_stack
from platform_core.stack_files import read_yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pr_environment.py"
MARKER = "<!-- pr-environment -->"
KMS = "awskms://alias/trading-analytics-pulumi-dev?region=us-east-1"
OUTPUTS = {
    "lambda_function_name": "dev-trading-processor-us-east-1-pr-42",
    "ingest_bucket_name": "example-dev-trading-ingest-us-east-1-pr-42",
    "private_subnet_ids": ["subnet-0a", "subnet-0b"],
    "database_secret_arn": "[secret]",
}

FAKE_PULUMI = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({{"tool": "pulumi", "argv": args, "cwd": os.getcwd()}}) + "\\n")
if args[1:3] == ["stack", "ls"]:
    print(os.environ["FAKE_STACKS"])
elif args[1:3] == ["stack", "output"]:
    print(os.environ["FAKE_OUTPUTS"])
elif args[1:3] == ["stack", "select"] and os.environ.get("FAKE_SELECT_FAILS"):
    print("error: AccessDenied: not authorized to perform: kms:Encrypt", file=sys.stderr)
    sys.exit(255)
elif args[1] == "up" and os.environ.get("FAKE_UP_FAILS"):
    print("error: AccessDenied: not authorized to perform: s3:CreateBucket", file=sys.stderr)
    sys.exit(1)
"""
FAKE_GH = """#!{python}
import json, os, subprocess, sys
args = sys.argv[1:]
body = None
if "-F" in args:
    body = open(args[args.index("-F") + 1].removeprefix("body=@")).read()
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({{"tool": "gh", "argv": args, "body": body}}) + "\\n")
if "--paginate" in args:
    jq = args[args.index("--jq") + 1]
    out = subprocess.run(["jq", "-r", jq], input=os.environ["FAKE_COMMENTS"], text=True,
                         capture_output=True, check=True)
    sys.stdout.write(out.stdout)
"""

needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="the stand-in gh filters with jq")


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """A copy of stacks/dev, for the script to write the copy's stack file into."""
    root = tmp_path / "stacks"
    shutil.copytree(ROOT / "stacks" / "dev", root / "dev",
                    ignore=shutil.ignore_patterns("__pycache__", "Pulumi.dev-*.yaml"))  # fmt: skip
    return root


def run(
    tmp_path: Path,
    stacks: Path,
    *args: str,
    existing: tuple[str, ...] = (),
    comments: list[dict[str, Any]] | None = None,
    up_fails: bool = False,
    select_fails: bool = False,
    tools: tuple[str, ...] = ("pulumi", "gh"),
    stacks_dir: Path | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("pulumi", FAKE_PULUMI), ("gh", FAKE_GH)):
        if name in tools:
            (bin_dir / name).write_text(text.format(python=sys.executable))
            (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.jsonl"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(log),
        "FAKE_STACKS": json.dumps(
            [{"name": f"organization/trading-analytics-dev/{s}"} for s in existing]
        ),  # fmt: skip
        "FAKE_OUTPUTS": json.dumps(OUTPUTS),
        "FAKE_COMMENTS": json.dumps(comments or []),
        "GITHUB_REPOSITORY": "org/repo",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    }
    if up_fails:
        env["FAKE_UP_FAILS"] = "1"
    if select_fails:
        env["FAKE_SELECT_FAILS"] = "1"
    if "pulumi" not in tools:
        env["PATH"] = str(bin_dir)  # the stand-ins only: no real pulumi is asked
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--stacks-dir", str(stacks_dir or stacks)],
        cwd=tmp_path, env=env,
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def pulumi_calls(calls: list[dict[str, Any]]) -> list[list[str]]:
    return [call["argv"] for call in calls if call["tool"] == "pulumi"]


@needs_jq
def test_deploy_creates_the_copy_with_devs_settings_and_key_and_comments_its_outputs(
    tmp_path, stacks
):
    result, calls = run(tmp_path, stacks, "deploy", "42", "--comment")
    assert result.returncode == 0, result.stderr
    policy = str(ROOT / "policy")
    assert pulumi_calls(calls) == [
        ["--non-interactive", "stack", "select", "--create", "--secrets-provider", KMS,
         "dev-pr-42"],
        ["--non-interactive", "config", "set", "platform:environmentSuffix", "pr-42",
         "--stack", "dev-pr-42"],
        ["--non-interactive", "up", "--yes", "--skip-preview", "--stack", "dev-pr-42",
         "--policy-pack", policy],
        ["--non-interactive", "stack", "output", "--json", "--stack", "dev-pr-42"],
    ]  # fmt: skip
    assert {call["cwd"] for call in calls if call["tool"] == "pulumi"} == {str(stacks / "dev")}
    # The copy's stack file starts as dev's (the suffix is Pulumi's `config set` to add).
    copy = stacks / "dev" / "Pulumi.dev-pr-42.yaml"
    assert copy.read_text() == (ROOT / "stacks" / "dev" / "Pulumi.dev.yaml").read_text()
    post = [call for call in calls if call["tool"] == "gh"][-1]
    assert post["argv"][:4] == ["api", "-X", "POST", "repos/org/repo/issues/42/comments"]
    body = post["body"]
    assert body.startswith(f"{MARKER}\n### Pull-request environment `dev-pr-42`")
    assert "Deployed at `0123456789ab`" in body
    assert "| `lambda_function_name` | `dev-trading-processor-us-east-1-pr-42` |" in body
    assert '| `private_subnet_ids` | `["subnet-0a", "subnet-0b"]` |' in body
    assert "| `database_secret_arn` | `[secret]` |" in body


@needs_jq
def test_a_later_deploy_updates_the_bots_comment_and_no_one_elses(tmp_path, stacks):
    comments = [
        {"id": 5, "user": {"login": "someone"}, "body": f"{MARKER} imitation"},
        {"id": 6, "user": {"login": "github-actions[bot]"}, "body": "<!-- offline-preview -->"},
        {"id": 9, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nold"},
    ]
    result, calls = run(tmp_path, stacks, "deploy", "42", "--comment", existing=("dev-pr-42",),
                        comments=comments)  # fmt: skip
    assert result.returncode == 0, result.stderr
    post = [call for call in calls if call["tool"] == "gh"][-1]
    assert post["argv"][:4] == ["api", "-X", "PATCH", "repos/org/repo/issues/comments/9"]


@needs_jq
def test_destroy_removes_the_copy_and_its_stack(tmp_path, stacks):
    result, calls = run(
        tmp_path, stacks, "destroy", "42", "--comment", existing=("dev", "dev-pr-42")
    )
    assert result.returncode == 0, result.stderr
    assert pulumi_calls(calls) == [
        ["--non-interactive", "stack", "ls", "--json"],
        ["--non-interactive", "destroy", "--yes", "--skip-preview", "--stack", "dev-pr-42"],
        ["--non-interactive", "stack", "rm", "--yes", "dev-pr-42"],
    ]
    body = [call for call in calls if call["tool"] == "gh"][-1]["body"]
    assert "`dev-pr-42` destroyed and its stack removed." in body


def test_destroying_a_copy_that_was_never_deployed_touches_nothing(tmp_path, stacks):
    result, calls = run(tmp_path, stacks, "destroy", "43", existing=("dev",))
    assert result.returncode == 0, result.stderr
    assert pulumi_calls(calls) == [["--non-interactive", "stack", "ls", "--json"]]
    assert "not deployed: nothing to destroy" in result.stdout


def test_a_failed_deploy_fails_with_pulumis_message_and_posts_nothing(tmp_path, stacks):
    result, calls = run(tmp_path, stacks, "deploy", "42", "--comment", up_fails=True)
    assert result.returncode == 1
    assert "AccessDenied: not authorized to perform: s3:CreateBucket" in result.stderr
    assert [call for call in calls if call["tool"] == "gh"] == []


def test_a_pull_request_number_is_a_positive_integer(tmp_path, stacks):
    result, _ = run(tmp_path, stacks, "deploy", "0")
    assert result.returncode == 2 and "must be 1 or more" in result.stderr
    with pytest.raises(ValueError, match="must be 1 or more"):
        pull_request_suffix(0)


def test_the_copys_stack_file_renders_as_the_pull_requests_copy(stacks):
    """What the deploy writes, and Pulumi's `config set` adds, is a valid copy of dev."""
    path = stacks / "dev" / "Pulumi.dev-pr-42.yaml"
    text = (stacks / "dev" / "Pulumi.dev.yaml").read_text()
    path.write_text(text + "  platform:environmentSuffix: pr-42\n")
    assert read_yaml(path)["config"]["platform:environmentSuffix"] == "pr-42"
    shutil.copy(ROOT / "organisation.yaml", stacks.parent)
    copy = render_stack(stacks / "dev", stack="dev-pr-42")
    assert copy.outputs["lambda_function_name"] == "dev-trading-processor-us-east-1-pr-42"
    assert copy.one("aws:dynamodb/table:Table").inputs["name"].endswith("-pr-42")


def test_without_the_pulumi_cli_nothing_is_written_and_it_says_so(tmp_path, stacks):
    before = sorted(p.name for p in (stacks / "dev").iterdir())
    result, calls = run(tmp_path, stacks, "deploy", "42", tools=("gh",))
    assert result.returncode == 2
    assert result.stderr == (
        "error: the Pulumi CLI is not on PATH, so `deploy` of dev-pr-42 cannot run; install the "
        "version in .pulumi-version (https://www.pulumi.com/docs/install/), then run this again\n"
    )
    assert sorted(p.name for p in (stacks / "dev").iterdir()) == before  # no Pulumi.dev-pr-42
    assert calls == []


def test_a_stack_that_cannot_be_created_leaves_no_stack_file(tmp_path, stacks):
    result, calls = run(tmp_path, stacks, "deploy", "42", select_fails=True)
    assert result.returncode == 1
    assert "not authorized to perform: kms:Encrypt" in result.stderr
    assert not (stacks / "dev" / "Pulumi.dev-pr-42.yaml").exists()


def test_a_stacks_dir_without_devs_stack_file_is_a_usage_error(tmp_path, stacks):
    missing = tmp_path / "nonexistent"
    result, calls = run(tmp_path, stacks, "deploy", "42", stacks_dir=missing)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        f"--stacks-dir {missing}: no dev/Pulumi.dev.yaml there; allowed: the directory of the "
        "stack projects (stacks/ of this checkout)"
    ) in result.stderr
    assert calls == []
