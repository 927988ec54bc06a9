"""Offline preview: what the working tree changes in each environment, against a base revision.

Both sides are rendered under Pulumi's mock engine with no credentials and no Pulumi CLI: the
working tree as it is (uncommitted edits included), the base from a temporary checkout with its
own code. The default base is where the current branch left main (`git merge-base HEAD main`,
or origin/main): what a pull request would change; on main itself, the uncommitted edits.

Exit status: 0 when the preview is made, with or without changes; 1 with --exit-code when an
environment changes; 2 when it cannot be made (unknown revision, an environment that does not
render, a malformed cost file).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from platform_core.costs import (
    CostInputError,
    CostInputs,
    Estimate,
    environment_profiles,
    estimate_stack,
    load_inputs,
)
from platform_core.costs.inputs import COSTS_DIR_NAME
from platform_core.environments import REPO_ROOT
from platform_core.offline import RenderedStack
from platform_core.preview.diff import EnvironmentDiff, Status, diff_environment, secure_values
from platform_core.preview.git import (
    Base,
    PreviewError,
    base_worktree,
    repository_root,
    resolve_base,
)
from platform_core.preview.output import Header, markdown, text
from platform_core.preview.render import (
    Side,
    SideResult,
    environments_of,
    render_sides,
    seed_wheels,
)
from platform_core.stack_files import read_stack_config

__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "CostBasis", "Preview", "main", "preview"]

EXIT_OK: Final = 0
EXIT_CHANGES: Final = 1
EXIT_ERROR: Final = 2
COMMAND: Final = "python -m platform_core.preview"
WORKING_TREE: Final = "the working tree"


@dataclass(frozen=True)
class Preview:
    """The diffs of every environment, and why the cost estimate could not be made (if so)."""

    header: Header
    diffs: Sequence[EnvironmentDiff]
    cost_error: str | None

    @property
    def failed(self) -> bool:
        return self.cost_error is not None or any(d.status is Status.FAILED for d in self.diffs)

    @property
    def changed(self) -> bool:
        return any(d.status is not Status.UNCHANGED for d in self.diffs)


def _select(wanted: Sequence[str], working: Sequence[str], base: Sequence[str]) -> list[str]:
    known = list(dict.fromkeys([*working, *base]))
    unknown = [environment for environment in wanted if environment not in known]
    if unknown:
        raise PreviewError(
            f"--environment {', '.join(unknown)}: no such environment on either side; "
            f"environments: {', '.join(known) or 'none'}"
        )
    return [environment for environment in known if not wanted or environment in wanted]


def _secrets(side: Side, environment: str) -> set[str]:
    """The ciphertexts in the environment's stack file on this side (which `environments_of`
    has parsed already)."""
    directory = side.root / "stacks" / environment
    if not (directory / f"Pulumi.{environment}.yaml").is_file():
        return set()
    return secure_values(read_stack_config(directory, environment))


class CostBasis:
    """Both sides priced with the working tree's price sheet and usage, so a difference in cost
    is what the change to the infrastructure costs."""

    def __init__(self, repository: Path, profiles: Mapping[str, str]) -> None:
        self.profiles = profiles
        self.inputs: CostInputs | None = None
        self.error: str | None = None
        self.note = f"not estimated: {repository.name} has no {COSTS_DIR_NAME}/ directory"
        if not (repository / COSTS_DIR_NAME).is_dir():
            return
        try:
            self.inputs = load_inputs(repository)
        except CostInputError as error:
            self.error = self.note = f"not estimated: {error}"
        else:
            self.note = (
                f"estimated from {COSTS_DIR_NAME}/usage.yaml and {COSTS_DIR_NAME}/prices.yaml "
                f"(prices checked {self.inputs.prices.checked_on}), both sides alike"
            )

    def of(self, stack: RenderedStack | None, environment: str) -> Estimate | None:
        if stack is None or self.inputs is None:
            return None
        try:
            return estimate_stack(stack, environment, self.profiles.get(environment), self.inputs)
        except CostInputError as error:
            self.error = self.note = f"not estimated: {error}"
            self.inputs = None
            return None


def _diff(
    environment: str,
    results: tuple[SideResult, SideResult],
    secrets: set[str],
    key: bytes,
    costs: CostBasis,
) -> EnvironmentDiff:
    base, working = results
    for result in (base, working):
        if environment in result.errors:
            return EnvironmentDiff(
                environment,
                Status.FAILED,
                error=f"{result.side.label}: {result.errors[environment]}",
            )
    before, after = base.stacks.get(environment), working.stacks.get(environment)
    diff = diff_environment(environment, before, after, secrets, key)
    return EnvironmentDiff(
        environment,
        diff.status,
        diff.resources,
        diff.outputs,
        costs.of(before, environment),
        costs.of(after, environment),
    )


def preview(repository: Path, base: Base, wanted: Sequence[str] = ()) -> Preview:
    """Render both sides of every (or each ``wanted``) environment and compare them."""
    key = os.urandom(32)
    working = Side(repository, WORKING_TREE)
    with base_worktree(repository, base) as checkout:
        base_side = Side(checkout, f"base {base.short} ({base.description})")
        seed_wheels(repository, checkout)
        on_base, on_working = environments_of(base_side), environments_of(working)
        selected = _select(wanted, on_working, on_base)
        results = render_sides(
            [
                (base_side, [env for env in selected if env in on_base]),
                (working, [env for env in selected if env in on_working]),
            ],
            key,
            exclude=[REPO_ROOT, repository],
        )
        secrets = {env: _secrets(base_side, env) | _secrets(working, env) for env in selected}
        profiles = {
            **environment_profiles(checkout / "stacks", [e for e in selected if e in on_base]),
            **environment_profiles(repository / "stacks", [e for e in selected if e in on_working]),
        }
    costs = CostBasis(repository, profiles)
    pair = (results[0], results[1])
    diffs = [_diff(env, pair, secrets[env], key, costs) for env in selected]
    header = Header(
        base=f"{base.short} ({base.description})", working=WORKING_TREE, costs=costs.note
    )
    return Preview(header, diffs, costs.error)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--base",
        metavar="REV",
        help="the revision to compare with (a branch, tag or commit); default: the merge base of "
        "HEAD with main (or origin/main)",
    )
    parser.add_argument(
        "--environment",
        metavar="ENV",
        action="append",
        default=[],
        help="preview only this environment (repeatable); default: every environment of stacks/ "
        "on either side",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text for a terminal (default), markdown for a pull-request comment",
    )
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when an environment changes (as `git diff --exit-code`)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        repository = repository_root(Path.cwd())
        base = resolve_base(repository, args.base)
        result = preview(repository, base, args.environment)
    except PreviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    render = markdown if args.format == "markdown" else text
    sys.stdout.write(render(result.header, result.diffs))
    if result.failed:
        return EXIT_ERROR
    return EXIT_CHANGES if args.exit_code and result.changed else EXIT_OK
