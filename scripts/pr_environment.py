"""A pull request's own copy of dev, `dev-pr-<number>`: deployed while the pull request carries
the label `pr-environment`, destroyed when it is closed or loses the label
(.github/workflows/pr-environment.yml runs this with dev's deploy role).

    .venv/bin/python scripts/pr_environment.py deploy 42    # create or update dev-pr-42
    .venv/bin/python scripts/pr_environment.py destroy 42   # destroy it, remove its stack

`deploy` writes `stacks/dev/Pulumi.dev-pr-42.yaml` (dev's stack file, so the copy takes dev's
settings), selects the stack `dev-pr-42` in dev's state bucket (creating it with dev's KMS
secrets provider), sets `platform:environmentSuffix: pr-42` (every physical name then ends in
`-pr-42`), runs `pulumi up` with the policy pack, and posts the stack's outputs on the pull
request as one comment, updated in place by later deploys. `destroy` runs `pulumi destroy` and
`pulumi stack rm` when the stack exists, and says so in the same comment. With `--comment`
(CI) the comment is posted through `gh` on $GITHUB_REPOSITORY; otherwise it is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from select_stack import missing_tool  # beside this script: Python puts its directory on the path

from platform_core.naming import pull_request_suffix

ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = ROOT / "stacks"
POLICY_PACK = ROOT / "policy"
#: The environment whose copies pull requests get (its bootstrap sets pullRequestCopies).
ENVIRONMENT = "dev"
LABEL = "pr-environment"
MARKER = "<!-- pr-environment -->"
SUFFIX_KEY = "platform:environmentSuffix"
BOT = "github-actions[bot]"


class CommandError(Exception):
    """A `pulumi` or `gh` call failed; the message carries its output."""


def run(command: Sequence[str], cwd: Path | None = None, quiet: bool = False) -> str:
    result = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, check=False)
    if not quiet:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise CommandError(
            f"`{' '.join(command)}` failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    return result.stdout


def pulumi(*args: str, cwd: Path, quiet: bool = False) -> str:
    return run(["pulumi", "--non-interactive", *args], cwd, quiet)


def stack_name(number: int) -> str:
    return f"{ENVIRONMENT}-{pull_request_suffix(number)}"


def secrets_provider() -> str:
    """Dev's KMS secrets provider: the bootstrap's output, rendered offline (select_stack.py)."""
    from select_stack import secrets_provider as bootstrap_secrets_provider

    return bootstrap_secrets_provider(ENVIRONMENT)


def stack_exists(stack: str, cwd: Path) -> bool:
    listed = json.loads(pulumi("stack", "ls", "--json", cwd=cwd, quiet=True) or "[]")
    return any(str(entry["name"]).rsplit("/", 1)[-1] == stack for entry in listed)


def deploy(number: int, stacks_dir: Path) -> dict[str, object]:
    """Create or update the pull request's copy; return its outputs."""
    stack, cwd = stack_name(number), stacks_dir / ENVIRONMENT
    # Dev's settings, then the copy's suffix (Pulumi adds the secrets provider's lines).
    copy = cwd / f"Pulumi.{stack}.yaml"
    created = not copy.exists()
    shutil.copyfile(cwd / f"Pulumi.{ENVIRONMENT}.yaml", copy)
    try:
        pulumi("stack", "select", "--create", "--secrets-provider", secrets_provider(), stack,
               cwd=cwd)  # fmt: skip
    except BaseException:
        if created:  # no stack, so no stack file: leave the checkout as it was
            copy.unlink()
        raise
    pulumi("config", "set", SUFFIX_KEY, pull_request_suffix(number), "--stack", stack, cwd=cwd)
    pulumi("up", "--yes", "--skip-preview", "--stack", stack, "--policy-pack", str(POLICY_PACK),
           cwd=cwd)  # fmt: skip
    outputs = json.loads(pulumi("stack", "output", "--json", "--stack", stack, cwd=cwd) or "{}")
    return dict(outputs)


