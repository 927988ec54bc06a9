"""The real programs rendered once: every stack and every environment's bootstrap."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from platform_core.offline import RenderedStack
from tests.render.bootstrap.rendering import render_bootstrap
from tests.repository import ENVIRONMENTS


@pytest.fixture(scope="session")
def bootstraps() -> Mapping[str, RenderedStack]:
    return {environment: render_bootstrap(environment) for environment in ENVIRONMENTS}
