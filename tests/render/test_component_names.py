"""Children are named after their component, so one stack can hold a component twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from platform_core.offline import RenderedStack, render_stack
from tests.repository import ENVIRONMENTS, REPO_ROOT, STACKS_DIR

TWO_PLATFORMS = """
from platform_core import TradingPlatform, load_config

config = load_config()
TradingPlatform("first", config)
TradingPlatform("second", config)
"""


def _two_platforms(tmp_path: Path) -> RenderedStack:
    stack_dir = tmp_path / "dev"
    shutil.copytree(STACKS_DIR / "dev", stack_dir)
    shutil.copy(REPO_ROOT / "organisation.yaml", tmp_path)
    (stack_dir / "__main__.py").write_text(TWO_PLATFORMS)
    return render_stack(stack_dir)


def test_a_stack_can_hold_two_platforms_side_by_side(tmp_path, rendered_stacks):
    rendered = _two_platforms(tmp_path)
    urns = [resource.urn for resource in rendered.resources]
    assert len(urns) == len(set(urns)), "two resources share a URN"
    assert len(urns) == 2 * len(rendered_stacks["dev"].resources)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_child_is_named_after_its_component(rendered_stacks, env):
    stack = rendered_stacks[env]
    for resource in stack.resources:
        parents = [
            r
            for r in stack.resources
            if r.urn == resource.parent and r.type != "pulumi:pulumi:Stack"
        ]
        if parents:
            assert resource.name.startswith(f"{parents[0].name}-"), (resource.name, parents[0].name)
