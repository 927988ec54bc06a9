"""The real bootstrap program rendered under the mock engine, one stack per environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_core.offline import RenderedStack, render_stack
from tests.repository import REPO_ROOT

BOOTSTRAP_DIR = REPO_ROOT / "bootstrap"


def render_bootstrap(environment: str, overrides: Mapping[str, Any] | None = None) -> RenderedStack:
    """`bootstrap/__main__.py` as stack `environment`, with `Pulumi.<environment>.yaml`."""
    return render_stack(BOOTSTRAP_DIR, stack=environment, overrides=overrides)
