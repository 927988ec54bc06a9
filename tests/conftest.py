"""Shared fixtures: the three real stack programs rendered once per test session."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from platform_core import ENVIRONMENTS
from platform_core.offline import RenderedStack, render_stack

REPO_ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = REPO_ROOT / "stacks"


@pytest.fixture(scope="session")
def rendered_stacks() -> Mapping[str, RenderedStack]:
    """Each `stacks/<env>/__main__.py` run with its real `Pulumi.<env>.yaml` under mocks."""
    return {environment: render_stack(STACKS_DIR / environment) for environment in ENVIRONMENTS}


@pytest.fixture(scope="session")
def stacks_dir() -> Path:
    return STACKS_DIR