def destroy(number: int, stacks_dir: Path) -> bool:
    """Destroy the copy and remove its stack; False when there was none."""
    stack, cwd = stack_name(number), stacks_dir / ENVIRONMENT
    if not stack_exists(stack, cwd):
        return False
    pulumi("destroy", "--yes", "--skip-preview", "--stack", stack, cwd=cwd)
    pulumi("stack", "rm", "--yes", stack, cwd=cwd)
    return True


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    escaped = text.replace("|", "\\|").replace("`", "'")
    return f"`{escaped}`"


def deployed_comment(number: int, outputs: Mapping[str, object], revision: str) -> str:
    stack = stack_name(number)
    at = f" at `{revision[:12]}`" if revision else ""
    lines = [
        MARKER,
        f"### Pull-request environment `{stack}`",
        "",
        f"Deployed{at} in {ENVIRONMENT}'s account, with {ENVIRONMENT}'s settings: stack "
        f"`{stack}`, every name ending in `-{pull_request_suffix(number)}`. Each push deploys it "
        f"again; it is destroyed when this pull request is closed or loses the `{LABEL}` label.",
        "",
        "| output | value |",
        "|---|---|",
        *(f"| `{key}` | {_cell(value)} |" for key, value in sorted(outputs.items())),
    ]
    return "\n".join(lines) + "\n"


def destroyed_comment(number: int, existed: bool) -> str:
    stack = stack_name(number)
    what = "destroyed and its stack removed" if existed else "not deployed: nothing to destroy"
    return f"{MARKER}\n### Pull-request environment `{stack}`\n\n`{stack}` {what}.\n"


def post(number: int, body: str, repository: str) -> None:
    """Create the pull request's environment comment, or update the bot's earlier one."""
    path = Path(tempfile.mkdtemp(prefix="pr-environment-")) / "comment.md"
    path.write_text(body)
    comments = run(
        ["gh", "api", "--paginate", f"repos/{repository}/issues/{number}/comments", "--jq",
         f'.[] | select(.user.login == "{BOT}") | select(.body | startswith("{MARKER}")) | .id'],
        quiet=True,
    ).split()  # fmt: skip
    if comments:
        run(["gh", "api", "-X", "PATCH", f"repos/{repository}/issues/comments/{comments[0]}",
             "-F", f"body=@{path}"], quiet=True)  # fmt: skip
    else:
        run(["gh", "api", "-X", "POST", f"repos/{repository}/issues/{number}/comments",
             "-F", f"body=@{path}"], quiet=True)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/pr_environment.py",
        description=f"Deploy or destroy a pull request's copy of {ENVIRONMENT} "
        f"({ENVIRONMENT}-pr-<number>) and post its outputs on the pull request.",
    )
    parser.add_argument("action", choices=["deploy", "destroy"])
    parser.add_argument("number", type=int, help="the pull request's number")
    parser.add_argument(
        "--comment",
        action="store_true",
        help="post the result on the pull request with `gh` (needs $GITHUB_REPOSITORY and a "
        "token that may write pull requests)",
    )
    parser.add_argument(
        "--stacks-dir", type=Path, default=STACKS_DIR, help="where the stack projects are"
    )
    args = parser.parse_args(argv)
    if args.number < 1:
        parser.error(f"pull request number {args.number}: must be 1 or more")
    stack_file = args.stacks_dir / ENVIRONMENT / f"Pulumi.{ENVIRONMENT}.yaml"
    if not stack_file.is_file():
        parser.error(
            f"--stacks-dir {args.stacks_dir}: no {ENVIRONMENT}/Pulumi.{ENVIRONMENT}.yaml there; "
            "allowed: the directory of the stack projects (stacks/ of this checkout)"
        )
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if args.comment and not repository:
        parser.error("--comment needs $GITHUB_REPOSITORY (owner/name)")
    for tool, needed in (("pulumi", True), ("gh", args.comment)):
        missing = missing_tool(tool, f"`{args.action}` of {stack_name(args.number)}")
        if needed and missing:
            print(f"error: {missing}", file=sys.stderr)
            return 2
    try:
        if args.action == "deploy":
            outputs = deploy(args.number, args.stacks_dir)
            body = deployed_comment(args.number, outputs, os.environ.get("GITHUB_SHA", ""))
        else:
            body = destroyed_comment(args.number, destroy(args.number, args.stacks_dir))
        if args.comment:
            post(args.number, body, repository)
        print(body)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
