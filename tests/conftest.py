"""Shared fixtures: every real stack program rendered once per test session.

A bad value in a stack file stops the session at once with the same message `pulumi preview`
prints, instead of one traceback per test that renders the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from platform_core.errors import PlatformError
from platform_core.loading import build_config, settings_of
from platform_core.offline import RenderedStack, render_stack
from platform_core.stack_files import read_stack_config
from tests.repository import ENVIRONMENTS, ORGANISATION, STACKS_DIR


def pytest_sessionstart(session: pytest.Session) -> None:
    for environment in ENVIRONMENTS:
        try:
            build_config(
                environment,
                settings_of(read_stack_config(STACKS_DIR / environment, environment)),
                ORGANISATION,
            )
        except PlatformError as error:
            pytest.exit(f"stacks/{environment}/Pulumi.{environment}.yaml: {error}", returncode=4)


@pytest.fixture(scope="session")
def rendered_stacks() -> Mapping[str, RenderedStack]:
    """Each `stacks/<env>/__main__.py` run with its real `Pulumi.<env>.yaml` under mocks."""
    return {environment: render_stack(STACKS_DIR / environment) for environment in ENVIRONMENTS}


@pytest.fixture(scope="session")
def stacks_dir() -> Path:
    return STACKS_DIR
