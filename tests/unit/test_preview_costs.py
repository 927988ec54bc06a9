"""How the preview prices both sides: the working tree's cost files, or a note saying why not."""

from __future__ import annotations

import shutil
from pathlib import Path

from platform_core.costs import Estimate, LineItem
from platform_core.preview.cli import CostBasis
from platform_core.preview.diff import EnvironmentDiff, Status
from platform_core.preview.output import Header, cost_changes, markdown, text
from tests.repository import REPO_ROOT


def test_a_checkout_without_cost_files_is_previewed_without_costs(tmp_path: Path):
    costs = CostBasis(tmp_path, {})
    assert costs.inputs is None and costs.error is None
    assert costs.note == f"not estimated: {tmp_path.name} has no costs/ directory"


def test_a_malformed_cost_file_is_an_error_of_the_preview(tmp_path: Path):
    shutil.copytree(REPO_ROOT / "costs", tmp_path / "costs")
    usage = tmp_path / "costs" / "usage.yaml"
    usage.write_text(usage.read_text().replace("trades_per_day: 100000", "trades_per_day: many"))
    costs = CostBasis(tmp_path, {})
    assert costs.inputs is None
    assert costs.error is not None and "costs/usage.yaml" in costs.error
    assert costs.note == costs.error


def test_the_working_trees_cost_files_price_both_sides():
    costs = CostBasis(REPO_ROOT, {})
    assert costs.inputs is not None and costs.error is None
    assert costs.note.startswith("estimated from costs/usage.yaml and costs/prices.yaml")
    assert costs.note.endswith("both sides alike")


def diff_with(before: Estimate | None, after: Estimate | None) -> EnvironmentDiff:
    return EnvironmentDiff("staging", Status.CHANGED, cost_before=before, cost_after=after)


def test_a_side_without_prices_shows_not_estimated_never_zero():
    item = LineItem("Lambda", "requests", "trading-analytics/processor/function", 10.0, "M", 2.71)
    priced = Estimate("staging", "us-east-1", (item,))
    unpriced = Estimate("staging", "eu-west-1", (), not_estimated="no prices for eu-west-1")
    header = Header(base="abc (main)", working="the working tree", costs="estimated")
    for before, after in [(priced, unpriced), (unpriced, priced), (unpriced, unpriced)]:
        diff = diff_with(before, after)
        assert cost_changes(before, after) == []
        for output in (text(header, [diff]), markdown(header, [diff])):
            assert "cost not estimated: no prices for eu-west-1" in output
            assert "$0.00" not in output and "$27.10" not in output
    # Both sides priced: the amounts, as before.
    assert "$27.10 a month" in text(header, [diff_with(priced, priced)])
