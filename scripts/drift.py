"""The drift check of one environment: does AWS still hold what the stack's state says?

`pulumi preview --refresh --expect-no-changes` reads every resource of the stack back from AWS
and fails when anything differs from the state: a change made outside Pulumi (the console, a
script, AWS itself). This runs it in `stacks/<env>` and writes a Markdown report; with
`--issue` it also keeps one GitHub issue per environment current (through the `gh` CLI, on the
repository in $GITHUB_REPOSITORY): opened on the first drift, commented on each later one, and
closed with a comment once a check finds none.

    .venv/bin/python scripts/drift.py dev                         # check, print the report
    .venv/bin/python scripts/drift.py dev --issue --report drift.md   # the scheduled workflow

Exit status: 0 when nothing drifted (or the stack is not deployed yet, or a deploy holds its
lock: nothing to compare now); 1 on drift; 2 when the check itself failed (credentials, …),
which also opens or updates the issue, so a broken check does not pass unnoticed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from select_stack import missing_tool  # beside this script: Python puts its directory on the path

ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = ROOT / "stacks"
LABEL = "drift"
LABEL_COLOUR = "d93f0b"
#: How the Pulumi CLI says that --expect-no-changes found some: its exit status (3.226 and
#: later), and its message (`no changes were expected for preview but changes were proposed`).
NO_CHANGES_EXPECTED_STATUS = 7
PROPOSED_CHANGES = re.compile(r"no changes were expected (?:for \w+ )?but changes were proposed")
LOCKED = "the stack is currently locked"
OUTPUT_LIMIT = 60_000  # characters of Pulumi's output in an issue (GitHub allows 65,536)


class Outcome(Enum):
    CLEAN = "clean"
    DRIFT = "drift"
    FAILED = "failed"
    LOCKED = "locked"
    NOT_DEPLOYED = "not deployed"


@dataclass(frozen=True)
class Check:
    environment: str
    outcome: Outcome
    output: str

    @property
    def exit_status(self) -> int:
        return {Outcome.DRIFT: 1, Outcome.FAILED: 2}.get(self.outcome, 0)


def run(command: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, check=False)


def check(environment: str, stacks_dir: Path = STACKS_DIR) -> Check:
    """Run the refresh preview of ``environment``'s stack and say what it found."""
    cwd = stacks_dir / environment
    missing = missing_tool("pulumi", "the drift check")
    if missing:
        return Check(environment, Outcome.FAILED, missing)
    listed = run(["pulumi", "--non-interactive", "stack", "ls", "--json"], cwd)
    if listed.returncode != 0:
        return Check(environment, Outcome.FAILED, listed.stdout + listed.stderr)
    names = [str(entry["name"]).rsplit("/", 1)[-1] for entry in json.loads(listed.stdout or "[]")]
    if environment not in names:
        return Check(environment, Outcome.NOT_DEPLOYED, "")
    preview = run(
        ["pulumi", "--non-interactive", "preview", "--stack", environment, "--refresh",
         "--expect-no-changes", "--diff", "--color", "never"],
        cwd,
    )  # fmt: skip
    output = preview.stdout + preview.stderr
    if preview.returncode == 0:
        return Check(environment, Outcome.CLEAN, output)
    if preview.returncode == NO_CHANGES_EXPECTED_STATUS or PROPOSED_CHANGES.search(output):
        return Check(environment, Outcome.DRIFT, output)
    if LOCKED in output:
        return Check(environment, Outcome.LOCKED, output)
    return Check(environment, Outcome.FAILED, output)


def _run_link() -> str:
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    run_id = os.environ.get("GITHUB_RUN_ID")
    if server and repository and run_id:
        return f" ([run]({server}/{repository}/actions/runs/{run_id}))"
    return ""


