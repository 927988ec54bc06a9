"""A deploy whose function would compile modules at every cold start says so, naming them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pulumi

from platform_core import artifact as artifacts
from platform_core import platform
from platform_core.environments import STACKS_DIR
from platform_core.offline import render_stack


def warnings_of_a_render(monkeypatch: Any, stale: tuple[str, ...]) -> list[str]:
    real = artifacts.build_package_artifact

    def built(package: str, output_dir: Path) -> Any:
        artifact = real(package, output_dir)
        return dataclasses.replace(artifact, without_bytecode=stale) if stale else artifact

    warnings: list[str] = []
    monkeypatch.setattr(platform, "build_package_artifact", built)
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: warnings.append(message))
    render_stack(STACKS_DIR / "dev")
    return warnings


def test_modules_without_current_bytecode_are_named_with_the_command_that_compiles_them(
    monkeypatch,
):
    (warning,) = warnings_of_a_render(monkeypatch, ("processor/bars.py", "processor/store.py"))
    assert "ships 2 module(s) without bytecode compiled from their current source" in warning
    assert "processor/bars.py, processor/store.py" in warning
    assert "Run `make bytecode` and commit services/processor/bytecode" in warning


def test_the_committed_bytecode_deploys_without_a_warning(monkeypatch):
    assert warnings_of_a_render(monkeypatch, ()) == []
