"""How the preview prices both sides: the working tree's cost files, or a note saying why not."""

from __future__ import annotations

import shutil
from pathlib import Path

from platform_core.preview.cli import CostBasis
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
