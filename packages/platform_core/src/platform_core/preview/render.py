"""Each side of the preview rendered by its own code, in a subprocess of its own.

A checkout's code is the source of the in-repository packages its ``pyproject.toml`` installs
(path dependencies: platform_core, processor, …). The subprocess gets exactly those on its
import path, ahead of a copy of their metadata (so the function's artifact pins the checkout's
own runtime dependencies), and drops the editable installs of the preview's own checkout: a
package the base revision lacks is missing there, never borrowed from the working tree. Both
sides run at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from platform_core.environments import discover_environments
from platform_core.offline import RegisteredResource, RenderedStack
from platform_core.preview.git import PreviewError
from platform_core.preview.snapshot import (
    ASSET,
    SECRET,
    SECRET_KEY_VARIABLE,
    SnapshotError,
    decode,
)

__all__ = [
    "SECRET_TEXT",
    "Distribution",
    "Side",
    "SideResult",
    "environments_of",
    "package_sources",
    "render_sides",
    "seed_wheels",
]

SNAPSHOT_SCRIPT: Final = Path(__file__).with_name("snapshot.py")
#: A masked value, as it appears among the inputs: this prefix and a keyed digest.
SECRET_TEXT: Final = "\x00secret:"
_TIMEOUT_S: Final = 900
_WHEELS: Final = Path("build") / "lambda" / "wheels"


@dataclass(frozen=True)
class Side:
    """A checkout to render, and how the output names it."""

    root: Path
    label: str


@dataclass(frozen=True)
class Distribution:
    """An in-repository package: what ``importlib.metadata`` must say about it."""

    name: str
    version: str
    requires: tuple[str, ...]

    def write_metadata(self, directory: Path) -> None:
        folder = directory / f"{self.name.replace('-', '_')}-{self.version}.dist-info"
        folder.mkdir(parents=True)
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        lines += [f"Requires-Dist: {requirement}" for requirement in self.requires]
        (folder / "METADATA").write_text("\n".join(lines) + "\n")


@dataclass(frozen=True)
class SideResult:
    """What one side rendered: each environment's stack, or why it did not render."""

    side: Side
    stacks: Mapping[str, RenderedStack]
    errors: Mapping[str, str] = field(default_factory=dict)


def _toml(path: Path, side: Side) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PreviewError(f"{side.label}: cannot read {path.name}: {error}") from None


def package_sources(side: Side) -> tuple[list[Path], list[Distribution]]:
    """Source directories and metadata of the packages the checkout's pyproject installs."""
    pyproject = side.root / "pyproject.toml"
    if not pyproject.is_file():
        raise PreviewError(
            f"{side.label} has no pyproject.toml at its root: it predates the repository layout "
            "this preview reads (packages installed from the root's pyproject.toml)"
        )
    dependencies = _toml(pyproject, side).get("tool", {}).get("poetry", {}).get("dependencies", {})
    sources: list[Path] = []
    distributions: list[Distribution] = []
    for spec in dependencies.values():
        if not isinstance(spec, dict) or "path" not in spec:
            continue
        package_root = side.root / spec["path"]
        package = _toml(package_root / "pyproject.toml", side)
        project = package.get("project", {})
        for include in package.get("tool", {}).get("poetry", {}).get("packages", []):
            sources.append(package_root / include.get("from", "."))
        distributions.append(
            Distribution(
                str(project.get("name", package_root.name)),
                str(project.get("version", "0")),
                tuple(project.get("dependencies", ())),
            )
        )
    return sources, distributions


def environments_of(side: Side) -> tuple[str, ...]:
    """The environments of a checkout: the directories of its stacks/ (none without one)."""
    stacks = side.root / "stacks"
    if not stacks.is_dir():
        return ()
    try:
        return discover_environments(stacks)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise PreviewError(f"{side.label}: cannot read its stack files: {error}") from None


def seed_wheels(source: Path, target: Path) -> None:
    """The function's vendored wheels, so a fresh checkout needs no download for known pins."""
    wheels = source / _WHEELS
    if not wheels.is_dir() or source == target:
        return
    (target / _WHEELS).mkdir(parents=True, exist_ok=True)
    for wheel in wheels.glob("*.whl"):
        if not (target / _WHEELS / wheel.name).exists():
            shutil.copy2(wheel, target / _WHEELS / wheel.name)


