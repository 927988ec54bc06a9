"""What turning on an optional setting would add to each environment's month.

Some settings add resources paid by the hour whatever the load: the database, a NAT gateway or
instance. Each environment is rendered again with one of them changed and priced the same way,
so the decision shows its price before anyone sets it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Final

from platform_core.config import DIALS
from platform_core.costs import CostInputs, Estimate, estimate_stack
from platform_core.loading import build_config, settings_of
from platform_core.offline import render_stack
from platform_core.organisation import find_organisation
from platform_core.stack_files import read_stack_config

__all__ = ["OPTIONS", "OptionCost", "current_value", "option_costs"]

#: (setting, value) pairs whose cost docs/costs.md shows.
OPTIONS: Final = (
    ("platform:database", "aurora-postgresql"),
    ("platform:egressMode", "nat-gateway"),
    ("platform:egressMode", "nat-instance"),
)


@dataclass(frozen=True)
class OptionCost:
    """What setting ``key`` to ``value`` adds to each environment's month (None: it has it)."""

    key: str
    value: str
    added: Mapping[str, float | None]


def current_value(stacks_dir: Path, environment: str, key: str) -> str:
    """The value an environment's stack file gives ``key`` (or its default), as a file spells it."""
    [field] = [field for field, dial in DIALS.items() if dial.config_key == key]
    raw = settings_of(read_stack_config(stacks_dir / environment, environment))
    config = build_config(environment, raw, find_organisation(stacks_dir))
    value = getattr(config, field)
    return str(value.value if isinstance(value, Enum) else value)


def option_costs(
    stacks_dir: Path,
    estimates: Mapping[str, Estimate],
    inputs: CostInputs,
    profiles: Mapping[str, str],
) -> list[OptionCost]:
    """Each option of ``OPTIONS`` against each environment's estimate."""
    costs = []
    for key, value in OPTIONS:
        added: dict[str, float | None] = {}
        for environment, estimate in estimates.items():
            if not estimate.estimated:
                added[environment] = math.nan  # no prices for its region: nothing to add to
                continue
            if current_value(stacks_dir, environment, key) == value:
                added[environment] = None
                continue
            changed = render_stack(stacks_dir / environment, overrides={key: value})
            priced = estimate_stack(changed, environment, profiles.get(environment), inputs)
            added[environment] = priced.total - estimate.total
        costs.append(OptionCost(key, value, added))
    return costs
