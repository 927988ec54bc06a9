"""The deployment artifact is reproducible and holds only runtime files.

That the processor's zip is small and arm64-only is checked in tests/unit/processor/test_artifact.py.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from platform_core.artifact import build_lambda_artifact
from platform_core.errors import ArtifactError


def make_package(root: Path) -> Path:
    package = root / "demo"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Demo."""\n')
    (package / "handler.py").write_text("def handler(event, context):\n    return event\n")
    (package / "sub" / "__init__.py").write_text("")
    return package


def test_same_source_gives_the_same_bytes(tmp_path):
    first = build_lambda_artifact(make_package(tmp_path / "a"), [], tmp_path / "out-a")
    package_b = make_package(tmp_path / "b")
    for path in package_b.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = build_lambda_artifact(package_b, [], tmp_path / "out-b")
    assert first.sha256_base64 == second.sha256_base64
    assert first.path.read_bytes() == second.path.read_bytes()


def test_caches_and_tests_are_left_out(tmp_path):
    package = make_package(tmp_path)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    (package / "tests").mkdir()
    (package / "tests" / "test_handler.py").write_text("")
    (package / "stale.pyc").write_bytes(b"\0")
    artifact = build_lambda_artifact(package, [], tmp_path / "out")
    assert artifact.entries == ("demo/__init__.py", "demo/handler.py", "demo/sub/__init__.py")
    with zipfile.ZipFile(artifact.path) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_source_change_changes_the_hash(tmp_path):
    package = make_package(tmp_path)
    before = build_lambda_artifact(package, [], tmp_path / "out")
    (package / "handler.py").write_text("def handler(event, context):\n    return None\n")
    assert (
        build_lambda_artifact(package, [], tmp_path / "out").sha256_base64 != before.sha256_base64
    )


def test_unpinned_dependency_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="runtime dependency 'msgspec>=0.18' is not pinned"):
        build_lambda_artifact(make_package(tmp_path), ["msgspec>=0.18"], tmp_path / "out")


def test_directory_without_init_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="is not a Python package"):
        build_lambda_artifact(tmp_path, [], tmp_path / "out")
