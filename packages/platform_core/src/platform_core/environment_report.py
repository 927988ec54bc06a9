"""The environment consistency report: of the programs (`docs/environments.md`), or of what is
deployed.

Renders every environment's real stack program under the mock engine and writes, in Markdown,
every resource each environment registers and every property that differs between them, with
the dial that explains it. `python -m platform_core.docs` writes it with the other generated
documents; `--check` (run by the tests) fails when it is stale or when a difference is not
explained by a dial that environments may differ in.

The same report compares deployed environments, read from `pulumi stack export` files, and each
deployed environment with its program (what a deploy of the working tree would change, or what
was changed outside Pulumi and refreshed into the state):

    python -m platform_core.environment_report --deployed dev=dev.json \
        --deployed staging=staging.json --deployed production=production.json [--program]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from platform_core.consistency import (
    Difference,
    comparable,
    compare,
    inventory,
    unexplained,
)
from platform_core.deployment import SECRET, Deployment, ExportError, read_export
from platform_core.environments import REPO_ROOT, STACKS_DIR, discover_environments
from platform_core.errors import PlatformError
from platform_core.offline import RenderedStack, RenderError, render_stack
from platform_core.stack_files import read_project

__all__ = [
    "REPORT_PATH",
    "build_report",
    "deployed_report",
    "drift",
    "main",
    "render_environments",
    "render_program",
]

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
        if d in faults and d.dial:
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


_PROGRAMS = (
    f"Generated by `{COMMAND}` from the real stack programs (`stacks/<env>/__main__.py` with",
    "their `Pulumi.<env>.yaml`) under Pulumi's mock engine. Do not edit: regenerate it. The",
    "test suite fails when this file is stale or when a difference is not explained by a dial",
    'that environments may differ in (README, "Per-environment settings").',
)


def build_report(
    rendered: Mapping[str, RenderedStack],
    title: str = "Environments: one design, different dials",
    origin: Sequence[str] = _PROGRAMS,
) -> str:
    """The Markdown report of the environments (deterministic: same input, same text)."""
    environments = list(rendered)
    inventories = {env: inventory(rendered[env], env) for env in environments}
    differences = compare(inventories)
    dials = sorted({d.dial.removeprefix("platform:") for d in differences if d.dial is not None})
    faults = unexplained(differences)
    counts = ", ".join(f"{env} {len(rendered[env].resources)}" for env in environments)
    lines = [
        f"# {title}",
        "",
        *origin,
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


# --- what is deployed ---------------------------------------------------------------------------

#: Inputs the engine adds to a provider's state (its plugin's version), which no program sets.
_ENGINE_INPUTS = ("version", "pluginDownloadURL")


def render_program(environment: str, stack: str, stacks_dir: Path = STACKS_DIR) -> RenderedStack:
    """``stacks/<environment>``'s program as stack ``stack``: with ``Pulumi.<stack>.yaml`` when
    it exists, else, for a copy ``<environment>-<suffix>``, the environment's file and the
    suffix (as a pull request's stack is deployed)."""
    stack_dir = stacks_dir / environment
    if (stack_dir / f"Pulumi.{stack}.yaml").is_file() or stack == environment:
        return render_stack(stack_dir, stack=stack)
    suffix = stack.removeprefix(f"{environment}-")
    return render_stack(
        stack_dir,
        stack=stack,
        config_stack=environment,
        overrides={"platform:environmentSuffix": suffix},
    )


def _without_engine_inputs(stack: RenderedStack) -> RenderedStack:
    resources = tuple(
        dataclasses.replace(
            resource,
            inputs={k: v for k, v in resource.inputs.items() if k not in _ENGINE_INPUTS},
        )
        if resource.type.startswith("pulumi:providers:")
        else resource
        for resource in stack.resources
    )
    return dataclasses.replace(stack, resources=resources)


def _hide_secrets(
    program: dict[str, dict[str, str]], deployed: Mapping[str, Mapping[str, str]]
) -> None:
    """A secret of the deployed state hides the program's value too (it cannot be compared, and
    a report never shows one)."""
    secret = json.dumps(SECRET)
    for path, properties in deployed.items():
        for key in [k for k, value in properties.items() if value == secret]:
            mine = program.get(path, {})
            for inner in [k for k in mine if k == key or k.startswith((f"{key}.", f"{key}["))]:
                del mine[inner]
            if path in program:
                mine[key] = secret


def drift(
    environment: str, deployment: Deployment, stacks_dir: Path = STACKS_DIR
) -> list[Difference]:
    """Every difference between ``environment``'s program and its deployment ``program`` and
    ``deployed`` values: what the next `pulumi up` of the working tree would change, unless
    AWS's own defaults or a deploy from another revision account for it."""
    program = render_program(environment, deployment.stack.stack, stacks_dir)
    deployed = _without_engine_inputs(deployment.stack)
    inventories = {
        "program": inventory(comparable(program), environment),
        "deployed": inventory(comparable(deployed), environment),
    }
    _hide_secrets(inventories["program"], inventories["deployed"])
    return compare(inventories)


def _drift_lines(
    environment: str, deployment: Deployment, differences: Sequence[Difference]
) -> list[str]:
    lines = [
        f"## {environment}: deployed against its program",
        "",
        f"`stacks/{environment}` rendered at the working tree as stack "
        f"`{deployment.stack.stack}`, against `{deployment.source}`: "
        f"{len(differences)} difference{'' if len(differences) == 1 else 's'}.",
        "",
    ]
    if differences:
        lines += ["| resource | property | program | deployed |", "|---|---|---|---|"]
        for d in differences:
            _, logical = d.path.split(" ", 1)
            key = f"`{d.key}`" if d.key else "*(whole resource)*"
            lines.append(
                f"| `{logical}` | {key} | {_cell(d.values['program'])} | "
                f"{_cell(d.values['deployed'])} |"
            )
        lines.append("")
    return lines


def _origin(deployments: Mapping[str, Deployment]) -> list[str]:
    lines = [
        "Compared from `pulumi stack export` files (each stack's last update, as Pulumi recorded",
        "it; `pulumi refresh` first to see changes made outside Pulumi). IDs that AWS assigned are",
        "compared by the resource they belong to, account IDs as `<account>`, secrets never.",
        "",
    ]
    for environment, deployment in deployments.items():
        pending = (
            f"; **{deployment.pending_operations} operations pending**: an update was "
            "interrupted, the state may not match AWS"
            if deployment.pending_operations
            else ""
        )
        lines.append(
            f"- {environment}: `{deployment.source}`, stack `{deployment.stack.stack}`, "
            f"written {deployment.time or 'at an unknown time'} by Pulumi "
            f"{deployment.engine_version or '(unknown version)'}{pending}."
        )
    return [*lines, ""]


def deployed_report(
    deployments: Mapping[str, Deployment],
    drifts: Mapping[str, Sequence[Difference]] | None = None,
) -> str:
    """Markdown: the deployed environments against each other (with two or more), then each
    against its program (``drifts``, by environment)."""
    lines: list[str] = []
    if len(deployments) > 1:
        stacks = {env: comparable(d.stack) for env, d in deployments.items()}
        lines.append(build_report(stacks, "Deployed environments", _origin(deployments)))
    else:
        lines += ["# Deployed environment", "", *_origin(deployments)]
    for environment, differences in (drifts or {}).items():
        lines += _drift_lines(environment, deployments[environment], differences)
    return "\n".join(lines).rstrip("\n") + "\n"


def _check_belongs(environment: str, deployment: Deployment, stacks_dir: Path) -> None:
    """The export is of this environment's project, and of its stack or a copy of it."""
    project = str(read_project(stacks_dir / environment)["name"])
    stack = deployment.stack.stack
    if deployment.stack.project != project or not (
        stack == environment or stack.startswith(f"{environment}-")
    ):
        raise ExportError(
            f"{deployment.source}: holds stack {stack!r} of project "
            f"{deployment.stack.project!r}, not environment {environment!r} (project "
            f"{project!r}, stack {environment!r} or a copy {environment}-<suffix>)"
        )


def _deployed_argument(text: str) -> tuple[str, Path]:
    environment, sep, path = text.partition("=")
    if not sep or not environment or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected ENV=FILE, e.g. dev=dev.json")
    return environment, Path(path)


def main(argv: Sequence[str] | None = None, stacks_dir: Path = STACKS_DIR) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_core.environment_report",
        description="Compare deployed environments, read from `pulumi stack export` files, with "
        "each other (every difference with the setting that explains it) and, with --program, "
        "each with its program rendered offline from stacks/<env>. Prints Markdown. Exit 1 when "
        "a difference between environments has no setting to explain it or, with --program, "
        "when a deployment differs from its program; 2 when a file cannot be read. (The "
        "report of the programs themselves, docs/environments.md, is written by "
        "`python -m platform_core.docs`.)",
    )
    parser.add_argument(
        "--deployed",
        action="append",
        required=True,
        type=_deployed_argument,
        metavar="ENV=FILE",
        help="an environment (a directory of stacks/) and its export: `pulumi stack export "
        "--stack ENV --file FILE` (or a state file of the S3 backend); repeat for each",
    )
    parser.add_argument(
        "--program",
        action="store_true",
        help="also compare each deployment with its program at the working tree",
    )
    parser.add_argument("--output", type=Path, help="write the report here, not to stdout")
    args = parser.parse_args(argv)
    known = discover_environments(stacks_dir)
    environments = [environment for environment, _ in args.deployed]
    for environment in environments:
        if environment not in known:
            parser.error(f"--deployed {environment}=…: no such environment; one of {known}")
    if len(set(environments)) != len(environments):
        parser.error("each environment may be given once")
    if len(environments) < 2 and not args.program:
        parser.error("give two or more --deployed to compare them, or --program")
    try:
        deployments = {env: read_export(path) for env, path in args.deployed}
        for environment, deployment in deployments.items():
            _check_belongs(environment, deployment, stacks_dir)
        drifts = (
            {env: drift(env, d, stacks_dir) for env, d in deployments.items()}
            if args.program
            else {}
        )
    except (ExportError, RenderError) as error:
        if isinstance(error, RenderError) and not isinstance(error.__cause__, PlatformError):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = deployed_report(deployments, drifts)
    if args.output:
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    faults = (
        unexplained(compare({e: inventory(comparable(d.stack), e) for e, d in deployments.items()}))
        if len(deployments) > 1
        else []
    )
    return 1 if faults or any(drifts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
