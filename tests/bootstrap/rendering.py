"""The real bootstrap program rendered under the mock engine, one stack per environment."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platform_core.offline import RenderedStack, render_stack

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP_DIR = ROOT / "bootstrap"
for path in (ROOT, ROOT / "policy", BOOTSTRAP_DIR):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # as the Pulumi language host puts the program's directory


def render_bootstrap(environment: str, overrides: Mapping[str, Any] | None = None) -> RenderedStack:
    """`bootstrap/__main__.py` as stack `environment`, with `Pulumi.<environment>.yaml`."""
    return render_stack(BOOTSTRAP_DIR, stack=environment, overrides=overrides)
