"""Offline preview: what a change does to every environment, with no credentials and no CLI.

    python -m platform_core.preview [--base REV] [--environment ENV] [--format text|markdown]

Each environment is rendered at the base revision, with that revision's own code, and at the
working tree, under Pulumi's mock engine; the preview lists the resources created, deleted and
updated (each changed property with its old and new value, secrets masked), the stack outputs
that change, and how the monthly cost estimate moves.
"""

from __future__ import annotations

from platform_core.preview.cli import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, main, preview
from platform_core.preview.diff import Action, Change, EnvironmentDiff, ResourceDiff, Status
from platform_core.preview.git import Base, PreviewError

__all__ = [
    "EXIT_CHANGES",
    "EXIT_ERROR",
    "EXIT_OK",
    "Action",
    "Base",
    "Change",
    "EnvironmentDiff",
    "PreviewError",
    "ResourceDiff",
    "Status",
    "main",
    "preview",
]
