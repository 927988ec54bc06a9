"""The pack against the three real stack programs (rendered by the mock engine): no violations,
and every policy has something of each environment to look at."""

from __future__ import annotations

import importlib
import inspect
import keyword
import runpy
from collections.abc import Mapping
from typing import Any

import pulumi_policy
import pytest
import yaml
from trading_policies import PACK_NAME, POLICIES, evaluate
from trading_policies.resource_rules import TAGGABLE_TYPES

from platform_core.offline import RenderedStack
from tests.render.policy.views import resource_view, stack_view
from tests.repository import ENVIRONMENTS, REPO_ROOT

POLICY_DIR = REPO_ROOT / "policy"
EXPECTED_POLICIES = {
    "lambda-arm64",
    "log-group-retention",
    "lambda-log-group-exists",
    "s3-encrypted-and-private",
    "iam-no-wildcard-actions",
    "mandatory-tags",
    "destroyable-non-production",
    "dynamodb-encryption",
    "rds-encrypted-and-private",
}
# Types each policy must find in every environment, so "no violation" means "checked and fine".
SUBJECTS = {
    "aws:lambda/function:Function": 1,
    "aws:cloudwatch/logGroup:LogGroup": 1,
    "aws:s3/bucket:Bucket": 2,
    "aws:s3/bucketPolicy:BucketPolicy": 2,
    "aws:iam/rolePolicy:RolePolicy": 1,
    "aws:dynamodb/table:Table": 1,
}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_passes_every_policy(
    rendered_stacks: Mapping[str, RenderedStack], environment: str
) -> None:
    rendered = rendered_stacks[environment]
    violations = evaluate(POLICIES, resource_view(rendered), stack_view(rendered))
    assert violations == []
    for type_, count in SUBJECTS.items():
        assert len(rendered.of_type(type_)) == count, type_


def test_the_pack_has_the_mandatory_policies_all_mandatory() -> None:
    assert {policy.name for policy in POLICIES} == EXPECTED_POLICIES
    assert {policy.enforcement_level for policy in POLICIES} == {
        pulumi_policy.EnforcementLevel.MANDATORY
    }


def test_main_builds_the_pack_from_the_importable_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    built: dict[str, Any] = {}

    def record(**kwargs: Any) -> None:
        built.update(kwargs)  # the real constructor would start the analyzer and block

    monkeypatch.setattr(pulumi_policy, "PolicyPack", record)
    runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")
    assert built["name"] == PACK_NAME
    assert list(built["policies"]) == list(POLICIES)
    assert built["enforcement_level"] is pulumi_policy.EnforcementLevel.MANDATORY


def test_pack_project_file_runs_python_in_the_repository_environment() -> None:
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "poetry"}}
    assert project["version"]


def _sdk_class(type_: str) -> Any:
    package, module_path, class_name = type_.split(":")
    module_name = module_path.split("/")[0]
    module_name += "_" if keyword.iskeyword(module_name) else ""  # `lambda` is `lambda_`
    module = importlib.import_module(f"pulumi_{package}.{module_name}")
    return getattr(module, class_name)


def test_taggable_types_agree_with_the_aws_sdk(
    rendered_stacks: Mapping[str, RenderedStack],
) -> None:
    types = {
        resource.type
        for rendered in rendered_stacks.values()
        for resource in rendered.resources
        if resource.custom and resource.type.startswith("aws:")
    }
    types |= set(TAGGABLE_TYPES)
    for type_ in sorted(types):
        parameters = inspect.signature(_sdk_class(type_)._internal_init).parameters
        assert ("tags" in parameters) == (type_ in TAGGABLE_TYPES), type_
