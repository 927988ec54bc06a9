"""Compile the function's bytecode with Lambda's Python, or check that what is committed matches.

    python -m platform_core.bytecode [--python PATH]   # rewrite <project>/bytecode
    python -m platform_core.bytecode --check           # exit 1 if a module lacks it

Only compiling needs Lambda's Python version (``artifact.LAMBDA_PYTHON_VERSION``); the check
and the artifact builder work with any Python. Why bytecode is committed: ``artifact``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from platform_core.artifact import (
    ARTIFACT_DIR,
    LAMBDA_BYTECODE_MAGIC,
    LAMBDA_PYTHON_VERSION,
    artifact_sources,
    bytecode_path,
    matching_bytecode,
    package_bytecode_dir,
    package_dir,
    runtime_requirements,
)
from platform_core.environments import REPO_ROOT
from platform_core.errors import ArtifactError

__all__ = [
    "compile_bytecode",
    "find_lambda_python",
    "main",
    "modules_without_bytecode",
    "orphan_bytecode",
]

PACKAGE = "processor"
#: Run by Lambda's Python: compile each module of the artifact, named as in the artifact.
_COMPILE = """
import py_compile, sys
source_root, bytecode_root, *modules = sys.argv[1:]
for module in modules:
    py_compile.compile(
        f"{source_root}/{module}",
        cfile=f"{bytecode_root}/{module[:-3]}.{sys.implementation.cache_tag}.pyc",
        dfile=module,
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )
"""
_PROBE = (
    "import importlib.util, sys; print(importlib.util.MAGIC_NUMBER.hex(), sys.version.split()[0])"
)
_PROBE_ANSWER = re.compile(r"([0-9a-f]{8}) (\S+)")


def artifact_modules(package: str = PACKAGE) -> dict[str, bytes]:
    """Every Python module the artifact ships (the package's and its wheels'), by name."""
    files = artifact_sources(package_dir(package), runtime_requirements(package), ARTIFACT_DIR)
    return {name: data for name, data in files if name.endswith(".py")}


def modules_without_bytecode(package: str = PACKAGE) -> list[str]:
    """The modules whose committed bytecode is missing or was compiled from other source."""
    bytecode_dir = package_bytecode_dir(package)
    return sorted(
        name
        for name, source in artifact_modules(package).items()
        if matching_bytecode(bytecode_dir, name, source) is None
    )


def orphan_bytecode(package: str = PACKAGE) -> list[str]:
    """Committed bytecode files of no module the artifact ships (never shipped: clutter)."""
    bytecode_dir = package_bytecode_dir(package)
    expected = {bytecode_path(bytecode_dir, name) for name in artifact_modules(package)}
    return sorted(
        path.relative_to(bytecode_dir).as_posix()
        for path in bytecode_dir.rglob("*.pyc")
        if path not in expected
    )


def find_lambda_python() -> str:
    """A Python of Lambda's version: ``python3.13`` on PATH, else the newest pyenv one (a
    pyenv shim on PATH fails unless that version is selected: the next candidate is tried)."""
    name = f"python{LAMBDA_PYTHON_VERSION}"
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    installed = sorted(
        pyenv.glob(f"{LAMBDA_PYTHON_VERSION}.*/bin/{name}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parts[-3])],
        reverse=True,
    )
    on_path = shutil.which(name)
    for candidate in ([on_path] if on_path else []) + [str(path) for path in installed]:
        try:
            _check_interpreter(candidate)
        except ArtifactError:
            continue
        return candidate
    raise ArtifactError(
        f"no Python {LAMBDA_PYTHON_VERSION} found: {name} on PATH "
        f"({'does not run' if on_path else 'none'}) and {pyenv} (no {LAMBDA_PYTHON_VERSION}.x "
        f"that runs); pass --python with the path of a Python {LAMBDA_PYTHON_VERSION} "
        "interpreter (README, Extending, says where to get one)"
    )


def _said(text: str) -> str:
    """What a program printed, on one line, at most about 400 characters."""
    said = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    if not said:
        return "(it printed nothing)"
    return said if len(said) <= 400 else f"{said[:200]} ... {said[-200:]}"


def _check_interpreter(python: str) -> None:
    """Refuse anything but a Python of Lambda's version, saying what ``python`` is instead."""
    try:
        probe = subprocess.run(
            [python, "-c", _PROBE], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise ArtifactError(f"cannot run {python}: {err}") from None
    answer = _PROBE_ANSWER.fullmatch(probe.stdout.strip())
    if probe.returncode != 0 or answer is None:
        raise ArtifactError(
            f"{python} is not a Python interpreter that can be used here (asked for its "
            f"bytecode magic number, it exited {probe.returncode}: "
            f"{_said(probe.stderr or probe.stdout)})"
        )
    if bytes.fromhex(answer.group(1)) != LAMBDA_BYTECODE_MAGIC:
        raise ArtifactError(
            f"{python} is Python {answer.group(2)}, not Python {LAMBDA_PYTHON_VERSION}, the "
            "version Lambda runs: its bytecode would be ignored there; pass --python with a "
            f"Python {LAMBDA_PYTHON_VERSION} interpreter"
        )


def compile_bytecode(python: str, package: str = PACKAGE) -> int:
    """Rewrite the package's bytecode directory with ``python``, which must be Lambda's
    Python version; return how many modules were compiled. All or nothing: the committed
    files are replaced only once every module compiled."""
    _check_interpreter(python)
    modules = artifact_modules(package)
    bytecode_dir = package_bytecode_dir(package)
    with tempfile.TemporaryDirectory(prefix="bytecode-") as tmp:
        sources, compiled = Path(tmp) / "src", Path(tmp) / "bytecode"
        for name, source in modules.items():
            (sources / name).parent.mkdir(parents=True, exist_ok=True)
            (sources / name).write_bytes(source)
            bytecode_path(compiled, name).parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [python, "-c", _COMPILE, str(sources), str(compiled), *sorted(modules)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            raise ArtifactError(
                f"{python} could not compile the modules (nothing was changed): "
                f"{_said(result.stderr)}"
            )
        for stale in bytecode_dir.rglob("*.pyc"):
            stale.unlink()
        for folder in sorted(bytecode_dir.rglob("*"), reverse=True):  # deepest first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        shutil.copytree(compiled, bytecode_dir, dirs_exist_ok=True)
    return len(modules)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_core.bytecode",
        description=(
            f"Compile the {PACKAGE} artifact's modules with Lambda's Python "
            f"{LAMBDA_PYTHON_VERSION} into {_relative(package_bytecode_dir(PACKAGE))}"
            " (committed: the artifact ships a module's bytecode only with the exact source "
            "it was compiled from), or check it."
        ),
    )
    parser.add_argument(
        "--python",
        help=(
            f"a Python {LAMBDA_PYTHON_VERSION} interpreter (default: python"
            f"{LAMBDA_PYTHON_VERSION} on PATH, else the newest pyenv {LAMBDA_PYTHON_VERSION})"
        ),
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=(
            "compile nothing; exit 1 naming each module whose bytecode is missing or stale, "
            "and each bytecode file of no module"
        ),
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            return _check()
        python = args.python or find_lambda_python()
        count = compile_bytecode(python)
    except ArtifactError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"compiled {count} modules with {python}")
    return 0


def _check() -> int:
    missing, orphans = modules_without_bytecode(), orphan_bytecode()
    for name in missing:
        print(f"{name}: no bytecode compiled from this source", file=sys.stderr)
    for name in orphans:
        print(f"{name}: bytecode of no module the artifact ships", file=sys.stderr)
    if missing or orphans:
        print(
            f"run: make bytecode (or python -m platform_core.bytecode --python <Python "
            f"{LAMBDA_PYTHON_VERSION}>), then commit {_relative(package_bytecode_dir(PACKAGE))}",
            file=sys.stderr,
        )
    return 1 if missing or orphans else 0


def _relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)


if __name__ == "__main__":
    sys.exit(main())
