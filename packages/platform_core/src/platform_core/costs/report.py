"""``docs/costs.md``: every environment's estimate, the workload it assumes and the prices used.

Written by ``python -m platform_core.docs`` from the rendered programs and the two cost files;
the tests fail when the committed copy is stale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import msgspec

from platform_core.costs import CostInputs, environment_profiles, estimate_all, load_inputs
from platform_core.costs.inputs import COSTS_DIR_NAME, PRICES_FILE, USAGE_FIGURES, USAGE_FILE
from platform_core.costs.options import OptionCost, option_costs
from platform_core.costs.pricing import FREE, Estimate
from platform_core.environments import REPO_ROOT
from platform_core.offline import RenderedStack

__all__ = [
    "COSTS_REPORT_PATH",
    "build_costs_report",
    "costs_document",
    "money",
    "quantity",
    "signed",
    "unit_price",
]

COSTS_REPORT_PATH: Final = REPO_ROOT / "docs" / "costs.md"
_COMMAND: Final = "python -m platform_core.docs"


def money(amount: float) -> str:
    """Dollars as a bill shows them; an amount that rounds to nothing but is not nothing says so."""
    if 0 < abs(amount) < 0.005:
        return "<$0.01" if amount > 0 else "-<$0.01"
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def signed(amount: float) -> str:
    """A difference in dollars, with its sign."""
    return f"+{money(amount)}" if amount >= 0 else money(amount)


def quantity(value: float) -> str:
    """Four significant digits, thousands grouped, never in exponent notation."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    decimals = max(0, 3 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}".rstrip("0").rstrip(".")


def unit_price(value: float) -> str:
    """A price as the sheet gives it: cents at least, every significant digit."""
    text = f"{value:.10f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


NOT_ESTIMATED: Final = "not estimated"


def _amount(estimate: Estimate, amount: float) -> str:
    return money(amount) if estimate.estimated else NOT_ESTIMATED


def _totals(estimates: Mapping[str, Estimate]) -> list[str]:
    environments = list(estimates)
    services = sorted({service for e in estimates.values() for service in e.by_service()})
    lines = [
        f"| service | {' | '.join(environments)} |",
        f"|---|{'---:|' * len(environments)}",
    ]
    for service in services:
        cells = [
            _amount(estimates[env], estimates[env].by_service().get(service, 0.0))
            for env in environments
        ]
        lines.append(f"| {service} | {' | '.join(cells)} |")
    totals = [f"**{_amount(estimates[env], estimates[env].total)}**" for env in environments]
    lines.append(f"| **total a month** | {' | '.join(totals)} |")
    return lines


def _workload(
    inputs: CostInputs, profiles: Mapping[str, str], environments: Sequence[str]
) -> list[str]:
    usages = {
        env: msgspec.to_builtins(inputs.usage_of(env, profiles.get(env))) for env in environments
    }
    lines = [
        f"| figure | {' | '.join(environments)} | meaning |",
        f"|---|{'---:|' * len(environments)}---|",
    ]
    for key, meaning in USAGE_FIGURES.items():
        cells = [quantity(float(usages[env][key])) for env in environments]
        lines.append(f"| `{key}` | {' | '.join(cells)} | {meaning} |")
    return lines


def _options(options: Sequence[OptionCost], environments: Sequence[str]) -> list[str]:
    lines = [
        f"| setting | {' | '.join(environments)} |",
        f"|---|{'---:|' * len(environments)}",
    ]
    for option in options:
        cells = [_added(option.added[env]) for env in environments]
        lines.append(f"| `{option.key}: {option.value}` | {' | '.join(cells)} |")
    return lines


def _added(amount: float | None) -> str:
    if amount is None:
        return "(set)"
    return NOT_ESTIMATED if math.isnan(amount) else signed(amount)


