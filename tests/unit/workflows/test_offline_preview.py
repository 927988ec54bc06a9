"""The offline preview's two workflows: one runs the pull request's code with no rights, the
other may comment and runs nothing of the pull request.

Besides their shape, their scripts are run: the comment step against a stand-in `gh` that
answers from canned API responses (filtered by the real `jq`, as `gh --jq` filters them) and
records what would be posted; the preview step against a stand-in `.venv/bin/python`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.repository import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
PREVIEW, COMMENT = "offline-preview.yml", "offline-preview-comment.yml"
MARKER = "<!-- offline-preview -->"
SHA = "0123456789abcdef0123456789abcdef01234567"


def load(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


def test_the_preview_runs_the_pull_requests_code_with_a_read_only_token_and_no_secrets():
    workflow = load(PREVIEW)
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target
    assert workflow["permissions"] == {"contents": "read"}
    text = (WORKFLOWS / PREVIEW).read_text()
    assert "secrets." not in text and "id-token" not in text
    [job] = workflow["jobs"].values()
    assert "permissions" not in job
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    # Credentials gone after checkout; the merge commit and its first parent (the base) fetched.
    assert checkout["with"] == {"persist-credentials": False, "fetch-depth": 2}


def test_the_preview_runs_on_changes_to_anything_it_renders_or_prices():
    paths = set(load(PREVIEW)["on"]["pull_request"]["paths"])
    assert {"stacks/**", "packages/**", "services/**", "costs/**", "poetry.lock"} <= paths


def test_the_preview_compares_with_the_merge_commits_first_parent_and_uploads_markdown():
    steps = load(PREVIEW)["jobs"]["preview"]["steps"]
    run = next(step["run"] for step in steps if step.get("id") == "preview")
    assert "-m platform_core.preview --base HEAD^1 --format markdown" in run
    upload = next(
        step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")
    )
    assert upload["with"]["name"] == "offline-preview"
    assert upload["with"]["path"] == "offline-preview/preview.md"
    comment_script = comment_step()["run"]
    assert "--name offline-preview" in comment_script


def comment_step() -> dict[str, Any]:
    [job] = load(COMMENT)["jobs"].values()
    [step] = job["steps"]
    return dict(step)


def test_the_comment_workflow_may_comment_but_never_checks_out_or_runs_the_pull_request():
    workflow = load(COMMENT)
    assert workflow["on"] == {
        "workflow_run": {"workflows": [load(PREVIEW)["name"]], "types": ["completed"]}
    }
    assert workflow["permissions"] == {}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    # Not a single action (no checkout), and the run's attacker-chosen fields (the fork's branch
    # name) reach the script only through environment variables, never spliced into it.
    assert all("uses" not in step for step in job["steps"])
    step = comment_step()
    assert "${{" not in step["run"]
    assert all(value.startswith("${{ github.") for value in step["env"].values())


# A stand-in for the GitHub CLI: `api` answers from canned JSON (through the real jq, as
# `gh --jq` does), `run download` copies a prepared artifact, writes are recorded.
FAKE_GH = r"""#!{python}
import json, os, shutil, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
def answer(payload):
    if "--jq" in args:
        jq = args[args.index("--jq") + 1]
        out = subprocess.run(["jq", "-r", jq], input=json.dumps(payload), capture_output=True,
                             text=True, check=True)
        sys.stdout.write(out.stdout)
    else:
        print(json.dumps(payload))
if args[:2] == ["run", "download"]:
    target = args[args.index("--dir") + 1]
    shutil.copytree(os.environ["FAKE_ARTIFACT"], target, symlinks=True, dirs_exist_ok=True)
elif "-F" in args:
    body = args[args.index("-F") + 1].removeprefix("body=@")
    with open(os.environ["FAKE_GH_POSTED"], "a") as posted:
        posted.write(json.dumps({"args": args, "body": open(body).read()}) + "\n")
    print("{}")
elif any(arg.endswith("/pulls") for arg in args):
    answer(json.loads(os.environ["FAKE_PULLS"]))
elif "--paginate" in args:
    answer(json.loads(os.environ["FAKE_COMMENTS"]))
