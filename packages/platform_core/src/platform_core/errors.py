"""Failure modes of platform_core, one class each, raised before any resource is registered.

They derive from ``pulumi.RunError``: the Pulumi CLI prints such an error's message alone,
without a Python stack trace, so a bad setting reads the same in ``pulumi preview`` as in the
tools and tests of this repository.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

__all__ = [
    "ArtifactError",
    "ConfigError",
    "PlatformError",
    "StackFileError",
    "StackMismatchError",
    "with_notes",
]


class PlatformError(pulumi.RunError):
    """Base class: every error platform_core raises on purpose."""


class ConfigError(PlatformError):
    """One or more configuration values are invalid; the message lists each key, value and rule."""

    def __init__(self, subject: str, problems: Sequence[str]) -> None:
        self.subject = subject
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid configuration for {subject}:\n{lines}")


def with_notes(error: ConfigError, notes: Mapping[str, str]) -> ConfigError:
    """``error`` with each problem of a key that has a note followed by it (in parentheses)."""
    problems = [
        f"{problem} ({notes[problem.split(' ', 1)[0]]})"
        if problem.split(" ", 1)[0] in notes
        else problem
        for problem in error.problems
    ]
    return ConfigError(error.subject, problems)


class StackFileError(PlatformError, ValueError):
    """A YAML file (stack, project, organisation, cost file) cannot be read as the Pulumi CLI
    reads it: the message names the file and the line. A ``ValueError`` too, for callers that
    treat any unreadable value alike."""


class StackMismatchError(PlatformError):
    """The selected Pulumi stack does not belong to this directory's environment."""


class ArtifactError(PlatformError):
    """The Lambda deployment artifact cannot be built reproducibly."""
