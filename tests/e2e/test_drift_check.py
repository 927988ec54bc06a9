"""The drift check (`scripts/drift.py`), run as the scheduled workflow runs it, against a
stand-in `pulumi` (which answers `stack ls` and the refresh preview as the test chooses, with
the Pulumi CLI's own messages and exit statuses) and a stand-in `gh` (which answers the issue
list and records every other call, with the body it would post)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "drift.py"

FAKE_PULUMI = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({{"tool": "pulumi", "argv": args, "cwd": os.getcwd()}}) + "\\n")
if args[1:3] == ["stack", "ls"]:
    print(os.environ["FAKE_STACKS"])
elif args[1] == "preview":
    sys.stdout.write(open(os.environ["FAKE_PREVIEW_OUT"]).read())
    sys.exit(int(os.environ["FAKE_PREVIEW_STATUS"]))
"""
FAKE_GH = """#!{python}
import json, os, sys
args = sys.argv[1:]
body = None
if "--body-file" in args:
    body = open(args[args.index("--body-file") + 1]).read()
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({{"tool": "gh", "argv": args, "body": body}}) + "\\n")
if args[:2] == ["issue", "list"]:
    print(os.environ["FAKE_ISSUES"])
elif args[:2] == ["issue", "create"]:
    print("https://github.com/org/repo/issues/12")
"""
DRIFTED = """Previewing update (dev):
 ~  aws:lambda/function:Function trading-analytics-processor-function update [diff: ~memorySize]
    - memorySize: 512
    + memorySize: 1024
Resources:
    ~ 1 to update
    40 unchanged
error: no changes were expected for preview but changes were proposed
"""
CLEAN = "Previewing update (dev):\nResources:\n    41 unchanged\n"
LOCKED = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) "
    "to end or delete the lock file with `pulumi cancel`.\n"
)
DENIED = "error: AccessDenied: not authorized to perform: lambda:GetFunction\n"
OPEN_ISSUE = [{"number": 7, "title": "Drift in dev"}, {"number": 3, "title": "Drift in staging"}]


def run(
    tmp_path: Path,
    *,
    preview: tuple[int, str] = (0, CLEAN),
    stacks: tuple[str, ...] = ("dev",),
    issues: list[dict[str, Any]] | None = None,
    args: tuple[str, ...] = ("dev", "--issue"),
    tools: tuple[str, ...] = ("pulumi", "gh"),
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("pulumi", FAKE_PULUMI), ("gh", FAKE_GH)):
        if name in tools:
            (bin_dir / name).write_text(text.format(python=sys.executable))
            (bin_dir / name).chmod(0o755)
    log, output = tmp_path / "calls.jsonl", tmp_path / "preview-output.txt"
    output.write_text(preview[1])
    env = {
        **os.environ,
        "PATH": str(bin_dir),  # the stand-ins only: no real pulumi or gh is asked
        "FAKE_LOG": str(log),
        "FAKE_STACKS": json.dumps(
            [{"name": f"organization/trading-analytics-dev/{s}"} for s in stacks]
        ),
        "FAKE_PREVIEW_STATUS": str(preview[0]),
        "FAKE_PREVIEW_OUT": str(output),
        "FAKE_ISSUES": json.dumps(issues or []),
        "GITHUB_REPOSITORY": "org/repo",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "42",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=tmp_path, env=env, capture_output=True,
        text=True, check=False, timeout=120,
    )  # fmt: skip
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def gh_calls(calls: list[dict[str, Any]]) -> list[list[str]]:
    return [call["argv"][:2] for call in calls if call["tool"] == "gh"]


def test_the_check_is_a_refresh_preview_expecting_no_changes_in_the_stacks_directory(tmp_path):
    result, calls = run(tmp_path, args=("dev",))
    assert result.returncode == 0, result.stderr
    pulumi = [call for call in calls if call["tool"] == "pulumi"]
    assert [call["cwd"] for call in pulumi] == [str(ROOT / "stacks" / "dev")] * 2
    assert pulumi[1]["argv"] == [
        "--non-interactive", "preview", "--stack", "dev", "--refresh", "--expect-no-changes",
        "--diff", "--color", "never",
    ]  # fmt: skip
    assert "No drift in **dev**" in result.stdout
    assert gh_calls(calls) == []  # without --issue, GitHub is not asked