"""


def run_comment_step(
    tmp_path: Path, pulls: list[Any], comments: list[Any], preview: str | None, link: bool = False
) -> tuple[subprocess.CompletedProcess[str], list[list[str]], list[dict[str, Any]]]:
    bin_dir, artifact, temp = tmp_path / "bin", tmp_path / "artifact", tmp_path / "runner-temp"
    for directory in (bin_dir, artifact, temp):
        directory.mkdir(parents=True)
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.replace("{python}", sys.executable))
    gh.chmod(0o755)
    if link:
        (tmp_path / "secret.txt").write_text("runner file")
        (artifact / "preview.md").symlink_to(tmp_path / "secret.txt")
    elif preview is not None:
        (artifact / "preview.md").write_text(preview)
    log, posted = tmp_path / "gh.log", tmp_path / "posted.log"
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(temp),
        "GH_TOKEN": "token",
        "REPOSITORY": "org/repo",
        "RUN_ID": "99",
        "HEAD_OWNER": "fork-owner",
        "HEAD_BRANCH": "feature/$(touch pwned)",
        "HEAD_SHA": SHA,
        "FAKE_GH_LOG": str(log),
        "FAKE_GH_POSTED": str(posted),
        "FAKE_ARTIFACT": str(artifact),
        "FAKE_PULLS": json.dumps(pulls),
        "FAKE_COMMENTS": json.dumps(comments),
    }
    result = subprocess.run(
        ["bash", "-c", comment_step()["run"]], cwd=tmp_path, env=environment,
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    posts = (
        [json.loads(line) for line in posted.read_text().splitlines()] if posted.exists() else []
    )
    return result, calls, posts


needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="the stand-in gh filters with jq")
PULLS = [{"number": 6, "head": {"sha": "f" * 40}}, {"number": 7, "head": {"sha": SHA}}]


@needs_jq
def test_the_preview_is_posted_on_the_pull_request_whose_head_is_the_runs_commit(tmp_path):
    result, calls, posts = run_comment_step(tmp_path, PULLS, [], "### Offline preview\n")
    assert result.returncode == 0, result.stderr
    lookup = calls[0]
    assert lookup[:4] == ["api", "-X", "GET", "repos/org/repo/pulls"]
    assert "head=fork-owner:feature/$(touch pwned)" in lookup  # passed as data, not run
    assert not (tmp_path / "pwned").exists()
    assert calls[1][:7] == [
        "run",
        "download",
        "99",
        "--repo",
        "org/repo",
        "--name",
        "offline-preview",
    ]
    [post] = posts
    assert post["args"][:4] == ["api", "-X", "POST", "repos/org/repo/issues/7/comments"]
    assert post["body"] == f"{MARKER}\n### Offline preview\n"


@needs_jq
def test_a_later_push_updates_the_bots_comment_and_no_one_elses(tmp_path):
    comments = [
        {"id": 11, "user": {"login": "someone"}, "body": f"{MARKER} imitation"},
        {"id": 12, "user": {"login": "github-actions[bot]"}, "body": "another bot comment"},
        {"id": 13, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nold preview"},
    ]
    result, _, posts = run_comment_step(tmp_path, PULLS, comments, "new preview\n")
    assert result.returncode == 0, result.stderr
    [post] = posts
    assert post["args"][:4] == ["api", "-X", "PATCH", "repos/org/repo/issues/comments/13"]
    assert post["body"] == f"{MARKER}\nnew preview\n"


@needs_jq
def test_a_run_whose_commit_no_open_pull_request_has_posts_nothing(tmp_path):
    result, calls, posts = run_comment_step(tmp_path, PULLS[:1], [], "stale\n")
    assert result.returncode == 0, result.stderr
    assert len(calls) == 1 and posts == []  # not even downloaded


@needs_jq
def test_the_artifact_is_only_text_cut_to_a_comments_size(tmp_path):
    huge = "é" * 50_000  # 100,000 bytes
    result, _, posts = run_comment_step(tmp_path, PULLS, [], huge)
    assert result.returncode == 0, result.stderr
    body = posts[0]["body"]
    assert len(body.encode()) <= len(MARKER) + 1 + 64_000
    assert body.startswith(MARKER) and set(body[len(MARKER) + 1 :]) == {"é"}
    linked, _, nothing = run_comment_step(tmp_path / "link", PULLS, [], None, link=True)
    assert linked.returncode == 1 and nothing == []


FAKE_PYTHON = """#!/bin/sh
echo "error: base abc cannot be rendered: it has no platform_core" >&2
exit 2
"""


def test_a_preview_that_cannot_be_made_still_uploads_what_went_wrong(tmp_path):
    steps = load(PREVIEW)["jobs"]["preview"]["steps"]
    script = next(step["run"] for step in steps if step.get("id") == "preview")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    output, summary = tmp_path / "output", tmp_path / "summary"
    environment = {**os.environ, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=environment, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr  # the later step fails the job, after upload
    assert output.read_text() == "status=2\n"
    preview = (tmp_path / "offline-preview" / "preview.md").read_text()
    assert "The preview could not be made:" in preview
    assert "it has no platform_core" in preview
    assert summary.read_text() == preview
    fail = next(s for s in steps if s.get("if") == "steps.preview.outputs.status != '0'")
    assert re.search(r"exit 1", fail["run"])
