"""The deployment artifact: pinned compiled deps, arm64 binaries only, small (a short cold start)."""

from __future__ import annotations

import tomllib
import zipfile

import pytest

from platform_core.artifact import build_package_artifact, cache_entry
from platform_core.bytecode import orphan_bytecode
from tests.repository import REPO_ROOT as ROOT

_EM_X86_64, _EM_AARCH64 = 62, 183


def elf_machine(data: bytes) -> int | None:
    """The ELF ``e_machine`` of a binary, or None if it is not ELF."""
    if data[:4] != b"\x7fELF":
        return None
    return int.from_bytes(data[18:20], "little" if data[5] == 1 else "big")


def test_runtime_dependencies_are_pinned_and_exclude_the_sdk():
    project = tomllib.loads((ROOT / "services/processor/pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        assert "==" in requirement, requirement
        assert not requirement.lower().startswith(("boto3", "botocore")), requirement


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return build_package_artifact("processor", ROOT / "build" / "processor-artifact-test")


def test_zip_holds_arm64_binaries_only_and_stays_small(artifact):
    assert artifact.size_bytes <= 1_000_000
    with zipfile.ZipFile(artifact.path) as archive:
        names = archive.namelist()
        machines = {n: elf_machine(archive.read(n)) for n in names if ".so" in n}
    assert "processor/handler.py" in names
    assert not [n for n in names if n.startswith(("tests/", "boto"))]
    assert machines, "msgspec's compiled extension should be vendored"
    assert set(machines.values()) == {_EM_AARCH64}, machines
    assert all(".cpython-313-aarch64-linux-gnu.so" in n or "abi3" in n for n in machines)


def test_every_module_ships_with_bytecode_compiled_from_its_source_by_lambdas_python(artifact):
    """Without it every cold start compiles the modules: most of the handler's own import.
    Fails when a module changed and its bytecode was not compiled again (the message says how)."""
    assert artifact.without_bytecode == (), (
        "these modules changed since their bytecode was compiled: run `make bytecode` (it finds "
        "python3.13 on PATH or in pyenv; else `make bytecode PYTHON313=/path/to/python3.13`) "
        "and commit services/processor/bytecode (README, Extending: 'A change to the "
        "function's code')"
    )
    modules = [n for n in artifact.entries if n.endswith(".py")]
    cached = [n for n in artifact.entries if "__pycache__" in n]
    assert sorted(cached) == sorted(cache_entry(m) for m in modules)
    assert all(n.endswith(".cpython-313.pyc") for n in cached)


def test_no_bytecode_is_committed_for_a_module_the_artifact_does_not_ship():
    """A module deleted or renamed must not leave its bytecode behind (`make bytecode` clears it)."""
    assert orphan_bytecode("processor") == []
