"""One design, different dials: the environments differ only where a dial says they may.

The report in docs/environments.md is generated from the real programs; these tests check that
it is current, that every difference is attributed to the dial that causes it, and that a
difference no dial explains is caught.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from platform_core.consistency import Difference, compare, inventory, unexplained
from platform_core.environment_report import REPORT_PATH, build_report
from platform_core.offline import RenderedStack, render_stack
from tests.repository import ENVIRONMENTS, STACKS_DIR

# What a reference to a document outside the repository looks like (an id such as "X-12", a
# section sign): the report is read by people who have only the repository.
CITATION = re.compile(r"\b[RHLBP]-[0-9]+\b|SPEC|§")

FUNCTION = "aws:lambda/function:Function trading-analytics/processor/function"
REGENERATE = "run `python -m platform_core.docs` and commit docs/environments.md"


def inventories(rendered: Mapping[str, RenderedStack]) -> dict[str, dict[str, dict[str, str]]]:
    return {env: inventory(stack, env) for env, stack in rendered.items()}


def test_committed_report_is_current(rendered_stacks):
    assert REPORT_PATH.read_text() == build_report(rendered_stacks), REGENERATE


def test_every_difference_is_explained_by_the_dial_that_causes_it(rendered_stacks):
    differences = compare(inventories(rendered_stacks))
    assert unexplained(differences) == []
    attributed = {(d.path.split(" ", 1)[1], d.key): d.dial for d in differences}
    # Written out by hand: what each dial must be found to cause (not read from the registry).
    assert attributed[("trading-analytics/processor/function", "memorySize")] == (
        "platform:lambdaMemoryMb"
    )
    assert attributed[("trading-analytics/logs/log-group", "retentionInDays")] == (
        "platform:logRetentionDays"
    )
    assert attributed[("trading-analytics/network/xray-endpoint", "")] == "platform:xrayTracing"
    assert attributed[
        ("trading-analytics/processor-role/policy", "policy.Statement[UploadTraces].Effect")
    ] == ("platform:xrayTracing")
    assert attributed[("trading-analytics/analytics/read-capacity-target", "")] == (
        "platform:dynamodbBillingMode"
    )
    assert attributed[("trading-analytics/archive/lifecycle", "")] == (
        "platform:archiveGlacierAfterDays"
    )
    assert {d.dial for d in differences} >= {
        "platform:s3Versioning",
        "platform:vpcCidr",
        "platform:alarmProfile",
        "platform:reservedConcurrency",
        "platform:bucketsForceDestroy",
        "platform:pointInTimeRecovery",
        "platform:dynamodbOnDemandMaxUnits",
    }


def test_attribution_does_not_depend_on_a_statements_position(rendered_stacks):
    """An extra statement placed first must not shift the X-Ray statement's attribution."""
    inv = inventories(rendered_stacks)
    for env in inv:
        policy = inv[env]["aws:iam/rolePolicy:RolePolicy trading-analytics/processor-role/policy"]
        policy["policy.Statement[AnExtraFirstStatement].Effect"] = '"Allow"'
    differences = compare(inv)
    xray = [d for d in differences if "UploadTraces" in d.key]
    assert xray and all(d.dial == "platform:xrayTracing" for d in xray)


def test_resources_outside_the_dials_are_the_same_in_every_environment(rendered_stacks):
    inv = inventories(rendered_stacks)
    dial_resources = {d.path for d in compare(inv) if d.key == ""}
    common = {frozenset(set(inv[env]) - dial_resources) for env in inv}
    assert len(common) == 1
    assert len(next(iter(common))) >= 35


def test_a_property_no_dial_sets_is_unexplained(rendered_stacks):
    inv = inventories(rendered_stacks)
    inv[ENVIRONMENTS[-1]][FUNCTION]["handler"] = '"processor.other.handler"'
    (difference,) = [d for d in compare(inv) if d.key == "handler"]
    assert difference.dial is None
    assert unexplained([difference]) == [difference]


def test_a_dial_environments_may_not_differ_in_is_unexplained(rendered_stacks):
    inv = inventories(rendered_stacks)
    inv[ENVIRONMENTS[-1]][FUNCTION]["timeout"] = "120.0"  # a dial, but the same everywhere
    faults = unexplained(compare(inv))
    assert [(f.key, f.dial) for f in faults] == [("timeout", "platform:lambdaTimeoutSeconds")]
    rogue = Difference("aws:sqs/queue:Queue x/q", "delaySeconds", {"a": "0", "b": "5"}, None)
    assert unexplained([rogue]) == [rogue]


def test_report_shows_differences_inventory_and_capacity(rendered_stacks):
    report = build_report(rendered_stacks)
    for env, rendered in rendered_stacks.items():
        assert f"{env} {len(rendered.resources)}" in report
    assert (
        "| `trading-analytics/processor/function` | `memorySize` | `512` | `1024` | `2048` "
        "| `lambdaMemoryMb` |" in report
    )
    assert "| Lambda reserved concurrency | 50 | 100 | 50% |" in report
    assert "Unexplained differences: 0." in report
    assert not CITATION.search(report), "the report must explain itself in words"


def test_stack_directories_differ_only_in_the_environment_name(stacks_dir):
    for file in ("__main__.py", "Pulumi.yaml"):
        texts = {
            re.sub(rf"\b{env}\b", "<env>", (stacks_dir / env / file).read_text())
            for env in ENVIRONMENTS
        }
        assert len(texts) == 1, file
    main = (stacks_dir / ENVIRONMENTS[0] / "__main__.py").read_text()
    assert len([line for line in main.splitlines() if line.strip()]) <= 8


def test_each_environment_has_its_own_state_backend(stacks_dir):
    urls = [
        re.search(r"url: (\S+)", (stacks_dir / env / "Pulumi.yaml").read_text())
        for env in ENVIRONMENTS
    ]
    assert all(url is not None and url.group(1).startswith("s3://") for url in urls)
    assert len({url.group(1) for url in urls if url}) == len(ENVIRONMENTS)


def test_an_environment_in_another_region_differs_only_in_the_region_dial(rendered_stacks):
    # Names, ARNs, endpoints and zones hold the region; only the provider's input is the dial.
    moved = render_stack(STACKS_DIR / "staging", overrides={"aws:region": "eu-west-1"})
    differences = compare(inventories({**rendered_stacks, "staging": moved}))
    assert unexplained(differences) == []
    regional = [d for d in differences if d.dial == "aws:region"]
    assert [(d.path, d.key) for d in regional] == [
        ("pulumi:providers:aws trading-analytics/aws", "region")
    ]
    assert regional[0].values["staging"] == '"eu-west-1"'
