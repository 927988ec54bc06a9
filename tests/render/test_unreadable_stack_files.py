"""A stack file the Pulumi CLI would refuse (not YAML, not UTF-8, a key twice) gets one line
naming the file and the line from every offline tool, not a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import platform_core.costs.__main__ as costs_command
from platform_core import docs
from tests.repository import REPO_ROOT, STACKS_DIR

# What goes after line 7 (`platform:team: trading-platform`), and what follows the file's name.
BROKEN = {
    "not YAML": (b"  platform:owner: [unclosed\n", ", line 9, column 22: not valid YAML: "),
    "not UTF-8": (b"  platform:owner: caf\xe9\n", ", line 8: not UTF-8 text (byte 0xe9)"),
    "a key twice": (
        b"  platform:team: b\n",
        ': line 8: mapping key "platform:team" already defined at line 7',
    ),
}


@pytest.fixture(params=list(BROKEN))
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """A copy of stacks/ whose staging file has one of the faults; the file and the message."""
    shutil.copy(REPO_ROOT / "organisation.yaml", tmp_path)
    stacks = tmp_path / "stacks"
    shutil.copytree(STACKS_DIR, stacks, ignore=shutil.ignore_patterns("__pycache__"))
    path = stacks / "staging" / "Pulumi.staging.yaml"
    lines = path.read_bytes().splitlines(keepends=True)
    assert lines[6].startswith(b"  platform:team:")  # the line the fault replaces (line 7)
    text, message = BROKEN[request.param]
    path.write_bytes(b"".join([*lines[:7], text, *lines[7:]]))
    return path, message


def test_docs_check_names_the_file_and_the_line(broken, monkeypatch, capsys):
    path, message = broken
    real = docs.documents
    monkeypatch.setattr(docs, "documents", lambda: real(path.parent.parent))
    assert docs.main(["--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}{message}") and err.count("\n") == 1


def test_the_costs_command_names_the_file_and_the_line(broken, monkeypatch, capsys):
    path, message = broken
    monkeypatch.setattr(costs_command, "STACKS_DIR", path.parent.parent)
    assert costs_command.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}{message}") and err.count("\n") == 1
