"""One organisation prefix makes every global name unique, and the backend URLs follow it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from trading_bootstrap.config import bootstrap_settings_of, build_bootstrap_config

from platform_core.environments import discover_environments
from platform_core.errors import ConfigError
from platform_core.organisation import (
    Organisation,
    backend_problems,
    find_organisation,
    parse_prefix,
)
from platform_core.organisation.cli import main
from platform_core.stack_files import read_project, read_stack_config
from tests.repository import ENVIRONMENTS, ORGANISATION, REPO_ROOT, STACKS_DIR

BOOTSTRAP_DIR = REPO_ROOT / "bootstrap"


def test_state_buckets_and_backend_urls_derive_from_the_prefix():
    acme = Organisation("acme")
    assert acme.state_bucket("dev") == "acme-pulumi-state-dev"
    assert acme.backend_url("dev", "eu-west-1") == (
        "s3://acme-pulumi-state-dev?region=eu-west-1&awssdk=v2"
    )
    assert acme.global_name("dev-trading-ingest-us-east-1") == "acme-dev-trading-ingest-us-east-1"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_backend_url_names_exactly_the_bootstraps_state_bucket(environment):
    bootstrap = build_bootstrap_config(
        environment,
        bootstrap_settings_of(read_stack_config(BOOTSTRAP_DIR, environment)),
        ORGANISATION,
        ENVIRONMENTS,
    )
    url = read_project(STACKS_DIR / environment)["backend"]["url"]
    assert url == bootstrap.backend_url
    assert url.startswith(f"s3://{ORGANISATION.prefix}-pulumi-state-{environment}?")


def test_the_committed_backend_urls_agree_with_organisation_yaml():
    assert backend_problems(ORGANISATION) == []


@pytest.mark.parametrize("prefix", ["acme", "a", "team-7", "x" * 24])
def test_valid_prefixes(prefix):
    assert parse_prefix(prefix, "test").prefix == prefix


@pytest.mark.parametrize("prefix", ["", "Acme", "-acme", "acme-", "ac_me", "x" * 25, None])
def test_invalid_prefixes_say_what_is_allowed(prefix):
    with pytest.raises(ConfigError, match="must be 1-24 lowercase letters, digits or '-'"):
        parse_prefix(prefix, "organisation.yaml")


@pytest.mark.parametrize(
    ("prefix", "reserved"),
    [
        ("xn--acme", "xn--"),
        ("sthree-acme", "sthree-"),
        ("sthree", "sthree-"),
        ("amzn-s3-demo", "amzn-s3-demo-"),
    ],  # fmt: skip
)
def test_prefixes_s3_reserves_are_refused(prefix, reserved):
    with pytest.raises(ConfigError, match=f"must not start with '{reserved}'"):
        parse_prefix(prefix, "organisation.yaml")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A copy of this repository's organisation file and stack projects."""
    shutil.copy(REPO_ROOT / "organisation.yaml", tmp_path)
    for environment in ENVIRONMENTS:
        shutil.copytree(
            STACKS_DIR / environment,
            tmp_path / "stacks" / environment,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return tmp_path


def test_the_command_rewrites_the_prefix_and_every_backend_url(repository, capsys):
    assert main(["acme-corp"], root=repository) == 0
    assert find_organisation(repository / "stacks" / "dev") == Organisation("acme-corp")
    for environment in discover_environments(repository / "stacks"):
        text = (repository / "stacks" / environment / "Pulumi.yaml").read_text()
        assert f"url: s3://acme-corp-pulumi-state-{environment}?region=us-east-1&awssdk=v2" in text
    assert "wrote stacks/dev/Pulumi.yaml" in capsys.readouterr().out
    assert main(["--check"], root=repository) == 0


def test_check_fails_naming_the_stack_whose_url_disagrees(repository, capsys):
    pulumi_yaml = repository / "stacks" / ENVIRONMENTS[0] / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace("-pulumi-state-", "-state-"))
    assert main(["--check"], root=repository) == 1
    assert f"stacks/{ENVIRONMENTS[0]}/Pulumi.yaml: backend.url is" in capsys.readouterr().err


def test_a_bad_prefix_on_the_command_line_changes_nothing(repository, capsys):
    before = (repository / "organisation.yaml").read_text()
    assert main(["Not_Valid"], root=repository) == 2
    assert "must be 1-24 lowercase letters" in capsys.readouterr().err
    assert (repository / "organisation.yaml").read_text() == before


def test_a_missing_organisation_file_says_how_to_create_it(tmp_path):
    with pytest.raises(ConfigError, match=r"create it at the repository's root with"):
        find_organisation(tmp_path)


def test_unknown_keys_in_the_organisation_file_are_refused(tmp_path):
    (tmp_path / "organisation.yaml").write_text("prefix: acme\nprefx: acme\n")
    with pytest.raises(ConfigError, match="unknown key"):
        find_organisation(tmp_path)


@pytest.mark.parametrize("argv", [[], ["--check"]])
def test_the_command_without_a_prefix_says_what_it_found(repository, capsys, argv):
    assert main(argv, root=repository) == 0
    out = capsys.readouterr().out
    expected = f"prefix {ORGANISATION.prefix!r} (organisation.yaml); the backend URLs of "
    assert out == expected + f"{len(ENVIRONMENTS)} environments are in step\n"


def test_the_command_runs_as_a_module_without_warnings():
    # README's first deployment step: the package must not have imported the module it runs.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "platform_core.organisation", "--check"],
        capture_output=True, text=True, check=False, cwd=REPO_ROOT, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert "are in step" in result.stdout
