"""The deployment artifact is reproducible and holds only runtime files.

That the processor's zip is small and arm64-only is checked in tests/unit/processor/test_artifact.py.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from platform_core import bytecode as bytecode_module
from platform_core.artifact import (
    LAMBDA_BYTECODE_MAGIC,
    build_lambda_artifact,
    package_bytecode_dir,
    source_hash,
)
from platform_core.bytecode import compile_bytecode, find_lambda_python, main
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
    assert (
        f"error: {sys.executable} is Python {platform.python_version()}, not Python 3.13, the "
        "version Lambda runs"
    ) in capsys.readouterr().err
    with pytest.raises(ArtifactError, match="cannot run /no/such/python"):
        compile_bytecode("/no/such/python")


def executable(path: Path, script: str) -> str:
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


#: What Python 3.13 answers when asked for its bytecode magic number and version.
_ANSWER_313 = f"echo {LAMBDA_BYTECODE_MAGIC.hex()} 3.13.0"


@pytest.mark.parametrize(
    ("script", "says"),
    [
        ('echo "$@"', "it exited 0: -c import importlib.util"),  # echo: prints its arguments
        (
            'echo "pyenv: python3.12: command not found" >&2; exit 127',
            "it exited 127: pyenv: python3.12: command not found",
        ),
        ("exit 0", "it exited 0: (it printed nothing)"),
    ],
    ids=["echo", "pyenv-shim-without-that-version", "silent"],
)
def test_an_executable_that_is_not_python_is_named_with_what_it_said(
    tmp_path, capsys, script, says
):
    """No traceback, and the program's own last words (a shim's hint, say) are passed on."""
    program = executable(tmp_path / "notpython", script)
    assert main(["--python", program]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {program} is not a Python interpreter that can be used here")
    assert says in err and "Traceback" not in err


@pytest.fixture
def committed(tmp_path, monkeypatch) -> Path:
    """A copy of the processor's committed bytecode, which the tests below compile into."""
    copy: Path = tmp_path / "bytecode"
    shutil.copytree(package_bytecode_dir("processor"), copy)
    monkeypatch.setattr(bytecode_module, "package_bytecode_dir", lambda package: copy)
    return copy


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.pyc")}


def test_a_failed_compile_leaves_the_committed_bytecode_as_it_was(tmp_path, committed, capsys):
    """It used to delete every file first: a module 3.13 cannot compile left none at all."""
    before = snapshot(committed)
    fails = f'case "$2" in *MAGIC*) {_ANSWER_313};; *) echo "SyntaxError: boom" >&2; exit 1;; esac'
    assert main(["--python", executable(tmp_path / "python3.13", fails)]) == 2
    assert "could not compile the modules (nothing was changed): SyntaxError: boom" in (
        capsys.readouterr().err
    )
    assert snapshot(committed) == before and len(before) > 30


def test_the_check_reports_bytecode_of_no_module(committed, capsys):
    """A module deleted or renamed leaves its bytecode behind, never shipped but committed."""
    (committed / "processor" / "gone").mkdir()
    (committed / "processor" / "gone" / "old.cpython-313.pyc").write_bytes(b"x")
    (committed / "processor" / "renamed.cpython-313.pyc").write_bytes(b"x")
    assert main(["--check"]) == 1
    assert capsys.readouterr().err.startswith(
        "processor/gone/old.cpython-313.pyc: bytecode of no module the artifact ships\n"
        "processor/renamed.cpython-313.pyc: bytecode of no module the artifact ships\n"
    )


def test_the_check_without_the_wheel_says_why_instead_of_a_traceback(monkeypatch, capsys):
    def offline(package: str = "processor") -> dict[str, bytes]:
        raise ArtifactError("cannot download the arm64 wheel of msgspec (==0.22.0)")

    monkeypatch.setattr(bytecode_module, "artifact_modules", offline)
    assert main(["--check"]) == 2
    assert capsys.readouterr().err == (
        "error: cannot download the arm64 wheel of msgspec (==0.22.0)\n"
    )


def test_the_default_python_is_on_path_or_the_newest_pyenv_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(ArtifactError, match=r"no Python 3\.13 found: python3\.13 on PATH \(none\)"):
        find_lambda_python()
    for version in ("3.13.9", "3.13.10", "3.13.11", "3.12.7"):
        folder = tmp_path / "pyenv" / "versions" / version / "bin"
        folder.mkdir(parents=True)
        broken = version == "3.13.11"  # half installed: does not run
        executable(folder / "python3.13", "exit 1" if broken else _ANSWER_313)
    (tmp_path / "bin").mkdir()
    shim = 'echo "pyenv: python3.13: command not found" >&2; exit 127'
    executable(tmp_path / "bin" / "python3.13", shim)  # pyenv's shim: 3.13 not selected
    assert find_lambda_python() == str(tmp_path / "pyenv/versions/3.13.10/bin/python3.13")
    on_path = executable(tmp_path / "bin" / "python3.13", _ANSWER_313)
    assert find_lambda_python() == on_path


def test_compiling_again_gives_the_committed_bytes(committed):
    """The committed bytecode is reproducible: whoever compiles it next changes no byte (the
    string hash seed differs per run; a frozenset constant would show it)."""
    try:
        python = find_lambda_python()
    except ArtifactError:
        pytest.skip("no Python 3.13 on this machine")
    before = snapshot(committed)
    (committed / "processor" / "gone").mkdir()
    (committed / "processor" / "gone" / "old.cpython-313.pyc").write_bytes(b"x")
    assert compile_bytecode(python) == len(before)
    assert snapshot(committed) == before  # the same bytes, and bytecode of no module gone
    assert not (committed / "processor" / "gone").exists()


def test_the_check_names_each_module_without_matching_bytecode(monkeypatch, capsys):
    assert main(["--check"]) == 0
    modules = bytecode_module.artifact_modules()
    changed = dict(modules, **{"processor/contract.py": modules["processor/contract.py"] + b"#"})
    monkeypatch.setattr(bytecode_module, "artifact_modules", lambda package="processor": changed)
    assert main(["--check"]) == 1
    assert capsys.readouterr().err.startswith(
        "processor/contract.py: no bytecode compiled from this source\nrun: make bytecode (or "
        "python -m platform_core.bytecode --python <Python 3.13>), then commit "
        "services/processor/bytecode\n"
    )


def test_a_wheels_own_bytecode_is_not_shipped(tmp_path):
    """Only bytecode checked against its source is shipped; a wheel's would be another's."""
    wheels = tmp_path / "out" / "wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / "dep-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("dep/__init__.py", "")
        wheel.writestr("dep/__pycache__/__init__.cpython-313.pyc", b"foreign")
        wheel.writestr("dep-1.0.dist-info/METADATA", "Name: dep\n")
    artifact = build_lambda_artifact(make_package(tmp_path), ["dep==1.0"], tmp_path / "out")
    assert "dep/__init__.py" in artifact.entries
    assert not [entry for entry in artifact.entries if entry.endswith(".pyc")]