@pytest.mark.parametrize("status", [7, 255])  # the CLI's status for it, or an older CLI's
def test_drift_fails_the_job_and_opens_an_issue_with_the_changes(tmp_path, status):
    result, calls = run(tmp_path, preview=(status, DRIFTED))
    assert result.returncode == 1, result.stderr
    assert gh_calls(calls) == [["issue", "list"], ["label", "create"], ["issue", "create"]]
    create = calls[-1]
    argv = create["argv"]
    assert argv[argv.index("--title") + 1] == "Drift in dev"
    assert argv[argv.index("--label") + 1] == "drift"
    assert "**dev has drifted**" in create["body"]
    assert "+ memorySize: 1024" in create["body"]
    assert "(https://github.com/org/repo/actions/runs/42)" in create["body"]
    assert create["body"] in (tmp_path / "summary.md").read_text()


def test_drift_again_comments_on_the_open_issue(tmp_path):
    result, calls = run(tmp_path, preview=(7, DRIFTED), issues=OPEN_ISSUE)
    assert result.returncode == 1
    assert gh_calls(calls) == [["issue", "list"], ["issue", "comment"]]
    assert calls[-1]["argv"][2] == "7" and "has drifted" in calls[-1]["body"]


def test_a_clean_check_closes_the_open_issue(tmp_path):
    result, calls = run(tmp_path, issues=OPEN_ISSUE)
    assert result.returncode == 0
    assert gh_calls(calls) == [["issue", "list"], ["issue", "comment"], ["issue", "close"]]
    assert calls[-1]["argv"][2] == "7"
    assert "No drift in **dev**" in calls[-2]["body"]


def test_a_clean_check_with_no_issue_posts_nothing(tmp_path):
    result, calls = run(tmp_path, issues=[{"number": 3, "title": "Drift in staging"}])
    assert result.returncode == 0
    assert gh_calls(calls) == [["issue", "list"]]


@pytest.mark.parametrize(
    ("preview", "stacks"), [((255, LOCKED), ("dev",)), ((0, CLEAN), ("staging",))],
    ids=["a deploy holds the lock", "not deployed yet"],
)  # fmt: skip
def test_nothing_to_compare_passes_quietly(tmp_path, preview, stacks):
    result, calls = run(tmp_path, preview=preview, stacks=stacks)
    assert result.returncode == 0, result.stderr
    assert gh_calls(calls) == [["issue", "list"]]
    if stacks == ("staging",):  # never previewed
        assert [c["argv"][1] for c in calls if c["tool"] == "pulumi"] == ["stack"]


def test_a_check_that_cannot_run_fails_and_says_so_in_the_issue(tmp_path):
    result, calls = run(tmp_path, preview=(1, DENIED))
    assert result.returncode == 2
    assert gh_calls(calls)[-1] == ["issue", "create"]
    assert "could not run" in calls[-1]["body"] and "AccessDenied" in calls[-1]["body"]


def test_a_huge_output_is_cut_to_an_issues_size(tmp_path):
    huge = "x" * 200_000 + "\n" + DRIFTED
    result, calls = run(tmp_path, preview=(7, huge))
    assert result.returncode == 1
    body = calls[-1]["body"]
    assert len(body) < 65_536
    assert body.rstrip().endswith("</details>") and "but changes were proposed" in body


def test_an_unknown_environment_is_a_usage_error(tmp_path):
    result, calls = run(tmp_path, args=("qa",))
    assert result.returncode == 2
    assert "no stack directory stacks/qa" in result.stderr
    assert calls == []


def test_without_the_pulumi_cli_the_check_could_not_run(tmp_path):
    """Exit 1 would claim drift: a check that cannot run is 2, says why, and opens the issue."""
    result, calls = run(tmp_path, tools=("gh",))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        "error: the drift check of dev could not run: the Pulumi CLI is not on PATH, so the "
        "drift check cannot run; install the version in .pulumi-version "
        "(https://www.pulumi.com/docs/install/), then run this again\n"
    )
    assert "**The drift check of dev could not run**" in result.stdout
    assert gh_calls(calls)[-1] == ["issue", "create"]
    assert "the Pulumi CLI is not on PATH" in calls[-1]["body"]


def test_without_gh_an_issue_cannot_be_kept_and_it_says_so(tmp_path):
    result, calls = run(tmp_path, tools=("pulumi",))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: the GitHub CLI (gh) is not on PATH, so the drift issue's update cannot run;"
    )
    assert calls == []


def test_a_report_in_a_missing_directory_is_a_usage_error(tmp_path):
    result, calls = run(tmp_path, args=("dev", "--report", str(tmp_path / "no" / "r.md")))
    assert result.returncode == 2
    assert f"--report {tmp_path / 'no' / 'r.md'}: {tmp_path / 'no'} is not a directory" in (
        result.stderr
    )
    assert calls == []
