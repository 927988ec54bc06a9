"""README's settings table, written from the table of dials (never by hand)."""

from __future__ import annotations

import ipaddress
from enum import Enum
from typing import Any

from platform_core.config import DIALS
from platform_core.dials import PROFILES, REQUIRED, Dial, HalfOfProduction

__all__ = ["settings_table", "shown"]


def shown(value: Any) -> str:
    """A default as README shows it."""
    if value is None or value == ():
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, ipaddress.IPv4Network):
        return str(value)
    return str(value)


def _default_cell(dial: Dial, profile: str, by_key: dict[str, Dial]) -> str:
    declared = dial.defaults[profile]
    if declared is REQUIRED:
        return "required"
    value = shown(dial.default(profile, by_key))
    if isinstance(declared, HalfOfProduction):
        source = "" if declared.key == dial.key else f" `{declared.key}`"
        return f"{value} (half of production's{source})"
    return value


def settings_table() -> str:
    """One row per dial: key, the default of each profile, what it accepts, what it does."""
    by_key = {dial.key: dial for dial in DIALS.values()}
    lines = [
        f"| setting | {' | '.join(PROFILES)} | allowed | what it does |",
        f"|---|{'---|' * len(PROFILES)}---|---|",
    ]
    for dial in DIALS.values():
        defaults = " | ".join(_default_cell(dial, profile, by_key) for profile in PROFILES)
        doc = dial.doc + ("" if dial.may_differ else " Same in every environment.")
        lines.append(f"| `{dial.config_key}` | {defaults} | {dial.parse.allowed} | {doc} |")
    return "\n".join(lines) + "\n"
