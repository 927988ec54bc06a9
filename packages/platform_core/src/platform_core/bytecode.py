"""Compile the function's bytecode with Lambda's Python, or check that what is committed matches.

    python -m platform_core.bytecode [--python python3.13]   # rewrite <project>/bytecode
    python -m platform_core.bytecode --check                 # exit 1 if a module lacks it

Only compiling needs Lambda's Python version (``artifact.LAMBDA_PYTHON_VERSION``); the check
and the artifact builder work with any Python. Why bytecode is committed: ``artifact``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from platform_core.artifact import (
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

__all__ = ["compile_bytecode", "main", "modules_without_bytecode"]

PACKAGE = "processor"
_WHEELS = REPO_ROOT / "build" / "lambda"  # the artifact builder's own wheel cache
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
_MAGIC_OF = "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"


def artifact_modules(package: str = PACKAGE) -> dict[str, bytes]:
    """Every Python module the artifact ships (the package's and its wheels'), by name."""
    files = artifact_sources(package_dir(package), runtime_requirements(package), _WHEELS)
    return {name: data for name, data in files if name.endswith(".py")}


def modules_without_bytecode(package: str = PACKAGE) -> list[str]:
    """The modules whose committed bytecode is missing or was compiled from other source."""
    bytecode_dir = package_bytecode_dir(package)
    return sorted(
        name
        for name, source in artifact_modules(package).items()
        if matching_bytecode(bytecode_dir, name, source) is None
    )


def compile_bytecode(python: str, package: str = PACKAGE) -> int:
    """Rewrite the package's bytecode directory with ``python``, which must be Lambda's
    Python version; return how many modules were compiled."""
    try:
        magic = subprocess.run(
            [python, "-c", _MAGIC_OF], capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as err:
        raise ArtifactError(f"cannot run {python}: {err}") from None
    if bytes.fromhex(magic) != LAMBDA_BYTECODE_MAGIC:
        raise ArtifactError(
            f"{python} is not Python {LAMBDA_PYTHON_VERSION}, the version Lambda runs: its "
            "bytecode would be ignored there; pass --python with a Python "
            f"{LAMBDA_PYTHON_VERSION} interpreter"
        )
    modules = artifact_modules(package)
    bytecode_dir = package_bytecode_dir(package)
    for stale in bytecode_dir.rglob("*.pyc"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="bytecode-") as tmp:
        for name, source in modules.items():
            (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / name).write_bytes(source)
            bytecode_path(bytecode_dir, name).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [python, "-c", _COMPILE, tmp, str(bytecode_dir), *sorted(modules)],
            check=True,
            timeout=300,
        )
    return len(modules)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_core.bytecode",
        description=(
            f"Compile the {PACKAGE} artifact's modules with Lambda's Python "
            f"{LAMBDA_PYTHON_VERSION} into {package_bytecode_dir(PACKAGE).relative_to(REPO_ROOT)}"
            " (committed: the artifact ships a module's bytecode only with the exact source "
            "it was compiled from), or check it."
        ),
    )
    parser.add_argument(
        "--python",
        default=f"python{LAMBDA_PYTHON_VERSION}",
        help=f"a Python {LAMBDA_PYTHON_VERSION} interpreter (default: %(default)s on PATH)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compile nothing; exit 1 naming each module whose bytecode is missing or stale",
    )
    args = parser.parse_args(argv)
    if args.check:
        missing = modules_without_bytecode()
        for name in missing:
            print(f"{name}: no bytecode compiled from this source", file=sys.stderr)
        if missing:
            print(
                f"run: python -m platform_core.bytecode --python <Python {LAMBDA_PYTHON_VERSION}>",
                file=sys.stderr,
            )
        return 1 if missing else 0
    try:
        count = compile_bytecode(args.python)
    except ArtifactError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"compiled {count} modules with {args.python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
