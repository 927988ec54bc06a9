"""One GitHub Actions pipeline per environment and a test workflow, linted against the GitHub
workflow schema (check-jsonschema's vendored copy, installed from the dev dependencies), and
checked for what the schema cannot know: path filters, OIDC roles, approvals, concurrency, the
policy pack, stack creation, pinned actions and CLI, credentials that do not outlive checkout."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from trading_bootstrap import build_bootstrap_config

from tests.repository import ENVIRONMENTS, ORGANISATION, REPO_ROOT

ROOT = REPO_ROOT
WORKFLOWS = ROOT / ".github" / "workflows"
REUSABLE = "pulumi-stack.yml"
TEST = "test.yml"
# The offline preview and the workflow that posts it (tests/workflows/test_offline_preview.py).
OFFLINE_PREVIEW = {"offline-preview.yml", "offline-preview-comment.yml"}
# The scheduled drift check of each environment (tests/unit/workflows/test_drift_workflows.py).
DRIFT = {f"drift-{env}.yml" for env in ENVIRONMENTS} | {"pulumi-drift.yml"}
# Pull requests' copies of dev (tests/unit/workflows/test_pr_environment_workflow.py).
PR_ENVIRONMENT = "pr-environment.yml"
# What every environment's deploy depends on besides its own stack directory: the shared code,
# the locked environment, the helpers the pipeline runs and the Pulumi CLI it installs.
SHARED_PATHS = {
    "packages/**", "services/**", "policy/**", "pyproject.toml", "poetry.lock", "scripts/**",
    ".pulumi-version",
}  # fmt: skip


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
               "vendor.github-workflows", *map(str, files)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False)


def load(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


def test_every_workflow_passes_the_github_workflow_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    expected = (
        {f"{env}.yml" for env in ENVIRONMENTS}
        | {REUSABLE, TEST, PR_ENVIRONMENT}
        | OFFLINE_PREVIEW
        | DRIFT
    )
    assert {f.name for f in files} == expected
    result = lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "dev.yml").read_text().replace("    uses: ./", "    usse: ./", 1)
    broken.write_text(text)
    result = lint(broken)
    assert result.returncode == 1
    assert "broken.yml" in result.stdout


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_pipeline_runs_on_its_own_stack_and_the_shared_code_only(environment: str) -> None:
    workflow = load(f"{environment}.yml")
    assert workflow["name"] == environment
    for event in ("pull_request", "push"):
        trigger = workflow["on"][event]
        assert trigger["branches"] == ["main"]
        paths = set(trigger["paths"])
        assert {f"stacks/{environment}/**", *SHARED_PATHS} <= paths
        assert not [p for p in paths if p.startswith("stacks/") and environment not in p]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_preview_on_pull_requests_and_deploy_on_main(environment: str) -> None:
    jobs = load(f"{environment}.yml")["jobs"]
    assert set(jobs) == {"preview", "deploy"}
    assert jobs["preview"]["if"] == "github.event_name == 'pull_request'"
    assert jobs["deploy"]["if"] == "github.event_name != 'pull_request'"
    for job, command in (("preview", "preview"), ("deploy", "up")):
        assert jobs[job]["uses"] == f"./.github/workflows/{REUSABLE}"
        assert jobs[job]["with"] == {"environment": environment, "command": command}
        assert jobs[job]["permissions"]["id-token"] == "write"
    assert "pull-requests" not in jobs["deploy"]["permissions"]


def test_the_three_pipelines_differ_only_in_the_environment_name() -> None:
    texts = {(WORKFLOWS / f"{env}.yml").read_text().replace(env, "<env>") for env in ENVIRONMENTS}
    assert len(texts) == 1


def test_stack_job_uses_its_github_environment_and_never_overlaps_a_deploy() -> None:
    job = load(REUSABLE)["jobs"]["pulumi"]
    # `up` runs in the GitHub environment named like the stack (production's is protected by a
    # required reviewer); previews in `<env>-preview`: the bootstrap trusts exactly these.
    assert job["environment"] == (
        "${{ inputs.command == 'up' && inputs.environment "
        "|| format('{0}-preview', inputs.environment) }}"
    )
    assert "format('pulumi-{0}-deploy', inputs.environment)" in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] == "${{ inputs.command != 'up' }}"
    assert "permissions" not in job  # only what the calling job grants


def test_stack_job_installs_the_project_way_assumes_a_role_and_applies_the_policy_pack() -> None:
    steps = load(REUSABLE)["jobs"]["pulumi"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "./scripts/install.sh" in runs
    assert '"$GITHUB_WORKSPACE/.tools/bin" >> "$GITHUB_PATH"' in runs  # Poetry, for the toolchain
    by_action = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}  # the last
    credentials = by_action["aws-actions/configure-aws-credentials"]["with"]
    assert credentials["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials)
    pulumi = by_action["pulumi/actions"]["with"]
    assert pulumi["command"] == "${{ inputs.command }}"
    assert pulumi["stack-name"] == "${{ inputs.environment }}"
    assert pulumi["work-dir"] == "stacks/${{ inputs.environment }}"
    assert pulumi["policyPacks"] == "${{ github.workspace }}/policy"
    assert (ROOT / "policy" / "PulumiPolicy.yaml").is_file()
    order = [step.get("uses", step.get("run", "")).split("@")[0] for step in steps]
    last_pulumi = max(i for i, label in enumerate(order) if label == "pulumi/actions")
    assert order.index("aws-actions/configure-aws-credentials") < last_pulumi


def test_github_environments_match_the_roles_the_bootstrap_trusts() -> None:
    for environment in ENVIRONMENTS:
        config = build_bootstrap_config(environment, {
            "accountId": "111111111111", "githubOrganization": "o", "githubRepository": "r",
            "team": "t", "costCenter": "c", "aws:region": "us-east-1",
        }, ORGANISATION, ENVIRONMENTS)  # fmt: skip
        assert config.deploy_github_environment == environment
        assert config.preview_github_environment == f"{environment}-preview"


# Each third-party action at one release, as its repository tags it (commit of the tag).
PINNED = {
    "actions/checkout": ("v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1"),
    "actions/setup-python": ("v7.0.0", "5fda3b95a4ea91299a34e894583c3862153e4b97"),
    "aws-actions/configure-aws-credentials": (
        "v6.2.3",
        "e6de054238d6b7531b4efff3b6587d9aade6a06c",
    ),
    "pulumi/actions": ("v7.0.0", "8e5e406f4007fca908480587cb9893c07090f58d"),
    "actions/upload-artifact": ("v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"),
}
USES = re.compile(r"^\s*(?:- )?uses: (?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>.*)$")


def pin_problems(text: str) -> tuple[list[str], set[str]]:
    """Lines that use a third-party action other than at its pinned commit and tag comment,
    and the actions seen."""
    problems, seen = [], set()
    for line in text.splitlines():
        match = USES.match(line)
        if match is None or match["action"].startswith("./"):
            continue  # not an action, or this repository's own reusable workflow
        action, ref, comment = match["action"], match["ref"], match["comment"].strip()
        tag, commit = PINNED.get(action, ("?", "?"))
        if (ref, comment) != (commit, f"# {tag}"):
            problems.append(line.strip())
        seen.add(action)
    return problems, seen


def steps_of(name: str) -> list[dict[str, Any]]:
    return [step for job in load(name)["jobs"].values() for step in job.get("steps", [])]


def test_third_party_actions_are_pinned_to_a_release_commit_named_in_a_comment():
    seen: set[str] = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        problems, used = pin_problems(path.read_text())
        assert problems == [], path.name
        seen |= used
    assert seen == set(PINNED)


def test_the_pin_check_rejects_tags_unknown_actions_and_wrong_comments():
    checkout = PINNED["actions/checkout"][1]
    text = "\n".join([
        "      - uses: actions/checkout@v4",
        f"      - uses: actions/checkout@{checkout} # v6.0.0",
        f"      - uses: someone/else@{checkout} # v7.0.1",
        f"      - uses: actions/checkout@{checkout} # v7.0.1",
        "    uses: ./.github/workflows/pulumi-stack.yml",
    ])  # fmt: skip
    problems, _ = pin_problems(text)
    assert len(problems) == 3


def test_every_checkout_drops_its_credentials():
    for name in (REUSABLE, TEST):
        checkouts = [s for s in steps_of(name) if s.get("uses", "").startswith("actions/checkout@")]
        assert checkouts, name
        assert all(s["with"]["persist-credentials"] is False for s in checkouts), name


def test_pulumi_cli_is_the_pinned_version_wherever_it_is_installed():
    steps = [s for s in steps_of(REUSABLE) if s.get("uses", "").startswith("pulumi/actions@")]
    assert [s["with"]["pulumi-version-file"] for s in steps] == [".pulumi-version"] * 2
    assert all("pulumi-version" not in s["with"] for s in steps)
    installer, runner = steps
    assert "command" not in installer["with"]  # install only, before the stack is selected
    assert (ROOT / ".pulumi-version").is_file()


def test_a_missing_stack_is_created_before_the_pulumi_command_runs():
    job = load(REUSABLE)["jobs"]["pulumi"]
    # A stack created by the pipeline keeps its KMS secrets provider in its state only.
    assert job["env"]["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true"
    steps = job["steps"]
    labels = [s.get("uses", s.get("run", "")).split("@")[0] for s in steps]
    [select] = [i for i, s in enumerate(steps) if "scripts/select_stack.py" in s.get("run", "")]
    credentials = labels.index("aws-actions/configure-aws-credentials")
    command = max(i for i, label in enumerate(labels) if label == "pulumi/actions")
    assert credentials < select < command
    run = steps[select]["run"]
    assert '.venv/bin/python scripts/select_stack.py "$ENVIRONMENT" --preview' in run
    assert steps[select]["env"] == {
        "ENVIRONMENT": "${{ inputs.environment }}",
        "COMMAND": "${{ inputs.command }}",
    }
    assert (ROOT / "scripts" / "select_stack.py").is_file()


def test_the_test_workflow_runs_readmes_test_command_on_every_pull_request_and_on_main():
    workflow = load(TEST)
    assert workflow["on"]["pull_request"] is None  # every pull request, no filter
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["permissions"] == {"contents": "read"}
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"^(make test)\s+#", readme, re.MULTILINE)
    assert command, "README no longer shows its test command"
    runs = [s["run"] for s in steps_of(TEST) if "run" in s]
    assert runs == [command.group(1)]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
