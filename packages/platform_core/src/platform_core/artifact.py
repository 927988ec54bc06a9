"""The processor's deployment artifact: a byte-for-byte reproducible zip.

Same source, same bytes, same hash: entries are sorted, timestamps and permissions fixed, and
caches, tests and type-checker leftovers left out. Runtime dependencies come from the package's
own metadata, must be pinned with `==`, and are vendored as the arm64 (aarch64) manylinux wheels
for Lambda's Python, never as wheels for the machine that runs `pulumi up`.

Bytecode: Lambda's file system is read-only, so a module without bytecode is compiled from
source at every cold start (most of the handler's own import time). Bytecode must come from
Lambda's Python version, which the machine running `pulumi up` may lack, so it is compiled
once with that version (`python -m platform_core.bytecode`) and committed beside the project.
Each file is hash-checked: its header names the hash of the source it was compiled from, and a
file is shipped only with that exact source (Python would recompile it otherwise, too).
"""

from __future__ import annotations

import _imp
import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from platform_core.errors import ArtifactError

__all__ = [
    "ARTIFACT_DIR",
    "LambdaArtifact",
    "artifact_sources",
    "build_lambda_artifact",
    "build_package_artifact",
    "bytecode_path",
    "cache_entry",
    "matching_bytecode",
    "package_bytecode_dir",
    "package_dir",
    "runtime_requirements",
    "source_hash",
]

#: Where artifacts and the wheels they vendor are cached (git-ignored).
ARTIFACT_DIR = Path(__file__).resolve().parents[4] / "build" / "lambda"
LAMBDA_PYTHON_VERSION = "3.13"
#: The bytecode magic number of each Lambda Python this builder knows (fixed within a release).
_MAGIC_NUMBERS = {"3.13": 3571}
LAMBDA_BYTECODE_MAGIC = _MAGIC_NUMBERS[LAMBDA_PYTHON_VERSION].to_bytes(2, "little") + b"\r\n"
LAMBDA_CACHE_TAG = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")
_CHECKED_HASH_FLAGS = 0b11  # hash-based, and checked against the source when imported
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_EXCLUDED_PARTS = frozenset({"__pycache__", "tests", ".mypy_cache", ".pytest_cache"})
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class LambdaArtifact:
    """A built zip and the base64 SHA-256 Lambda reports as `CodeSha256`."""

    path: Path
    sha256_base64: str
    size_bytes: int
    entries: tuple[str, ...]
    #: Modules shipped without matching bytecode (compiled at every cold start).
    without_bytecode: tuple[str, ...] = ()


def source_hash(source: bytes) -> bytes:
    """The source hash Lambda's Python writes into a hash-based bytecode file."""
    return _imp.source_hash(int.from_bytes(LAMBDA_BYTECODE_MAGIC, "little"), source)


def bytecode_path(bytecode_dir: Path, module: str) -> Path:
    """Where the committed bytecode of ``module`` (``pkg/mod.py``) lives."""
    return bytecode_dir / f"{module[: -len('.py')]}.{LAMBDA_CACHE_TAG}.pyc"


def cache_entry(module: str) -> str:
    """The artifact entry where Python looks for the bytecode of ``module``."""
    folder, _, name = module.rpartition("/")
    entry = f"__pycache__/{name[: -len('.py')]}.{LAMBDA_CACHE_TAG}.pyc"
    return f"{folder}/{entry}" if folder else entry


def matching_bytecode(bytecode_dir: Path, module: str, source: bytes) -> bytes | None:
    """The committed bytecode of ``module`` if it was compiled from exactly ``source`` by
    Lambda's Python, hash-checked; None otherwise (missing, stale, or another version's)."""
    path = bytecode_path(bytecode_dir, module)
    if not path.is_file():
        return None
    data = path.read_bytes()
    if (
        data[:4] == LAMBDA_BYTECODE_MAGIC
        and int.from_bytes(data[4:8], "little") == _CHECKED_HASH_FLAGS
        and data[8:16] == source_hash(source)
    ):
        return data
    return None


def _package_files(package_dir: Path) -> Iterator[tuple[str, bytes]]:
    root = package_dir.parent
    for path in package_dir.rglob("*"):
        relative = path.relative_to(root)
        if path.is_dir() or _EXCLUDED_PARTS.intersection(relative.parts):
            continue
        if path.name.endswith(_EXCLUDED_SUFFIXES):
            continue
        yield relative.as_posix(), path.read_bytes()


