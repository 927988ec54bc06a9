"""The test paths a newcomer is sent to exist: every `tests/…` that README.md cites, and every
one the local platform's, the operator commands' and the scripts' sources name."""

from __future__ import annotations

import re

import pytest

from tests.repository import REPO_ROOT

pytestmark = pytest.mark.e2e  # see tests/conftest.py: kinds of test

CITED = re.compile(r"(?<![\w/.-])tests/[\w./-]*[\w/]")
SOURCES = ("local_platform", "operations", "scripts")


def cited(text: str) -> set[str]:
    return set(CITED.findall(text))


def test_every_test_path_readme_cites_exists():
    paths = cited((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert "tests/integration/processor/" in paths  # the pattern finds them
    assert sorted(p for p in paths if not (REPO_ROOT / p).exists()) == []


def test_every_test_path_the_sources_name_exists():
    named = {
        (path.relative_to(REPO_ROOT).as_posix(), found)
        for source in SOURCES
        for path in (REPO_ROOT / source).rglob("*.py")
        for found in cited(path.read_text(encoding="utf-8"))
    }
    assert sorted((path, p) for path, p in named if not (REPO_ROOT / p).exists()) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [("see `tests/local/` and tests/infra checks", {"tests/local/", "tests/infra"}),
     ("(tests/e2e/local/test_keep_running.py).", {"tests/e2e/local/test_keep_running.py"}),
     ("pytests/x and contests/y", set())],
)  # fmt: skip
def test_the_pattern(text, found):
    assert cited(text) == found
