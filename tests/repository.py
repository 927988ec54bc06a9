"""This repository as the tests see it: its environments are found, never listed by hand."""

from __future__ import annotations

from platform_core.environments import REPO_ROOT, STACKS_DIR, discover_environments
from platform_core.organisation import find_organisation

__all__ = ["ENVIRONMENTS", "ORGANISATION", "REPO_ROOT", "STACKS_DIR"]

ENVIRONMENTS = discover_environments(STACKS_DIR)
ORGANISATION = find_organisation(REPO_ROOT)
