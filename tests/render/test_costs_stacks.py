"""The cost estimate of the real programs: complete, current, and following the dials."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from platform_core.config import DIALS
from platform_core.costs import environment_profiles, estimate_stack, load_inputs
from platform_core.costs.__main__ import main
from platform_core.costs.options import OPTIONS, current_value, option_costs
from platform_core.costs.pricing import HOURS_PER_MONTH
from platform_core.costs.report import COSTS_REPORT_PATH, build_costs_report, costs_document
from platform_core.offline import RenderedStack, render_stack
from tests.repository import ENVIRONMENTS, REPO_ROOT, STACKS_DIR

REGENERATE = "run `python -m platform_core.docs` and commit docs/costs.md"
INPUTS = load_inputs(REPO_ROOT)
PROFILES = environment_profiles(STACKS_DIR, ENVIRONMENTS)


def items(stack: RenderedStack, environment: str) -> dict[tuple[str, str], float]:
    result = estimate_stack(stack, environment, PROFILES.get(environment), INPUTS)
    return {(item.resource, item.item): item.monthly for item in result.items}


def test_committed_estimate_is_current(rendered_stacks: Mapping[str, RenderedStack]):
    assert COSTS_REPORT_PATH.read_text() == costs_document(rendered_stacks), REGENERATE


def test_every_resource_every_environment_renders_is_priced_or_known_to_be_free(rendered_stacks):
    for environment, stack in rendered_stacks.items():
        result = estimate_stack(stack, environment, PROFILES[environment], INPUTS)
        assert result.unpriced == (), environment
        assert result.total > 0


def test_the_usage_file_names_only_environments_that_exist():
    assert set(INPUTS.usage.environments) <= set(ENVIRONMENTS)


@pytest.mark.parametrize("environment", [env for env in ENVIRONMENTS if env == "production"])
def test_production_pays_for_what_its_dials_turn_on(rendered_stacks, environment):
    lines = items(rendered_stacks[environment], environment)
    table = "trading-analytics/analytics/table"
    # Provisioned capacity with target tracking, point-in-time recovery, strict alarms, and
    # X-Ray through an interface endpoint in each of the two zones.
    assert (table, "provisioned write capacity") in lines
    assert (table, "on-demand writes") not in lines
    assert (table, "point-in-time recovery") in lines
    endpoint = ("trading-analytics/network/xray-endpoint", "xray interface endpoint (2 zones)")
    assert lines[endpoint] == pytest.approx(2 * HOURS_PER_MONTH * 0.01)
    assert sum(1 for _, item in lines if item == "alarm") == 6


@pytest.mark.parametrize("environment", [env for env in ENVIRONMENTS if env == "dev"])
def test_dev_has_nothing_it_pays_for_by_the_hour(rendered_stacks, environment):
    hourly = {"NAT gateway", "public IPv4 address", "xray interface endpoint (2 zones)"}
    assert not hourly & {item for _, item in items(rendered_stacks[environment], environment)}


@pytest.mark.parametrize(
    ("egress", "expected"),
    [
        # 730 h x $0.045, the gateway's address 730 h x $0.005; no X-Ray endpoint with a NAT
        (
            "nat-gateway",
            {
                ("trading-analytics/network/nat-gateway", "NAT gateway"): 32.85,
                ("trading-analytics/network/nat-address", "public IPv4 address"): 3.65,
            },
        ),
        # 730 h x $0.0042 for a t4g.nano, its 8 GB root volume x $0.08, its address
        (
            "nat-instance",
            {
                ("trading-analytics/network/nat-instance", "t4g.nano instance"): 3.066,
                ("trading-analytics/network/nat-instance", "root volume (gp3)"): 0.64,
                ("trading-analytics/network/nat-instance", "public IPv4 address"): 3.65,
            },
        ),
    ],
)
def test_egress_is_paid_by_the_hour_only_when_it_is_on(egress, expected):
    environment = ENVIRONMENTS[-1]
    stack = render_stack(
        STACKS_DIR / environment,
        overrides={"platform:egressMode": egress, "platform:xrayTracing": "true"},
    )
    lines = items(stack, environment)
    assert {key: lines[key] for key in expected} == pytest.approx(expected)
    assert not [key for key in lines if "interface endpoint" in key[1]]


def test_the_command_prints_one_environment_item_by_item_with_the_committed_total(capsys):
    environment = ENVIRONMENTS[0]
    assert main(["--environment", environment]) == 0
    first, *lines = capsys.readouterr().out.splitlines()
    heading = re.search(
        rf"^## {environment} \((?P<region>[a-z0-9-]+)\): (?P<total>\S+) a month$",
        COSTS_REPORT_PATH.read_text(),
        re.MULTILINE,
    )
    assert heading is not None
    assert first == f"{environment} ({heading['region']}): {heading['total']} a month"
    assert any(
        " Lambda requests (trading-analytics/processor/function): " in line for line in lines
    )


def test_the_options_are_settings_with_values_they_accept():
    parsers = {dial.config_key: dial.parse for dial in DIALS.values()}
    for key, value in OPTIONS:
        assert key in parsers, key
        parsers[key](value)  # raises when the value is not one the setting takes


@pytest.mark.parametrize("environment", [env for env in ENVIRONMENTS if env == "production"])
def test_what_the_database_would_add_to_production_worked_out_by_hand(rendered_stacks, environment):
    assert current_value(STACKS_DIR, environment, "platform:database") == "none"
    stack = rendered_stacks[environment]
    estimates = {environment: estimate_stack(stack, environment, PROFILES[environment], INPUTS)}
    [database, *_] = option_costs(STACKS_DIR, estimates, INPUTS, PROFILES)
    assert (database.key, database.value) == ("platform:database", "aurora-postgresql")
    # Production's database: 2 db.r6g.xlarge instances, 730 h x $0.519 each = $757.74; 1 GB at
    # $0.10; 0.1 million I/O a day x 30.41667 x $0.20 = $0.6083; 30 days of 0.05 GB of changes
    # at $0.021 = $0.0315; RDS's secret $0.40; its CPU alarm $0.10; and, with no NAT, the
    # Secrets Manager endpoint in 2 zones, 2 x 730 h x $0.01 = $14.60 (the prices of the sheet).
    expected = 757.74 + 0.10 + 0.608333 + 0.0315 + 0.40 + 0.10 + 14.60
    assert database.added[environment] == pytest.approx(expected)


def test_the_commands_markdown_is_the_document_of_the_environments_asked(rendered_stacks, capsys):
    environment = ENVIRONMENTS[0]
    assert main(["--format", "markdown", "--environment", environment]) == 0
    expected = costs_document({environment: rendered_stacks[environment]})
    assert capsys.readouterr().out == expected


def test_a_region_without_prices_is_not_estimated_never_zero(rendered_stacks, tmp_path):
    moved = render_stack(STACKS_DIR / "staging", overrides={"aws:region": "eu-west-1"})
    inputs = load_inputs(REPO_ROOT)
    assert "eu-west-1" not in inputs.prices.regions  # else pick a region the sheet lacks
    result = estimate_stack(moved, "staging", "staging", inputs)
    assert not result.estimated and result.items == ()
    assert result.not_estimated == (
        "costs/prices.yaml has no prices for eu-west-1 (it prices us-east-1); add that "
        "region's prices to estimate it"
    )
    estimates = {
        "dev": estimate_stack(rendered_stacks["dev"], "dev", "dev", inputs),
        "staging": result,
    }
    report = build_costs_report(estimates, inputs, {"dev": "dev", "staging": "staging"})
    assert "## staging (eu-west-1): not estimated" in report
    totals = next(line for line in report.splitlines() if line.startswith("| **total a month**"))
    assert totals.endswith("| **not estimated** |") and "$0.00" not in totals
