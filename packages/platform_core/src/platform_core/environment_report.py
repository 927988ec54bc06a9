"""The environment consistency report, `docs/environments.md`.

Renders every environment's real stack program under the mock engine and writes, in Markdown,
every resource each environment registers and every property that differs between them, with
the dial that explains it. `--check` (what the test suite runs) fails when the committed report
is stale or when a difference is not explained by a dial that environments may differ in.
It is written by `python -m platform_core.docs`, with the other generated documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from platform_core.consistency import Difference, compare, inventory, unexplained
from platform_core.environments import REPO_ROOT, STACKS_DIR, discover_environments
from platform_core.offline import RenderedStack, render_stack

__all__ = ["REPORT_PATH", "build_report", "render_environments"]

REPORT_PATH = REPO_ROOT / "docs" / "environments.md"
COMMAND = "python -m platform_core.docs"
ABSENT = "—"


def render_environments(stacks_dir: Path = STACKS_DIR) -> dict[str, RenderedStack]:
    """Each environment's real program with its real stack config, under the mock engine."""
    return {
        environment: render_stack(stacks_dir / environment)
        for environment in discover_environments(stacks_dir)
    }


def _cell(value: str) -> str:
    """An inventory value (JSON text) as a table cell: numbers without `.0`, text in code."""
    if value in ("-", "no"):
        return ABSENT
    if value == "yes":
        return "✓"
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        data = value
    if isinstance(data, float) and data.is_integer():
        data = int(data)
    text = data if isinstance(data, str) else json.dumps(data)
    escaped = str(text).replace("|", "\\|")
    return f"`{escaped}`"


def _inventory_table(inventories: Mapping[str, Mapping[str, object]]) -> list[str]:
    environments = list(inventories)
    lines = [
        f"| resource type | logical path | {' | '.join(environments)} |",
        f"|---|---|{'---|' * len(environments)}",
    ]
    for path in sorted({path for inv in inventories.values() for path in inv}):
        type_, logical = path.split(" ", 1)
        cells = ["✓" if path in inventories[env] else ABSENT for env in environments]
        lines.append(f"| `{type_}` | `{logical}` | {' | '.join(cells)} |")
    return lines


def _difference_table(differences: Sequence[Difference], environments: Sequence[str]) -> list[str]:
    faults = unexplained(differences)
    lines = [
        f"| resource | property | {' | '.join(environments)} | dial |",
        f"|---|---|{'---|' * len(environments)}---|",
    ]
    for d in differences:
        _, logical = d.path.split(" ", 1)
        key = f"`{d.key}`" if d.key else "*(whole resource)*"
        values = " | ".join(_cell(d.values[env]) for env in environments)
        dial = f"`{d.dial.removeprefix('platform:')}`" if d.dial else "**unexplained**"
        if d in faults:
            dial = f"{dial} **unexplained: environments may not differ in it**"
        lines.append(f"| `{logical}` | {key} | {values} | {dial} |")
    return lines


def _number(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _capacity(rendered: RenderedStack) -> tuple[int | None, int | None]:
    """(reserved concurrency, DynamoDB ceiling: on-demand cap or autoscaling maximum)."""
    function = rendered.one("aws:lambda/function:Function").inputs
    table = rendered.one("aws:dynamodb/table:Table").inputs
    on_demand = table.get("onDemandThroughput") or {}
    ceilings = [
        float(target.inputs["maxCapacity"])
        for target in rendered.of_type("aws:appautoscaling/target:Target")
    ]
    ceiling = on_demand.get("maxReadRequestUnits") or (max(ceilings) if ceilings else None)
    return _number(function.get("reservedConcurrentExecutions")), _number(ceiling)


def _capacity_lines(rendered: Mapping[str, RenderedStack]) -> list[str]:
    """Staging mirrors production at 50% capacity; an override breaking it shows here."""
    if not {"staging", "production"} <= set(rendered):
        return []
    staging, production = _capacity(rendered["staging"]), _capacity(rendered["production"])
    lines = ["| capacity | staging | production | staging / production |", "|---|---|---|---|"]
    labels = ("Lambda reserved concurrency", "DynamoDB ceiling (RCU/WCU per second)")
    for label, low, high in zip(labels, staging, production, strict=True):
        ratio = f"{100 * low / high:.0f}%" if low is not None and high else ABSENT
        shown = [ABSENT if value is None else str(value) for value in (low, high)]
        lines.append(f"| {label} | {shown[0]} | {shown[1]} | {ratio} |")
    return lines


def build_report(rendered: Mapping[str, RenderedStack]) -> str:
    """The Markdown report of the rendered environments (deterministic: same input, same text)."""
    environments = list(rendered)
    inventories = {env: inventory(rendered[env], env) for env in environments}
    differences = compare(inventories)
    dials = sorted({d.dial.removeprefix("platform:") for d in differences if d.dial is not None})
    faults = unexplained(differences)
    counts = ", ".join(f"{env} {len(rendered[env].resources)}" for env in environments)
    lines = [
        "# Environments: one design, different dials",
        "",
        f"Generated by `{COMMAND}` from the real stack programs (`stacks/<env>/__main__.py` with",
        "their `Pulumi.<env>.yaml`) under Pulumi's mock engine. Do not edit: regenerate it. The",
        "test suite fails when this file is stale or when a difference is not explained by a dial",
        'that environments may differ in (README, "Per-environment settings").',
        "Names are compared with the environment's own name masked as `<env>`.",
        "",
        "## Summary",
        "",
        f"- Resources registered (components and provider included): {counts}.",
        f"- Properties or resources that differ: {len(differences)}, "
        f"explained by {len(dials)} dials: {', '.join(f'`{dial}`' for dial in dials)}.",
        f"- Unexplained differences: {len(faults)}.",
        "",
        "## Staging capacity against production (staging mirrors it at 50%)",
        "",
        *_capacity_lines(rendered),
        "",
        "## Differences between environments",
        "",
        *_difference_table(differences, environments),
        "",
        "## Resource inventory",
        "",
        *_inventory_table(inventories),
        "",
    ]
    return "\n".join(lines)
