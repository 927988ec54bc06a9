"""The git side of the preview: which revision is the base, and a throwaway checkout of it.

The base is checked out with ``git worktree add --detach`` into a temporary directory and
removed afterwards: the user's checkout, index and branches are never touched (the worktree has
its own index; hooks are switched off for it).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from platform_core.errors import PlatformError

__all__ = [
    "DEFAULT_BRANCHES",
    "Base",
    "PreviewError",
    "base_worktree",
    "repository_root",
    "resolve_base",
]

#: The branch a change is measured against when no base is given, local first.
DEFAULT_BRANCHES: Final = ("main", "origin/main")


class PreviewError(PlatformError):
    """The preview cannot be made: no repository, an unknown base, a side that does not render."""


@dataclass(frozen=True)
class Base:
    """The revision the working tree is compared with."""

    commit: str
    #: How it was chosen, for the reader: ``HEAD~1``, ``merge base with main``.
    description: str

    @property
    def short(self) -> str:
        return self.commit[:12]


def _git(repository: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        reason = result.stderr.strip() or result.stdout.strip()
        raise PreviewError(f"git {' '.join(args)}: {reason}")
    return result.stdout.strip()


def repository_root(directory: Path) -> Path:
    """The top of the git checkout holding ``directory``."""
    if shutil.which("git") is None:
        raise PreviewError("git is not installed; the preview reads the base revision with it")
    try:
        return Path(_git(directory, "rev-parse", "--show-toplevel")).resolve()
    except PreviewError as error:
        raise PreviewError(f"{directory} is not inside a git checkout ({error})") from None


def _commit(repository: Path, revision: str) -> str | None:
    command = ["git", "-C", str(repository), "rev-parse", "--verify", "--quiet"]
    result = subprocess.run(
        [*command, f"{revision}^{{commit}}"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else None


def resolve_base(
    repository: Path, revision: str | None, branches: Sequence[str] = DEFAULT_BRANCHES
) -> Base:
    """``revision`` as a commit; by default the merge base of HEAD with the first of
    ``branches`` that exists (what a pull request into it would change)."""
    if revision is not None:
        commit = _commit(repository, revision)
        if commit is None:
            raise PreviewError(
                f"--base {revision}: no such commit in {repository} (a branch, tag or commit id; "
                "in a shallow clone, fetch it first)"
            )
        return Base(commit, revision)
    for branch in branches:
        if _commit(repository, branch) is None:
            continue
        merge_base = _git(repository, "merge-base", "HEAD", branch)
        return Base(merge_base, f"merge base with {branch}")
    raise PreviewError(
        f"none of the branches {', '.join(branches)} exists to compare with: pass --base REV"
    )


@contextlib.contextmanager
def base_worktree(repository: Path, base: Base) -> Iterator[Path]:
    """A detached checkout of ``base`` in a temporary directory, removed on exit."""
    holder = Path(tempfile.mkdtemp(prefix="offline-preview-"))
    checkout = holder / "base"
    try:
        _git(repository, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach",
             "--quiet", str(checkout), base.commit)  # fmt: skip
        yield checkout
    finally:
        try:
            _git(repository, "worktree", "remove", "--force", str(checkout))
        except PreviewError as error:
            print(f"warning: {error}; `git worktree prune` forgets it", file=sys.stderr)
        shutil.rmtree(holder, ignore_errors=True)