@dataclass
class _Run:
    side: Side
    process: subprocess.Popen[bytes]
    output: Path
    log: Path


def _start(
    side: Side, environments: Sequence[str], key: bytes, exclude: Iterable[Path], workdir: Path
) -> _Run:
    sources, distributions = package_sources(side)
    shims = workdir / "metadata"
    for distribution in distributions:
        distribution.write_metadata(shims)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")
    }
    environment.update(
        PYTHONPATH=os.pathsep.join(str(path) for path in (shims, *sources)),
        PYTHONDONTWRITEBYTECODE="1",
        **{SECRET_KEY_VARIABLE: key.hex()},
    )
    output, log = workdir / "snapshot.json", workdir / "snapshot.log"
    command = [sys.executable, "-P", str(SNAPSHOT_SCRIPT), str(side.root), str(output)]
    command += [argument for env in environments for argument in ("--environment", env)]
    command += [argument for path in exclude for argument in ("--exclude", str(path))]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=workdir, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    return _Run(side, process, output, log)


def _restore(value: Any) -> Any:
    """A value of the document as inputs hold it: masked secrets and assets become text."""
    if isinstance(value, dict):
        if SECRET in value:
            return f"{SECRET_TEXT}{value[SECRET]}"
        if ASSET in value:
            detail = value.get("path") or value.get("uri") or value.get("text") or ""
            if "assets" in value:
                detail = json.dumps(_restore(value["assets"]), sort_keys=True)
            return f"{value[ASSET]}({detail})"
        return {key: _restore(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item) for item in value]
    return value


def _rendered(document: Mapping[str, Any]) -> RenderedStack:
    resources = tuple(
        RegisteredResource(
            urn=item["urn"],
            type=item["type"],
            name=item["name"],
            custom=item["custom"],
            parent=item["parent"],
            provider=item["provider"],
            inputs=_restore(item["inputs"]),
            # Of what the mock engine made up for outputs, only the id is kept (see diff.py).
            state={"id": item["id"]} if item.get("id") else {},
            dependencies=tuple(item["dependencies"]),
            protect=item["protect"],
            retain_on_delete=item["retain_on_delete"],
            ignore_changes=tuple(item["ignore_changes"]),
        )
        for item in document["resources"]
    )
    return RenderedStack(
        project=document["project"],
        stack=document["stack"],
        resources=resources,
        outputs=_restore(document["outputs"]),
    )


def _finish(run: _Run) -> SideResult:
    try:
        code = run.process.wait(timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        run.process.kill()
        raise PreviewError(f"{run.side.label}: rendering took over {_TIMEOUT_S} s") from None
    if not run.output.is_file():
        log = run.log.read_text(errors="replace").strip()[-4000:]
        raise PreviewError(f"{run.side.label}: the renderer stopped (exit {code}):\n{log}")
    try:
        snapshot = decode(json.loads(run.output.read_text()))
    except SnapshotError as error:
        raise PreviewError(f"{run.side.label} cannot be rendered: {error}") from None
    stacks = {env: _rendered(document) for env, document in snapshot.stacks.items()}
    return SideResult(run.side, stacks, snapshot.errors)


def render_sides(
    sides: Sequence[tuple[Side, Sequence[str]]], key: bytes, exclude: Sequence[Path]
) -> list[SideResult]:
    """Render each (side, environments) at once, each side with its own code."""
    with tempfile.TemporaryDirectory(prefix="offline-preview-render-") as scratch:
        runs = []
        try:
            for index, (side, environments) in enumerate(sides):
                workdir = Path(scratch) / str(index)
                workdir.mkdir()
                isolate = [path for path in exclude if path != side.root]
                runs.append(_start(side, environments, key, isolate, workdir))
            return [_finish(run) for run in runs]
        finally:
            for run in runs:
                if run.process.poll() is None:
                    run.process.kill()
                    run.process.wait()
