"""The real bootstrap program rendered under the mock engine, one stack per environment."""

from __future__ import annotations

import sys
import tempfile
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
    """`bootstrap/__main__.py` with `Pulumi.<environment>.yaml` under the mock engine.

    `render_stack` reads `Pulumi.<directory name>.yaml`; the bootstrap keeps one project with a
    stack per environment, so the program is linked into a directory named after the stack.
    """
    with tempfile.TemporaryDirectory() as scratch:
        stack_dir = Path(scratch) / environment
        stack_dir.mkdir()
        for name in ("Pulumi.yaml", "__main__.py", f"Pulumi.{environment}.yaml"):
            (stack_dir / name).symlink_to(BOOTSTRAP_DIR / name)
        return render_stack(stack_dir, overrides=overrides)
