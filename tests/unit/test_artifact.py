"""The deployment artifact is reproducible and holds only runtime files.

That the processor's zip is small and arm64-only is checked in tests/unit/processor/test_artifact.py.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest

from platform_core.artifact import LAMBDA_BYTECODE_MAGIC, build_lambda_artifact, source_hash
from platform_core.bytecode import compile_bytecode, main
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


def bytecode(source: bytes, magic: bytes = LAMBDA_BYTECODE_MAGIC, flags: int = 0b11) -> bytes:
    """A bytecode file's header (PEP 552) for ``source``, and a body no test imports."""
    return magic + flags.to_bytes(4, "little") + source_hash(source) + b"code"


def test_bytecode_ships_only_with_the_exact_source_it_was_compiled_from(tmp_path):
    package = make_package(tmp_path)
    handler = (package / "handler.py").read_bytes()
    committed = tmp_path / "bytecode" / "demo"
    (committed / "sub").mkdir(parents=True)
    (committed / "handler.cpython-313.pyc").write_bytes(bytecode(handler))
    (committed / "__init__.cpython-313.pyc").write_bytes(bytecode(b"# an older version\n"))
    (committed / "sub" / "__init__.cpython-313.pyc").write_bytes(bytecode(b"", flags=0b01))
    artifact = build_lambda_artifact(package, [], tmp_path / "out", tmp_path / "bytecode")
    assert artifact.entries == (
        "demo/__init__.py",
        "demo/__pycache__/handler.cpython-313.pyc",
        "demo/handler.py",
        "demo/sub/__init__.py",
    )
    # stale; and unchecked (Python would run it even against another source): both left out
    assert artifact.without_bytecode == ("demo/__init__.py", "demo/sub/__init__.py")
    with zipfile.ZipFile(artifact.path) as archive:
        assert archive.read("demo/__pycache__/handler.cpython-313.pyc") == bytecode(handler)


def test_bytecode_of_another_python_is_not_shipped(tmp_path):
    package = make_package(tmp_path)
    handler = (package / "handler.py").read_bytes()
    committed = tmp_path / "bytecode" / "demo"
    committed.mkdir(parents=True)
    other = (3495).to_bytes(2, "little") + b"\r\n"  # Python 3.11's magic number
    (committed / "handler.cpython-313.pyc").write_bytes(bytecode(handler, magic=other))
    artifact = build_lambda_artifact(package, [], tmp_path / "out", tmp_path / "bytecode")
    assert "demo/handler.py" in artifact.without_bytecode
    assert not [entry for entry in artifact.entries if "__pycache__" in entry]


def test_compiling_refuses_a_python_that_is_not_lambdas(capsys):
    """Its bytecode would carry another magic number, and Lambda would ignore every file."""
    assert sys.version_info[:2] != (3, 13)  # the test suite's Python is not Lambda's
    assert main(["--python", sys.executable]) == 2
    assert f"error: {sys.executable} is not Python 3.13, the version Lambda runs" in (
        capsys.readouterr().err
    )
    with pytest.raises(ArtifactError, match="cannot run /no/such/python"):
        compile_bytecode("/no/such/python")


def test_the_check_names_each_module_without_matching_bytecode(monkeypatch, capsys):
    from platform_core import bytecode as module

    assert main(["--check"]) == 0
    modules = module.artifact_modules()
    changed = dict(modules, **{"processor/contract.py": modules["processor/contract.py"] + b"#"})
    monkeypatch.setattr(module, "artifact_modules", lambda package=module.PACKAGE: changed)
    assert main(["--check"]) == 1
    assert capsys.readouterr().err.startswith(
        "processor/contract.py: no bytecode compiled from this source\nrun: python -m "
        "platform_core.bytecode"
    )
