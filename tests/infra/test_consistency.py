"""R-15 and R-3: one design, three sets of dials; the stack directories differ only in their name."""

from __future__ import annotations

import re

from platform_core.consistency import compare, inventory

ENVIRONMENTS = ("dev", "staging", "production")


def test_every_difference_between_environments_is_a_dial(rendered_stacks):
    inventories = {env: inventory(rendered_stacks[env], env) for env in ENVIRONMENTS}
    differences = compare(inventories)
    unexplained = [(d.path, d.key, dict(d.values)) for d in differences if d.dial is None]
    assert unexplained == []
    # The dials of SPEC §2 do show up: a broken comparison would find nothing.
    assert {"lambdaMemoryMb", "logRetentionDays", "dynamodbBillingMode", "s3Versioning",
            "vpcCidr", "alarmProfile", "xrayTracing", "reservedConcurrency"} <= {d.dial for d in differences}  # fmt: skip


def test_resources_outside_the_dials_are_the_same_in_every_environment(rendered_stacks):
    inventories = {env: inventory(rendered_stacks[env], env) for env in ENVIRONMENTS}
    dial_resources = {d.path for d in compare(inventories) if d.key == ""}
    common = [set(inventories[env]) - dial_resources for env in ENVIRONMENTS]
    assert common[0] == common[1] == common[2]
    assert len(common[0]) >= 35


def test_a_property_change_outside_the_dials_is_caught(rendered_stacks):
    inventories = {env: inventory(rendered_stacks[env], env) for env in ENVIRONMENTS}
    handler = "aws:lambda/function:Function trading-analytics/processor/function"
    inventories["staging"][handler]["handler"] = '"processor.other.handler"'
    (difference,) = [d for d in compare(inventories) if d.key == "handler"]
    assert difference.dial is None


def test_stack_directories_differ_only_in_the_environment_name(stacks_dir):
    for file in ("__main__.py", "Pulumi.yaml"):
        texts = {
            re.sub(env, "<env>", (stacks_dir / env / file).read_text()) for env in ENVIRONMENTS
        }
        assert len(texts) == 1, file
    main = (stacks_dir / "dev" / "__main__.py").read_text()
    assert len([line for line in main.splitlines() if line.strip()]) <= 8


def test_each_environment_has_its_own_state_backend(stacks_dir):
    urls = set()
    for env in ENVIRONMENTS:
        match = re.search(r"url: (\S+)", (stacks_dir / env / "Pulumi.yaml").read_text())
        assert match is not None
        urls.add(match.group(1))
    assert len(urls) == 3
    assert all(url.startswith("s3://") for url in urls)
