"""`python -m platform_core.preview` run as a user runs it, in a git repository made of this one.

Each test copies the repository's files into a fresh git repository (branch main, one commit),
changes it the way a contributor would, and runs the command there: the base revision renders
from a temporary worktree with its own code, the working tree as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from platform_core.artifact import build_package_artifact
from platform_core.platform import ARTIFACT_DIR, PROCESSOR_PACKAGE
from tests.repository import REPO_ROOT

COMMAND = [sys.executable, "-m", "platform_core.preview"]
DEV = Path("stacks") / "dev" / "Pulumi.dev.yaml"


def git(repository: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.fixture(scope="module")
def wheels() -> Path:
    """The function's arm64 wheels, as every render of this checkout has them (no download)."""
    build_package_artifact(PROCESSOR_PACKAGE, ARTIFACT_DIR)
    return ARTIFACT_DIR / "wheels"


@pytest.fixture
def repository(tmp_path: Path, wheels: Path) -> Path:
    """This repository's files (tracked and new, as on disk) committed to a fresh `main`."""
    root = tmp_path / "repository"
    listed = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    shutil.copytree(wheels, root / "build" / "lambda" / "wheels")
    git(root.parent, "init", "-q", "-b", "main", str(root))
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "test")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def run(repository: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], cwd=repository, capture_output=True, text=True, check=False, timeout=600
    )


def set_dial(repository: Path, line: str) -> None:
    path = repository / DEV
    path.write_text(path.read_text() + f"  {line}\n")


def test_a_one_dial_change_shows_its_resources_properties_and_cost(repository):
    set_dial(repository, "platform:xrayTracing: true")
    result = run(repository, "--environment", "dev", "--exit-code")
    assert result.returncode == 1, result.stderr  # --exit-code: something changes
    lines = result.stdout.splitlines()
    base = git(repository, "rev-parse", "HEAD").strip()[:12]
    assert lines[0] == f"Offline preview: the working tree against {base} (merge base with main)"
    [summary] = [line for line in lines if line.startswith("dev: ")]
    # X-Ray's endpoint is 2 zones x 730 h x $0.01 = $14.60; its traces cost a few cents.
    assert summary.startswith("dev: 2 to create, 2 to update, ")
    assert "(+$14.6" in summary
    assert "  + trading-analytics/network/xray-endpoint  (aws:ec2/vpcEndpoint:VpcEndpoint)" in lines
    assert '      serviceName: "com.amazonaws.us-east-1.xray"' in lines
    assert '      tracingConfig.mode: "PassThrough" → "Active"' in lines
    assert '      policy.Statement[UploadTraces].Effect: (absent) → "Allow"' in lines
    # The user's checkout is as it was: the one edit, no worktree left behind.
    assert git(repository, "status", "--porcelain").splitlines() == [f" M {DEV.as_posix()}"]
    assert len(git(repository, "worktree", "list").splitlines()) == 1


def add_environment(repository: Path, name: str) -> None:
    """A copy of dev called ``name``, made by hand the way README's recipe makes one."""
    copy = repository / "stacks" / name
    shutil.copytree(repository / "stacks" / "dev", copy)
    (copy / "Pulumi.dev.yaml").rename(copy / f"Pulumi.{name}.yaml")
    config = (copy / f"Pulumi.{name}.yaml").read_text().replace("cc-1042-dev", f"cc-1042-{name}")
    (copy / f"Pulumi.{name}.yaml").write_text(config + "  platform:defaults: dev\n")


def test_markdown_against_a_given_base_with_an_environment_only_the_working_tree_has(repository):
    set_dial(repository, "platform:lambdaMemoryMb: 768")
    git(repository, "commit", "-q", "-am", "more memory for dev")
    add_environment(repository, "qa")
    result = run(
        repository, "--base", "HEAD~1", "--environment", "dev", "--environment", "qa",
        "--format", "markdown",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr  # changes, but no --exit-code
    document = result.stdout
    assert document.startswith("### Offline preview\n")
    summary = {
        line.split(" | ")[0]: line for line in document.splitlines() if line.startswith("| ")
    }
    assert summary["| dev"].startswith("| dev | 1 to update | $")
    assert summary["| qa"].startswith("| qa | new environment: ")
    assert "$0.00 → $" in summary["| qa"]
    assert "| <code>memorySize</code> | <code>512</code> | <code>768</code> |" in document
    assert "- `+` <code>trading-analytics/processor/function</code>" in document


def test_a_working_tree_that_does_not_render_is_an_error_with_the_configs_message(repository):
    set_dial(repository, "platform:lambdaMemoryMb: 99999")
    result = run(repository, "--environment", "dev")
    assert result.returncode == 2
    assert "dev: does not render" in result.stdout
    assert (
        "platform:lambdaMemoryMb = '99999': must be an integer from 128 to 10240" in result.stdout
    )
    assert "Traceback" not in result.stdout


def test_a_base_revision_of_another_layout_is_a_clear_error_not_a_traceback(repository):
    # An old revision: stack projects, but no platform_core package installed from its root.
    git(repository, "checkout", "-q", "--orphan", "ancient")
    git(repository, "rm", "-rq", "--cached", "packages")
    shutil.rmtree(repository / "packages")
    pyproject = repository / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("platform-core = { path", "# platform-core = { path")
    )
    git(repository, "commit", "-q", "-am", "an older layout")
    git(repository, "checkout", "-q", "-f", "main")
    result = run(repository, "--base", "ancient", "--environment", "dev")
    assert result.returncode == 2
    # Its stacks are not rendered with the working tree's platform_core instead.
    assert "cannot be rendered: it has no platform_core.offline.render_stack" in result.stderr
    assert "No module named 'platform_core'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(git(repository, "worktree", "list").splitlines()) == 1


def test_an_unknown_base_or_environment_is_an_error_naming_it(repository):
    unknown = run(repository, "--base", "no-such-branch")
    assert unknown.returncode == 2
    assert "--base no-such-branch: no such commit" in unknown.stderr
    environment = run(repository, "--environment", "nowhere")
    assert environment.returncode == 2
    assert "--environment nowhere: no such environment on either side" in environment.stderr


def test_a_stack_file_that_is_not_yaml_is_an_error_naming_the_side(repository):
    (repository / DEV).write_text("config: [unclosed\n")
    result = run(repository, "--environment", "dev")
    assert result.returncode == 2
    assert result.stderr.startswith("error: the working tree: cannot read its stack files: ")
    assert "Traceback" not in result.stderr


def test_help_explains_the_base_and_the_exit_status():
    result = subprocess.run([*COMMAND, "--help"], capture_output=True, text=True, check=True)
    assert "git merge-base HEAD main" in result.stdout
    assert "Exit status: 0" in result.stdout


def test_without_a_main_branch_the_base_must_be_named(repository):
    git(repository, "branch", "-m", "main", "trunk")
    result = run(repository)
    assert result.returncode == 2
    assert "none of the branches main, origin/main exists to compare with: pass --base REV" in (
        result.stderr
    )
