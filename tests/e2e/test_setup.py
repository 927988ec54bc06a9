"""README's shell set-up, run as written: afterwards Pulumi's `toolchain: poetry` finds Poetry on
PATH and, from every Pulumi program's directory, resolves the repository's environment; and the
bootstrap's local state directory exists. Plus the tool versions README and CI promise.

How the Pulumi CLI uses Poetry (sdk/python/toolchain/poetry.go): `exec.LookPath("poetry")`,
`poetry --version --no-ansi --no-plugins` checked against Poetry ≥ 1.8, then
`poetry env info --path` in the program's directory; the program runs with that environment's
python.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SETUP_HEADING = "### Set up your shell"
# The first release that runs a Python policy pack through its Poetry toolchain: 3.221.0
# ("Use new policy plugin support to run policy packs", pulumi/pulumi#21684); before it, a
# Python pack ran in a plain virtualenv and ignored `toolchain`.
PULUMI_MINIMUM = (3, 221)
POETRY_MINIMUM = (1, 8)  # Pulumi's minPoetryVersion
# Pulumi's own parse of `poetry --version` (validateVersion in poetry.go).
POETRY_VERSION = re.compile(r"Poetry \(version (?P<version>\d+\.\d+(.\d+)?).*\)")
SKIPPED_DIRS = {".venv", ".tools", "build", ".git", "node_modules"}


def setup_block() -> str:
    text = README.read_text()
    section = text[text.index(SETUP_HEADING) :]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, f"no bash block under {SETUP_HEADING!r}"
    return match.group(1)


def pulumi_programs() -> dict[Path, dict[str, Any]]:
    """Every Pulumi project or policy pack of the repository, by directory."""
    found = {}
    for name in ("Pulumi.yaml", "PulumiPolicy.yaml"):
        for path in ROOT.rglob(name):
            if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                found[path.parent] = yaml.safe_load(path.read_text())
    return found


def shadowed_path(directory: Path) -> str:
    """The test's PATH behind a `poetry` that only fails: whatever Poetry this machine has, the
    set-up must put its own in front for the checks to pass."""
    directory.mkdir()
    shadow = directory / "poetry"
    shadow.write_text("#!/bin/sh\necho 'not the Poetry of this repository' >&2\nexit 127\n")
    shadow.chmod(0o755)
    return os.pathsep.join([str(directory), os.environ["PATH"]])


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.strip().split("."))


def test_every_pulumi_program_uses_the_poetry_toolchain():
    programs = pulumi_programs()
    expected = {ROOT / "stacks" / env for env in ("dev", "staging", "production")}
    assert set(programs) == expected | {ROOT / "bootstrap", ROOT / "policy"}
    for directory, project in programs.items():
        assert project["runtime"]["options"]["toolchain"] == "poetry", directory


@pytest.fixture(scope="module")
def after_setup(tmp_path_factory) -> dict[str, str]:
    """README's block run in a fresh shell and a fresh home, then what Pulumi would do."""
    home = tmp_path_factory.mktemp("home")
    base_path = shadowed_path(tmp_path_factory.mktemp("shadow") / "bin")
    before = subprocess.run(["poetry", "--version"], env={"PATH": base_path}, check=False,
                            capture_output=True, text=True)  # fmt: skip
    assert before.returncode == 127, before
    programs = sorted(pulumi_programs())
    probes = "\n".join(
        f'echo "env {directory}=$(cd {directory} && poetry env info --path)"'
        for directory in programs
    )
    script = (
        "set -euo pipefail\n"
        f"{setup_block()}\n"
        'echo "poetry=$(command -v poetry)"\n'
        'echo "version=$(poetry --version --no-ansi --no-plugins)"\n'
        f"{probes}\n"
    )
    env = {"PATH": base_path, "HOME": str(home), "LANG": "C.UTF-8"}
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if "=" in line]
    facts = dict(line.split("=", 1) for line in lines)
    facts["home"] = str(home)
    return facts


def test_setup_puts_poetry_on_path_and_only_poetry(after_setup):
    assert after_setup["poetry"] == str(ROOT / ".tools" / "bin" / "poetry")
    assert sorted(p.name for p in (ROOT / ".tools" / "bin").iterdir()) == ["poetry"]


def test_poetry_is_a_version_pulumi_accepts(after_setup):
    match = POETRY_VERSION.search(after_setup["version"])
    assert match, after_setup["version"]
    assert version(match.group("version"))[:2] >= POETRY_MINIMUM


def test_every_pulumi_program_resolves_the_repositorys_environment(after_setup):
    venv = (ROOT / ".venv").resolve()
    resolved = {
        Path(key.removeprefix("env ")): Path(value).resolve()
        for key, value in after_setup.items()
        if key.startswith("env ")
    }
    assert set(resolved) == set(pulumi_programs())
    assert set(resolved.values()) == {venv}
    assert (venv / "bin" / "python").is_file()


def test_setup_creates_the_bootstraps_local_backend(after_setup):
    url = yaml.safe_load((ROOT / "bootstrap" / "Pulumi.yaml").read_text())["backend"]["url"]
    assert url.startswith("file://~/")
    directory = Path(after_setup["home"]) / url.removeprefix("file://~/")
    assert directory.is_dir()


def test_readme_states_the_pulumi_minimum_and_ci_pins_a_release_above_it():
    deploying = README.read_text().split("## Deploying", 1)[1]
    [minimum] = re.findall(r"Pulumi CLI ≥ (\d+\.\d+)", deploying)
    assert version(minimum) == PULUMI_MINIMUM
    pinned = (ROOT / ".pulumi-version").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)
    assert version(pinned) >= PULUMI_MINIMUM
    lock = tomllib.loads((ROOT / "poetry.lock").read_text())
    [sdk] = [p["version"] for p in lock["package"] if p["name"] == "pulumi"]
    assert pinned == sdk  # the CLI is the release of the SDK the programs import
    # 3.221 still hangs loading a pack built on pulumi-policy 1.18.1 or older (fixed in 3.222).
    [policy_sdk] = [p["version"] for p in lock["package"] if p["name"] == "pulumi-policy"]
    assert version(policy_sdk) > (1, 18, 1)


def test_readme_states_the_python_the_repository_requires():
    deploying = README.read_text().split("## Deploying", 1)[1]
    assert "Python ≥ 3.11" in deploying
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"].startswith(">=3.11")
    assert "(3, 11)" in (ROOT / "scripts" / "install.sh").read_text()
