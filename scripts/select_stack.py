"""Select an environment's stack, creating it with the environment's KMS secrets provider if it
does not exist yet, so that no first run needs a manual `pulumi stack init`.

    .venv/bin/python scripts/select_stack.py dev               # before `pulumi up` (CI: deploy)
    .venv/bin/python scripts/select_stack.py dev --preview     # CI: pull-request previews

The stack `<env>` of `stacks/<env>` lives in the environment's state bucket (its Pulumi.yaml's
backend) and encrypts its secrets with the environment's KMS key: the bootstrap's
`secrets_provider` output, computed here from the bootstrap program itself, offline.

A preview's role may read the state and take locks but not create a stack. When the stack does
not exist yet, `--preview` creates it in an empty local state instead, so the preview shows the
whole environment as new and still runs the policy pack; the `PULUMI_BACKEND_URL` that points
there is written to `$GITHUB_ENV` for the following steps (or printed, outside GitHub Actions).
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

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP_DIR = ROOT / "bootstrap"
STACKS_DIR = ROOT / "stacks"
PREVIEW_STATE_DIR = "pulumi-preview-state"


#: What each command-line tool the scripts run is, and how to get it.
TOOLS = {
    "pulumi": (
        "the Pulumi CLI",
        "install the version in .pulumi-version (https://www.pulumi.com/docs/install/)",
    ),
    "gh": ("the GitHub CLI (gh)", "install it (https://cli.github.com/) and log in"),
}


class SelectStackError(Exception):
    """A Pulumi command failed; the message carries its output."""


def missing_tool(name: str, needed_for: str) -> str | None:
    """Why ``name`` cannot run (it is not on PATH), in one sentence; None when it is there."""
    if shutil.which(name) is not None:
        return None
    what, remedy = TOOLS[name]
    return f"{what} is not on PATH, so {needed_for} cannot run; {remedy}, then run this again"


def secrets_provider(environment: str) -> str:
    """The bootstrap's `secrets_provider` output for `environment`, rendered offline."""
    for path in (ROOT, BOOTSTRAP_DIR):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))  # as the Pulumi language host puts the program's dir
    from platform_core.offline import RenderError, render_stack

    try:
        rendered = render_stack(BOOTSTRAP_DIR, stack=environment)
    except RenderError as error:
        raise SelectStackError(
            f"bootstrap/Pulumi.{environment}.yaml does not give a secrets provider: {error}"
        ) from error
    return str(rendered.outputs["secrets_provider"])


def pulumi(args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    command = ["pulumi", "--non-interactive", *args]
    result = subprocess.run(
        command, cwd=cwd, env=None if env is None else dict(env),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SelectStackError(
            f"`{' '.join(command)}` in {cwd} failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def stack_exists(environment: str, cwd: Path) -> bool:
    """Whether the project's backend has the stack (names may be `organization/<project>/`…)."""
    listed = json.loads(pulumi(["stack", "ls", "--json"], cwd) or "[]")
    return any(str(entry["name"]).rsplit("/", 1)[-1] == environment for entry in listed)


def select_or_create(environment: str, cwd: Path, env: Mapping[str, str] | None = None) -> None:
    provider = secrets_provider(environment)
    pulumi(["stack", "select", "--create", "--secrets-provider", provider, environment], cwd, env)


def publish(name: str, value: str) -> None:
    """Hand a variable to the job's next steps (GitHub Actions), or show how to set it."""
    github_env = os.environ.get("GITHUB_ENV")
    if github_env:
        with Path(github_env).open("a", encoding="utf-8") as variables:
            variables.write(f"{name}={value}\n")
    else:
        print(f"export {name}={value}")


def select_for_preview(environment: str, cwd: Path) -> None:
    if stack_exists(environment, cwd):
        pulumi(["stack", "select", environment], cwd)
        return
    temp = os.environ.get("RUNNER_TEMP") or tempfile.mkdtemp(prefix="pulumi-")
    state = Path(temp) / PREVIEW_STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    backend = state.as_uri()
    select_or_create(environment, cwd, {**os.environ, "PULUMI_BACKEND_URL": backend})
    publish("PULUMI_BACKEND_URL", backend)
    print(
        f"::notice::Stack {environment} does not exist yet (its first deploy creates it): "
        "previewing it against an empty state, so everything shows as new."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Select stacks/<env>'s stack, creating it with the environment's KMS "
        "secrets provider when it does not exist yet."
    )
    parser.add_argument("environment", help="the directory under stacks/ and the stack name")
    parser.add_argument(
        "--preview",
        action="store_true",
        help="for a preview that may not write the state: a missing stack is created in an "
        "empty local state instead of the environment's state bucket",
    )
    args = parser.parse_args(argv)
    cwd = STACKS_DIR / args.environment
    if not (cwd / "Pulumi.yaml").is_file():
        known = sorted(p.name for p in STACKS_DIR.iterdir() if (p / "Pulumi.yaml").is_file())
        parser.error(f"no stack directory stacks/{args.environment}: allowed are {known}")
    missing = missing_tool("pulumi", f"the selection of stack {args.environment}")
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    try:
        if args.preview:
            select_for_preview(args.environment, cwd)
        else:
            select_or_create(args.environment, cwd)
    except SelectStackError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
