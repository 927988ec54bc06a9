"""R-15: the committed environment report is the one the real programs produce today, and it
explains every difference between the environments by a SPEC dial."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from platform_core import environment_report
from platform_core.consistency import SPEC_DIALS, Difference, compare, inventory
from platform_core.environment_report import REPORT_PATH, build_report, main, unexplained
from platform_core.offline import RenderedStack

REGENERATE = "run `python -m platform_core.environment_report` and commit docs/environments.md"


@pytest.fixture
def fake_render(
    monkeypatch: pytest.MonkeyPatch, rendered_stacks: Mapping[str, RenderedStack]
) -> None:
    """`main` on the session's rendered stacks instead of rendering them again."""
    monkeypatch.setattr(environment_report, "render_environments", lambda _: dict(rendered_stacks))


def test_committed_report_is_current(rendered_stacks: Mapping[str, RenderedStack]) -> None:
    assert REPORT_PATH.read_text() == build_report(rendered_stacks), REGENERATE


def test_every_difference_is_a_spec_dial(rendered_stacks: Mapping[str, RenderedStack]) -> None:
    differences = compare({env: inventory(s, env) for env, s in rendered_stacks.items()})
    assert unexplained(differences) == []
    assert {d.dial for d in differences} <= set(SPEC_DIALS)
    assert len(differences) >= 30  # a comparison that found nothing would pass vacuously


def test_report_lists_inventory_differences_and_the_capacity_ratio(
    rendered_stacks: Mapping[str, RenderedStack],
) -> None:
    report = build_report(rendered_stacks)
    for env, rendered in rendered_stacks.items():
        assert f"{env} {len(rendered.resources)}" in report
    assert (
        "| `trading-analytics/processor/function` | `memorySize` | `512` | `1024` | `2048` |"
        in (report)
    )
    assert "| Lambda reserved concurrency | 50 | 100 | 50% |" in report
    function_row = "| `aws:lambda/function:Function` | `trading-analytics/processor/function` |"
    assert f"{function_row} ✓ | ✓ | ✓ |" in report
    assert "Unexplained differences: 0." in report


def test_a_difference_outside_the_dials_is_reported_as_unexplained(
    rendered_stacks: Mapping[str, RenderedStack],
) -> None:
    inventories = {env: inventory(s, env) for env, s in rendered_stacks.items()}
    function = "aws:lambda/function:Function trading-analytics/processor/function"
    inventories["staging"][function]["timeout"] = "120.0"  # a config dial, but not one of SPEC's
    faults = unexplained(compare(inventories))
    assert [(f.key, f.dial) for f in faults] == [("timeout", "lambdaTimeoutSeconds")]
    rogue = Difference(
        "aws:sqs/queue:Queue x/q", "delaySeconds", {"dev": "0", "staging": "5"}, None
    )
    assert unexplained([rogue]) == [rogue]


@pytest.mark.usefixtures("fake_render")
def test_check_mode_fails_on_a_stale_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "environments.md"
    assert main(["--output", str(report)]) == 0
    assert main(["--check", "--output", str(report)]) == 0
    report.write_text(report.read_text().replace("`2048`", "`4096`"))
    assert main(["--check", "--output", str(report)]) == 1
    assert "is stale: run `python -m platform_core.environment_report`" in capsys.readouterr().err