def report(result: Check, now: datetime | None = None) -> str:
    """The Markdown an issue (and the job's summary) shows."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    env = result.environment
    command = f"`pulumi preview --refresh --expect-no-changes` of stack `{env}`"
    lead = {
        Outcome.CLEAN: f"No drift in **{env}**: {command} found no change on {when}.",
        Outcome.DRIFT: f"**{env} has drifted**: {command} found changes on {when}: what AWS "
        "holds no longer matches the stack's state.",
        Outcome.FAILED: f"**The drift check of {env} could not run** on {when}: {command} "
        "failed (its output is below).",
        Outcome.LOCKED: f"No drift check of {env} on {when}: a deploy holds the stack's lock.",
        Outcome.NOT_DEPLOYED: f"No drift check of {env} on {when}: its stack is not deployed.",
    }[result.outcome]
    lines = [f"## Drift check: {env}", "", lead + _run_link(), ""]
    if result.outcome is Outcome.DRIFT:
        lines += [
            "What to do: read the changes below. A change that should stay belongs in the code "
            "(the stack file or `platform_core`), deployed as usual; anything else is undone by "
            f"deploying `{env}` from main (`pulumi up`), which puts back what the code says. "
            "`pulumi refresh` would instead take AWS's values into the state, and the next "
            "deploy would undo them again unless the code changes too.",
            "",
        ]
    if result.output:
        shown = result.output[-OUTPUT_LIMIT:]
        cut = " (its end)" if len(result.output) > OUTPUT_LIMIT else ""
        lines += [
            f"<details><summary>Pulumi's output{cut}</summary>",
            "",
            "```",
            shown.replace("```", "'''").rstrip(),
            "```",
            "</details>",
            "",
        ]
    return "\n".join(lines)


class GitHubError(Exception):
    """A `gh` call failed."""


def gh(*args: str) -> str:
    result = run(["gh", *args])
    if result.returncode != 0:
        raise GitHubError(f"`gh {' '.join(args[:3])} …` failed: {result.stderr.strip()}")
    return result.stdout


def title(environment: str) -> str:
    return f"Drift in {environment}"


def update_issue(result: Check, body_file: Path, repository: str) -> str:
    """Open, comment on or close the environment's drift issue; say what was done."""
    listed = gh("issue", "list", "--repo", repository, "--label", LABEL, "--state", "open",
                "--json", "number,title", "--limit", "100")  # fmt: skip
    wanted = title(result.environment)
    issues = [issue["number"] for issue in json.loads(listed or "[]") if issue["title"] == wanted]
    if result.outcome is Outcome.CLEAN:
        if not issues:
            return "no open drift issue"
        number = str(issues[0])
        gh("issue", "comment", number, "--repo", repository, "--body-file", str(body_file))
        gh("issue", "close", number, "--repo", repository, "--reason", "completed")
        return f"closed issue #{number}"
    if result.outcome not in (Outcome.DRIFT, Outcome.FAILED):
        return "nothing to report"
    if issues:
        number = str(issues[0])
        gh("issue", "comment", number, "--repo", repository, "--body-file", str(body_file))
        return f"commented on issue #{number}"
    gh("label", "create", LABEL, "--repo", repository, "--color", LABEL_COLOUR, "--force",
       "--description", "What is deployed no longer matches a stack's state")  # fmt: skip
    created = gh("issue", "create", "--repo", repository, "--title", title(result.environment),
                 "--label", LABEL, "--body-file", str(body_file))  # fmt: skip
    return f"opened {created.strip()}"


def main(argv: Sequence[str] | None = None, stacks_dir: Path = STACKS_DIR) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/drift.py",
        description="Run `pulumi preview --refresh --expect-no-changes` on an environment's "
        "stack and report what drifted; exit 1 on drift, 2 when the check could not run.",
    )
    parser.add_argument("environment", help="the directory under stacks/ and the stack name")
    parser.add_argument("--report", type=Path, help="also write the Markdown report here")
    parser.add_argument(
        "--issue",
        action="store_true",
        help="open, update or close the environment's drift issue with `gh` (needs "
        "$GITHUB_REPOSITORY and a token that may write issues)",
    )
    args = parser.parse_args(argv)
    if not (stacks_dir / args.environment / "Pulumi.yaml").is_file():
        parser.error(f"no stack directory stacks/{args.environment}")
    if args.report is not None and not args.report.parent.is_dir():
        parser.error(f"--report {args.report}: {args.report.parent} is not a directory")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if args.issue:
        if not repository:
            parser.error("--issue needs $GITHUB_REPOSITORY (owner/name)")
        missing = missing_tool("gh", "the drift issue's update")
        if missing:
            print(f"error: {missing}", file=sys.stderr)
            return 2
    result = check(args.environment, stacks_dir)
    if result.outcome is Outcome.FAILED:  # besides the report: stderr says why, in one line
        reason = (result.output.strip().splitlines() or ["no output"])[-1]
        print(f"error: the drift check of {args.environment} could not run: {reason}",
              file=sys.stderr)  # fmt: skip
    text = report(result)
    sys.stdout.write(text + "\n")
    body = args.report or Path(tempfile.mkdtemp(prefix="drift-")) / "report.md"
    body.write_text(text + "\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as out:
            out.write(text + "\n")
    if args.issue:
        try:
            print(update_issue(result, body, repository))
        except GitHubError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
