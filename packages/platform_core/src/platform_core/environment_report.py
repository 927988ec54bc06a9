"""R-15: the environment consistency report, `docs/environments.md`.

Renders the three real stack programs under the mock engine and writes, in Markdown, every
resource each environment registers and every property that differs between them, with the
dial that explains it. `--check` (what CI runs through the test suite) fails when the committed
report is stale or when a difference is not one of SPEC's dials.

    python -m platform_core.environment_report           # rewrite docs/environments.md
    python -m platform_core.environment_report --check   # exit 1 when stale or unexplained
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from platform_core.config import ENVIRONMENTS
from platform_core.consistency import SPEC_DIALS, Difference, compare, inventory
from platform_core.offline import RenderedStack, render_stack

__all__ = [
    "REPORT_PATH",
    "build_report",
    "main",
    "render_environments",
    "unexplained",
]

REPO_ROOT = Path(__file__).resolve().parents[4]
STACKS_DIR = REPO_ROOT / "stacks"
REPORT_PATH = REPO_ROOT / "docs" / "environments.md"
COMMAND = "python -m platform_core.environment_report"
ABSENT = "—"


def render_environments(stacks_dir: Path = STACKS_DIR) -> dict[str, RenderedStack]:
    """Each environment's real program with its real stack config, under the mock engine."""
    return {environment: render_stack(stacks_dir / environment) for environment in ENVIRONMENTS}


def unexplained(differences: Sequence[Difference]) -> list[Difference]:
    """Differences no SPEC dial accounts for: each one means the environments have drifted."""
    return [d for d in differences if d.dial is None or d.dial not in SPEC_DIALS]


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
    lines = [
        f"| resource | property | {' | '.join(environments)} | dial |",
        f"|---|---|{'---|' * len(environments)}---|",
    ]
    for d in differences:
        _, logical = d.path.split(" ", 1)
        key = f"`{d.key}`" if d.key else "*(whole resource)*"
        values = " | ".join(_cell(d.values[env]) for env in environments)
        source = SPEC_DIALS.get(d.dial or "")
        dial = f"`{d.dial}` ({source})" if source else "**unexplained**"
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
    """SPEC §2: staging mirrors production at 50% capacity; an override breaking it shows here."""
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
    dials = sorted({d.dial for d in differences if d.dial is not None})
    faults = unexplained(differences)
    counts = ", ".join(f"{env} {len(rendered[env].resources)}" for env in environments)
    lines = [
        "# Environments: one design, different dials",
        "",
        f"Generated by `{COMMAND}` from the real stack programs (`stacks/<env>/__main__.py` with",
        "their `Pulumi.<env>.yaml`) under Pulumi's mock engine. Do not edit: regenerate it. The",
        "test suite fails when this file is stale or when a difference is not one of SPEC's dials.",
        "Names are compared with the environment's own name masked as `<env>`.",
        "",
        "## Summary",
        "",
        f"- Resources registered (components and provider included): {counts}.",
        f"- Properties or resources that differ: {len(differences)}, "
        f"explained by {len(dials)} dials: {', '.join(f'`{dial}`' for dial in dials)}.",
        f"- Unexplained differences: {len(faults)}.",
        "",
        "## Staging capacity against production (SPEC §2: 50%)",
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail instead of writing")
    parser.add_argument("--output", type=Path, default=REPORT_PATH, help="report file")
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR)
    args = parser.parse_args(argv)
    rendered = render_environments(args.stacks_dir)
    report = build_report(rendered)
    faults = unexplained(compare({env: inventory(rendered[env], env) for env in rendered}))
    for fault in faults:
        print(f"unexplained difference: {fault.path} {fault.key} {dict(fault.values)}",
              file=sys.stderr)  # fmt: skip
    if not args.check:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(f"wrote {args.output}")
        return 1 if faults else 0
    current = args.output.read_text() if args.output.exists() else ""
    if current != report:
        print(f"{args.output} is stale: run `{COMMAND}` and commit the result", file=sys.stderr)
        return 1
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