def _environment(estimate: Estimate) -> list[str]:
    if not estimate.estimated:
        return [
            f"## {estimate.environment} ({estimate.region}): {NOT_ESTIMATED}",
            "",
            f"{estimate.not_estimated}.",
            "",
        ]
    lines = [
        f"## {estimate.environment} ({estimate.region}): {money(estimate.total)} a month",
        "",
        "| service | what | resource | quantity | unit price | a month |",
        "|---|---|---|---:|---:|---:|",
    ]
    for item in estimate.items:
        lines.append(
            f"| {item.service} | {item.item} | `{item.resource}` | "
            f"{quantity(item.quantity)} {item.unit} | {unit_price(item.unit_price)} | "
            f"{money(item.monthly)} |"
        )
    for path in estimate.unpriced:
        lines.append(f"| **not priced** | | `{path}` | | | |")
    if estimate.notes:
        lines += ["", *(f"- {note}" for note in estimate.notes)]
    return [*lines, ""]


def _prices(inputs: CostInputs, regions: Sequence[str]) -> list[str]:
    if not regions:
        return ["No environment is in a region the sheet prices."]
    lines = ["| price | " + " | ".join(regions) + " |", f"|---|{'---:|' * len(regions)}"]
    sheets = {region: msgspec.to_builtins(inputs.prices.region(region)) for region in regions}
    first = sheets[regions[0]]
    sources = []
    for service, entries in first.items():
        sources.append(f"- `{service}`: {entries['source']}")
        for key, value in entries.items():
            if key == "source":
                continue
            keys = sorted(value) if isinstance(value, dict) else [None]
            for sub in keys:
                label = f"`{service}.{key}`" + (f" `{sub}`" if sub else "")
                cells = []
                for region in regions:
                    entry = sheets[region][service][key]
                    cells.append(unit_price(entry[sub] if sub else entry))
                lines.append(f"| {label} | {' | '.join(cells)} |")
    return [*lines, "", "Sources:", "", *sources]


def build_costs_report(
    estimates: Mapping[str, Estimate],
    inputs: CostInputs,
    profiles: Mapping[str, str],
    options: Sequence[OptionCost] = (),
) -> str:
    """The Markdown of ``docs/costs.md`` (deterministic: the same inputs give the same text)."""
    environments = list(estimates)
    regions = sorted({estimate.region for estimate in estimates.values() if estimate.estimated})
    prices = inputs.prices
    free = sorted(FREE.items())
    lines = [
        "# Monthly cost estimate",
        "",
        f"Generated by `{_COMMAND}` from the real stack programs, rendered offline, priced",
        f"with `{COSTS_DIR_NAME}/{PRICES_FILE}` (AWS list prices in {prices.currency}, checked "
        f"{prices.checked_on})",
        f"for the workload in `{COSTS_DIR_NAME}/{USAGE_FILE}`. Do not edit: regenerate it.",
        "On-demand rates without the free tier (an account's free tier is shared by the",
        'environments in it), a month of 730 hours. README, "Cost estimate", explains the model',
        "and how to refresh the prices.",
        "",
        "## Totals",
        "",
        *_totals(estimates),
        "",
        f"## Workload assumed (`{COSTS_DIR_NAME}/{USAGE_FILE}`)",
        "",
        *_workload(inputs, profiles, environments),
        "",
    ]
    if options:
        lines += [
            "## What an optional setting would add",
            "",
            "Each environment rendered again with one setting changed, priced the same way; "
            "(set): it has",
            "that value already.",
            "",
            *_options(options, environments),
            "",
        ]
    for environment in environments:
        lines += _environment(estimates[environment])
    lines += [
        "## Resources without a charge of their own",
        "",
        "| resource type | why |",
        "|---|---|",
        *(f"| `{type_}` | {reason} |" for type_, reason in free),
        "",
        f"## Prices (`{COSTS_DIR_NAME}/{PRICES_FILE}`, checked {prices.checked_on})",
        "",
        *_prices(inputs, regions),
        "",
    ]
    return "\n".join(lines)


def costs_document(rendered: Mapping[str, RenderedStack], repo_root: Path = REPO_ROOT) -> str:
    """``docs/costs.md`` for ``rendered`` (environment -> stack) of the checkout ``repo_root``."""
    inputs = load_inputs(repo_root)
    stacks = repo_root / "stacks"
    profiles = environment_profiles(stacks, rendered)
    estimates = estimate_all(rendered, profiles, inputs)
    options = option_costs(stacks, estimates, inputs, profiles)
    return build_costs_report(estimates, inputs, profiles, options)
