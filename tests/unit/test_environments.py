"""Environments are directories of stacks/, found in the order of the defaults they take."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from platform_core.environments import discover_environments
from platform_core.loading import build_config, settings_of
from platform_core.stack_files import read_stack_config
from tests.repository import ENVIRONMENTS, ORGANISATION, STACKS_DIR


def test_this_repository_has_the_three_specified_environments_in_order():
    assert discover_environments(STACKS_DIR)[:3] == ("dev", "staging", "production")


def test_a_new_directory_is_an_environment_placed_by_its_defaults(tmp_path: Path):
    for environment in ("production", "dev", "staging"):
        shutil.copytree(STACKS_DIR / environment, tmp_path / environment)
    qa = tmp_path / "qa"
    qa.mkdir()
    (qa / "Pulumi.yaml").write_text("name: trading-analytics-qa\n")
    (qa / "Pulumi.qa.yaml").write_text("config:\n  platform:defaults: dev\n")
    aa = tmp_path / "aa"
    aa.mkdir()
    (aa / "Pulumi.yaml").write_text("name: trading-analytics-aa\n")
    (aa / "Pulumi.aa.yaml").write_text("config:\n  platform:defaults: production\n")
    (tmp_path / "notes").mkdir()  # not a project: ignored
    half = tmp_path / "half"
    half.mkdir()
    (half / "Pulumi.yaml").write_text("name: x\n")  # no stack file: ignored
    assert discover_environments(tmp_path) == ("dev", "qa", "staging", "production", "aa")


def test_the_committed_environments_vpc_ranges_are_distinct():
    # Each environment's range (its setting, or its defaults'), so the VPCs can be peered.
    ranges = {
        env: build_config(
            env, settings_of(read_stack_config(STACKS_DIR / env, env)), ORGANISATION
        ).vpc_cidr
        for env in ENVIRONMENTS
    }
    for first, second in itertools.combinations(ranges, 2):
        assert not ranges[first].overlaps(ranges[second]), (first, second)