def _pinned(requirement: str) -> tuple[str, str]:
    # Metadata spells a pin `name==1.0` or, from older backends, `name (==1.0)`.
    match = re.fullmatch(
        r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*\(?\s*==\s*([A-Za-z0-9.+!_-]+)\s*\)?\s*", requirement
    )
    if match is None:
        raise ArtifactError(
            f"runtime dependency '{requirement}' is not pinned: the artifact must be reproducible, "
            "so declare it as 'name==version'"
        )
    return match.group(1), match.group(2)


def _download_wheel(requirement: str, cache_dir: Path) -> Path:
    name, version = _pinned(requirement)
    stem = re.sub(r"[-_.]+", "_", name).lower()
    cached = sorted(cache_dir.glob(f"{stem}-{version}-*.whl"), key=lambda p: p.name.lower())
    if not cached:
        cache_dir.mkdir(parents=True, exist_ok=True)
        platforms = [arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)]
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--only-binary=:all:", *platforms,
                   "--python-version", LAMBDA_PYTHON_VERSION, "--implementation", "cp",
                   "--dest", str(cache_dir), f"{name}=={version}"]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ArtifactError(
                f"cannot download the arm64 wheel of {requirement} for Python "
                f"{LAMBDA_PYTHON_VERSION}: {result.stderr.strip()}"
            )
        cached = sorted(cache_dir.glob(f"{stem}-{version}-*.whl"), key=lambda p: p.name.lower())
    if not cached:
        raise ArtifactError(f"pip reported success but no wheel of {requirement} is in {cache_dir}")
    return cached[0]


def _wheel_files(wheel: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename.endswith("/RECORD"):
                continue
            if "__pycache__" in info.filename.split("/"):  # bytecode comes only from ours
                continue
            yield info.filename, archive.read(info)


def _write_zip(files: Iterable[tuple[str, bytes]]) -> tuple[bytes, tuple[str, ...]]:
    entries = sorted(files)
    names = [name for name, _ in entries]
    if len(names) != len(set(names)):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ArtifactError(f"two sources provide the same file(s): {', '.join(duplicates)}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue(), tuple(names)


def artifact_sources(
    package_dir: Path, requirements: Sequence[str], output_dir: Path
) -> list[tuple[str, bytes]]:
    """The files of the artifact before bytecode: the package's, then its wheels'."""
    if not (package_dir / "__init__.py").is_file():
        raise ArtifactError(f"{package_dir} is not a Python package (no __init__.py)")
    files = list(_package_files(package_dir))
    for requirement in requirements:
        files.extend(_wheel_files(_download_wheel(requirement, output_dir / "wheels")))
    return files


def build_lambda_artifact(
    package_dir: Path,
    requirements: Sequence[str],
    output_dir: Path,
    bytecode_dir: Path | None = None,
) -> LambdaArtifact:
    """Zip `package_dir` (as `<package>/…`) plus the arm64 wheels of `requirements`, and the
    committed bytecode in `bytecode_dir` that matches those sources."""
    files = artifact_sources(package_dir, requirements, output_dir)
    without: list[str] = []
    if bytecode_dir is not None:
        for module, source in [(name, data) for name, data in files if name.endswith(".py")]:
            bytecode = matching_bytecode(bytecode_dir, module, source)
            if bytecode is None:
                without.append(module)
            else:
                files.append((cache_entry(module), bytecode))
    data, entries = _write_zip(files)
    digest = hashlib.sha256(data)
    path = output_dir / f"{package_dir.name}-{digest.hexdigest()[:16]}.zip"
    if not path.exists():
        output_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
    return LambdaArtifact(
        path=path,
        sha256_base64=base64.b64encode(digest.digest()).decode("ascii"),
        size_bytes=len(data),
        entries=entries,
        without_bytecode=tuple(sorted(without)),
    )


def runtime_requirements(distribution: str) -> list[str]:
    """The pinned runtime dependencies an installed distribution declares."""
    requirements = importlib.metadata.requires(distribution) or []
    return [req.split(";")[0].strip() for req in requirements if "extra ==" not in req]


def package_bytecode_dir(package: str) -> Path:
    """Where a package in the src layout (``<project>/src/<package>``) keeps its committed
    bytecode: ``<project>/bytecode``."""
    return package_dir(package).parents[1] / "bytecode"


def package_dir(package: str) -> Path:
    """The source directory of an installed package."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ArtifactError(f"package '{package}' is not installed in this environment")
    return Path(spec.origin).parent


def build_package_artifact(package: str, output_dir: Path) -> LambdaArtifact:
    """Build the artifact of an installed package from its source, declared dependencies and
    committed bytecode."""
    return build_lambda_artifact(
        package_dir(package),
        runtime_requirements(package),
        output_dir,
        package_bytecode_dir(package),
    )
