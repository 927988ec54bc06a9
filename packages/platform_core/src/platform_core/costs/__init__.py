"""The monthly cost estimate of each environment, from what its program renders.

``costs/prices.yaml`` (AWS's list prices, dated, with their sources) and ``costs/usage.yaml``
(the workload) price the resources a stack renders; ``docs/costs.md`` is the estimate of every
environment, written by ``python -m platform_core.docs``, and the offline preview shows how a
change moves it. ``python -m platform_core.costs`` prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from platform_core.costs.inputs import (
    COSTS_DIR_NAME,
    PRICES_FILE,
    CostInputError,
    Prices,
    Usage,
    UsageFile,
    read_prices,
    read_usage,
)
from platform_core.costs.pricing import Estimate, LineItem, estimate
from platform_core.environments import profile_of
from platform_core.offline import RenderedStack
from platform_core.stack_files import read_stack_config

__all__ = [
    "COSTS_DIR_NAME",
    "CostInputError",
    "CostInputs",
    "Estimate",
    "LineItem",
    "environment_profiles",
    "estimate_all",
    "estimate_stack",
    "load_inputs",
    "stack_region",
]


@dataclass(frozen=True)
class CostInputs:
    """The price sheet and the usage file of one checkout."""

    prices: Prices
    usage: UsageFile

    def usage_of(self, environment: str, profile: str | None) -> Usage:
        return self.usage.for_environment(environment, profile)


def load_inputs(repo_root: Path) -> CostInputs:
    """``<repo_root>/costs/prices.yaml`` and ``usage.yaml``, validated."""
    directory = repo_root / COSTS_DIR_NAME
    return CostInputs(read_prices(directory), read_usage(directory))


def stack_region(rendered: RenderedStack) -> str:
    """The region the stack's AWS provider deploys to."""
    regions = {
        str(provider.inputs["region"])
        for provider in rendered.of_type("pulumi:providers:aws")
        if provider.inputs.get("region")
    }
    if len(regions) != 1:
        raise CostInputError(
            f"stack {rendered.stack}: expected one AWS provider region, found {sorted(regions)}"
        )
    return regions.pop()


def estimate_stack(
    rendered: RenderedStack, environment: str, profile: str | None, inputs: CostInputs
) -> Estimate:
    """The month of one rendered environment."""
    region = stack_region(rendered)
    usage = inputs.usage_of(environment, profile)
    if region not in inputs.prices.regions:
        # Never $0.00: a region without prices is not estimated, and says why.
        priced = ", ".join(sorted(inputs.prices.regions))
        reason = (
            f"{COSTS_DIR_NAME}/{PRICES_FILE} has no prices for {region} (it prices {priced}); "
            "add that region's prices to estimate it"
        )
        return Estimate(environment, region, (), not_estimated=reason)
    return estimate(rendered, environment, usage, inputs.prices.region(region), region)


def estimate_all(
    rendered: Mapping[str, RenderedStack], profiles: Mapping[str, str], inputs: CostInputs
) -> dict[str, Estimate]:
    """Every rendered environment's month."""
    return {
        environment: estimate_stack(stack, environment, profiles.get(environment), inputs)
        for environment, stack in rendered.items()
    }


def environment_profiles(stacks_dir: Path, environments: Iterable[str]) -> dict[str, str]:
    """The column of defaults each environment takes (its usage falls back on that entry)."""
    profiles = {}
    for environment in environments:
        directory = stacks_dir / environment
        exists = (directory / f"Pulumi.{environment}.yaml").is_file()
        config = read_stack_config(directory, environment) if exists else {}
        profiles[environment] = profile_of(environment, config)
    return profiles
