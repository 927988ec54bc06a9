"""A fourth environment, added the way README says, renders, reports and passes the policies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from trading_policies import POLICIES, evaluate

from platform_core.consistency import compare, inventory, unexplained
from platform_core.environment_report import build_report, render_environments
from platform_core.environments import discover_environments
from platform_core.new_environment import main
from platform_core.offline import render_stack
from platform_core.organisation import backend_problems, find_organisation
from platform_core.schema import check_file
from tests.render.policy.views import resource_view, stack_view
from tests.repository import ENVIRONMENTS, REPO_ROOT


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's environments, bootstrap stack files and pipelines, plus `qa`."""
    root = tmp_path_factory.mktemp("repository")
    shutil.copy(REPO_ROOT / "organisation.yaml", root)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks", ignore=ignore)
    shutil.copytree(REPO_ROOT / "bootstrap", root / "bootstrap", ignore=ignore)
    shutil.copytree(REPO_ROOT / ".github", root / ".github", ignore=ignore)
    command = ["qa", "--like", "staging", "--cost-center", "cc-1042-qa"]
    assert main(command, root=root) == 0
    return root


def test_the_command_writes_the_environments_three_parts(repository):
    assert discover_environments(repository / "stacks") == (
        *ENVIRONMENTS[:2],
        "qa",
        *ENVIRONMENTS[2:],
    )
    config = yaml.safe_load((repository / "stacks" / "qa" / "Pulumi.qa.yaml").read_text())["config"]
    assert config["platform:defaults"] == "staging"
    assert config["platform:costCenter"] == "cc-1042-qa"
    assert config["platform:vpcCidr"] == "10.3.0.0/16"  # the first range no environment uses
    assert (repository / "bootstrap" / "Pulumi.qa.yaml").is_file()
    workflow = (repository / ".github" / "workflows" / "qa.yml").read_text()
    assert '"stacks/qa/**"' in workflow and "staging" not in workflow
    drift = (repository / ".github" / "workflows" / "drift-qa.yml").read_text()
    assert "environment: qa" in drift and "staging" not in drift
    assert backend_problems(find_organisation(repository), repository / "stacks") == []


def test_its_stack_file_names_the_schema_and_passes_the_check(repository):
    path = repository / "stacks" / "qa" / "Pulumi.qa.yaml"
    first_line = path.read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../../schema/stack-config.schema.json"
    assert check_file(path).ok


def test_the_new_environment_renders_with_stagings_dials(repository):
    qa = render_stack(repository / "stacks" / "qa")
    function = qa.one("aws:lambda/function:Function").inputs
    assert function["name"] == "qa-trading-processor-us-east-1"
    assert function["memorySize"] == 1024 and function["reservedConcurrentExecutions"] == 50
    assert qa.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"] == "10.3.0.0/16"


def test_its_report_explains_every_difference(repository):
    rendered = render_environments(repository / "stacks")
    assert list(rendered) == ["dev", "staging", "qa", "production"]
    assert unexplained(compare({env: inventory(s, env) for env, s in rendered.items()})) == []
    report = build_report(rendered)
    assert "| dev | staging | qa | production | dial |" in report
    assert "Unexplained differences: 0." in report


def test_it_passes_every_policy(repository):
    qa = render_stack(repository / "stacks" / "qa")
    assert evaluate(POLICIES, resource_view(qa), stack_view(qa)) == []


def test_its_bootstrap_renders(repository):
    bootstrap = render_stack(repository / "bootstrap", stack="qa")
    assert bootstrap.outputs["state_bucket_name"] == find_organisation(repository).state_bucket(
        "qa"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["staging", "--like", "dev"], "stacks/staging exists already"),
        (["QA", "--like", "dev"], "must be 1-12 lowercase letters or digits"),
        (["uat", "--like", "prod"], "--like 'prod': must be one of dev, staging, qa, production"),
        # The CI workflow that runs the tests is .github/workflows/test.yml.
        (["test", "--like", "dev"], "name 'test': .github/workflows/test.yml exists already and would be overwritten"),
        (["bootstrap", "--like", "dev"], "name 'bootstrap': the repository has a bootstrap/ of its own"),
        (["uat", "--like", "dev", "--vpc-cidr", "10.2.0.0/16"],
         "--vpc-cidr 10.2.0.0/16: overlaps dev's 10.2.0.0/16; each environment needs a range of its own (so they can be peered), e.g. 10.4.0.0/16"),
        (["uat", "--like", "dev", "--vpc-cidr", "10.0.0.0/8"], "--vpc-cidr 10.0.0.0/8: overlaps dev's 10.2.0.0/16, staging's 10.1.0.0/16, qa's 10.3.0.0/16, production's 10.0.0.0/16"),
        (["uat", "--like", "dev", "--vpc-cidr", "8.8.0.0/16"], "platform:vpcCidr = '8.8.0.0/16': must be a private IPv4 network"),
        (["uat", "--like", "dev", "--cost-center", ""], "--cost-center '': must be 1-256 characters"),
        (["uat", "--like", "dev", "--cost-center", " "], "--cost-center ' ': must be 1-256 characters"),
    ],
)  # fmt: skip
def test_bad_requests_write_nothing(repository, capsys, argv, message):
    def files() -> dict[str, str]:
        return {
            str(path.relative_to(repository)): path.read_text()
            for path in sorted(repository.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts
        }

    before = files()
    assert main(argv, root=repository) == 2
    assert message in capsys.readouterr().err
    assert files() == before
