"""The scheduled drift check: one workflow per environment, each running the reusable
pulumi-drift.yml with that environment's preview role (its script: tests/e2e/test_drift_check.py).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from trading_bootstrap import build_bootstrap_config

from tests.repository import ENVIRONMENTS, ORGANISATION, REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
REUSABLE = "pulumi-drift.yml"


def load(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_is_checked_on_a_schedule_and_on_demand(environment):
    workflow = load(f"drift-{environment}.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    [schedule] = workflow["on"]["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    assert job["uses"] == f"./.github/workflows/{REUSABLE}"
    assert job["with"] == {"environment": environment}
    # Its preview role (OIDC), the issue; nothing else.
    assert job["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}


def test_the_drift_workflows_differ_only_in_the_environment_name():
    texts = {
        (WORKFLOWS / f"drift-{env}.yml").read_text().replace(env, "<env>") for env in ENVIRONMENTS
    }
    assert len(texts) == 1


def test_the_check_runs_in_the_github_environment_the_preview_role_trusts():
    job = load(REUSABLE)["jobs"]["drift"]
    assert job["environment"] == "${{ format('{0}-preview', inputs.environment) }}"
    for environment in ENVIRONMENTS:
        config = build_bootstrap_config(environment, {
            "accountId": "111111111111", "githubOrganization": "o", "githubRepository": "r",
            "team": "t", "costCenter": "c", "aws:region": "us-east-1",
        }, ORGANISATION, ENVIRONMENTS)  # fmt: skip
        assert config.preview_github_environment == f"{environment}-preview"
    assert "permissions" not in job  # only what the calling job grants


def test_checks_never_overlap_and_never_queue_with_the_deploys():
    concurrency = load(REUSABLE)["jobs"]["drift"]["concurrency"]
    assert concurrency == {
        "group": "${{ format('pulumi-{0}-drift', inputs.environment) }}",
        "cancel-in-progress": False,
    }
    deploys = load("pulumi-stack.yml")["jobs"]["pulumi"]["concurrency"]["group"]
    assert "drift" not in deploys


def test_the_check_installs_the_pinned_cli_assumes_the_role_and_runs_the_script():
    job = load(REUSABLE)["jobs"]["drift"]
    steps = job["steps"]
    assert job["env"]["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true"
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"persist-credentials": False}
    labels = [step.get("uses", step.get("run", "")).split("@")[0] for step in steps]
    installer = steps[labels.index("pulumi/actions")]
    assert installer["with"] == {"pulumi-version-file": ".pulumi-version"}
    credentials = steps[labels.index("aws-actions/configure-aws-credentials")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])
    [check] = [step for step in steps if "scripts/drift.py" in step.get("run", "")]
    assert steps.index(check) == len(steps) - 1  # after the credentials, last
    assert (
        check["run"] == '.venv/bin/python scripts/drift.py "$ENVIRONMENT" --issue --report drift.md'
    )
    assert check["env"] == {
        "ENVIRONMENT": "${{ inputs.environment }}",
        "GH_TOKEN": "${{ github.token }}",
    }
    assert (REPO_ROOT / "scripts" / "drift.py").is_file()
