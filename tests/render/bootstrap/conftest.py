"""Fixtures of the bootstrap tests: the real bootstrap program rendered per environment."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from platform_core.offline import RenderedStack
from tests.render.bootstrap.rendering import render_bootstrap
from tests.repository import ENVIRONMENTS


@pytest.fixture(scope="session")
def rendered_bootstraps() -> Mapping[str, RenderedStack]:
    return {environment: render_bootstrap(environment) for environment in ENVIRONMENTS}
