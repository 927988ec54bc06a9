"""Fixtures of the bootstrap tests: the real bootstrap program rendered per environment."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "policy", ROOT / "bootstrap"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # as the Pulumi language host puts the program's directory

from platform_core import ENVIRONMENTS  # noqa: E402
from platform_core.offline import RenderedStack  # noqa: E402
from tests.bootstrap.rendering import render_bootstrap  # noqa: E402


@pytest.fixture(scope="session")
def rendered_bootstraps() -> Mapping[str, RenderedStack]:
    return {environment: render_bootstrap(environment) for environment in ENVIRONMENTS}
