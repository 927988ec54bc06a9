"""Shared fixtures: every real stack program rendered once per test session.

A bad value in a stack file stops the session at once with the same message `pulumi preview`
prints, instead of one traceback per test that renders the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from platform_core.offline import RenderedStack, render_stack
from platform_core.schema import check_file
from tests.repository import ENVIRONMENTS, STACKS_DIR

# Tests are organised by kind, one directory each, and marked with it (`pytest -m unit`):
KINDS = {
    "unit": "pure functions and documents: no engine, no emulator (milliseconds)",
    "render": "the real Pulumi programs under the mock engine",
    "integration": "the real handler and tools against the AWS emulator on 127.0.0.1",
    "e2e": "the repository's commands run as subprocesses",
}


def pytest_configure(config: pytest.Config) -> None:
    for kind, description in KINDS.items():
        config.addinivalue_line("markers", f"{kind}: {description}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = Path(item.path).relative_to(Path(__file__).parent).parts[0]
        if kind in KINDS:
            item.add_marker(kind)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Exactly what `python -m platform_core.schema check` prints for the file.
    for environment in ENVIRONMENTS:
        result = check_file(STACKS_DIR / environment / f"Pulumi.{environment}.yaml")
        if not result.ok:
            pytest.exit(result.report(), returncode=4)


@pytest.fixture(scope="session")
def rendered_stacks() -> Mapping[str, RenderedStack]:
    """Each `stacks/<env>/__main__.py` run with its real `Pulumi.<env>.yaml` under mocks."""
    return {environment: render_stack(STACKS_DIR / environment) for environment in ENVIRONMENTS}


@pytest.fixture(scope="session")
def rendered_with_database() -> Mapping[str, RenderedStack]:
    """The same, with the optional database switched on (`platform:database`)."""
    overrides = {"platform:database": "aurora-postgresql"}
    return {env: render_stack(STACKS_DIR / env, overrides=overrides) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def stacks_dir() -> Path:
    return STACKS_DIR
