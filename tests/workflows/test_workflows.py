"""R-17: one GitHub Actions pipeline per environment, linted against the GitHub workflow schema
(check-jsonschema's vendored copy, installed from the dev dependencies), and checked for what
the schema cannot know: path filters, OIDC roles, approvals, concurrency, the policy pack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from trading_bootstrap import build_bootstrap_config

from tests.repository import ENVIRONMENTS, ORGANISATION

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
REUSABLE = "pulumi-stack.yml"
SHARED_PATHS = {"packages/**", "services/**"}


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
    assert {f.name for f in files} == {f"{env}.yml" for env in ENVIRONMENTS} | {REUSABLE}
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
    by_action = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
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
    assert order.index("aws-actions/configure-aws-credentials") < order.index("pulumi/actions")


def test_github_environments_match_the_roles_the_bootstrap_trusts() -> None:
    for environment in ENVIRONMENTS:
        config = build_bootstrap_config(environment, {
            "accountId": "111111111111", "githubOrganization": "o", "githubRepository": "r",
            "team": "t", "costCenter": "c", "aws:region": "us-east-1",
        }, ORGANISATION, ENVIRONMENTS)  # fmt: skip
        assert config.deploy_github_environment == environment
        assert config.preview_github_environment == f"{environment}-preview"
