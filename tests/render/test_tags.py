"""Every taggable resource carries the mandatory tags, counting the provider's default_tags."""

from __future__ import annotations

import importlib
import inspect
import json
from functools import cache

import pytest

from platform_core.stack_files import read_stack_config
from platform_core.tagging import MANDATORY_TAG_KEYS
from tests.repository import ENVIRONMENTS, STACKS_DIR


@cache
def is_taggable(type_token: str) -> bool:
    """A resource is taggable when its pulumi-aws class takes `tags`."""
    _, module_path, class_name = type_token.split(":")
    module = module_path.split("/")[0]
    module = {"index": "", "lambda": "lambda_"}.get(module, module)
    sdk = importlib.import_module(f"pulumi_aws.{module}" if module else "pulumi_aws")
    return "tags" in inspect.signature(getattr(sdk, class_name)._internal_init).parameters


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_taggable_resource_has_the_mandatory_tags(rendered_stacks, env):
    stack = rendered_stacks[env]
    provider = stack.one("pulumi:providers:aws")
    default_tags = json.loads(provider.inputs["defaultTags"])["tags"]
    stack_file = read_stack_config(STACKS_DIR / env, env)
    assert default_tags == {
        "Environment": env,
        "ManagedBy": "Pulumi",
        "Project": "trading-analytics",
        "Team": stack_file["platform:team"],
        "CostCenter": stack_file["platform:costCenter"],
    }
    taggable = [r for r in stack.resources if r.type.startswith("aws:") and is_taggable(r.type)]
    assert len(taggable) >= 14
    for resource in taggable:
        effective = {**default_tags, **(resource.inputs.get("tags") or {})}
        assert set(MANDATORY_TAG_KEYS) <= set(effective), resource.urn
        assert effective["Environment"] == env, resource.urn


def test_taggability_is_read_from_the_sdk():
    assert is_taggable("aws:s3/bucket:Bucket")
    assert is_taggable("aws:lambda/function:Function")
    assert not is_taggable("aws:s3/bucketPolicy:BucketPolicy")
