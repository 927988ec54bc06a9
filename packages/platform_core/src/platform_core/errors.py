"""Failure modes of platform_core, one class each, raised before any resource is registered."""

from __future__ import annotations

__all__ = ["ArtifactError", "ConfigError", "PlatformError", "StackMismatchError"]


class PlatformError(Exception):
    """Base class: every error platform_core raises on purpose."""


class ConfigError(PlatformError):
    """One or more configuration values are invalid; the message lists each key, value and rule."""

    def __init__(self, environment: str, problems: list[str]) -> None:
        self.environment = environment
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid configuration for environment '{environment}':\n{lines}")


class StackMismatchError(PlatformError):
    """The selected Pulumi stack does not belong to this directory's environment (R-2)."""


class ArtifactError(PlatformError):
    """The Lambda deployment artifact cannot be built reproducibly."""
