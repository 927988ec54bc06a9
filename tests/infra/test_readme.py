"""README's settings table is the defaults table: a newcomer reads what the code deploys."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from platform_core.config import DEFAULTS, PARSERS, REQUIRED_KEYS

README = Path(__file__).resolve().parents[2] / "README.md"


def settings_rows() -> dict[str, list[str]]:
    section = README.read_text().split("## Per-environment settings", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        keys = re.findall(r"`([A-Za-z0-9]+)`", cells[0]) if line.startswith("| `") else []
        for key in keys:
            rows[key] = cells[1:4]
    return rows


def shown(value: object) -> str:
    if value is None or value == ():
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def test_every_setting_has_a_row():
    assert set(settings_rows()) == set(PARSERS)


def test_rows_show_the_defaults():
    rows = settings_rows()
    for key, (dev, staging, production) in rows.items():
        if key in REQUIRED_KEYS:
            assert (dev, staging, production) == ("required",) * 3
            continue
        expected = [shown(DEFAULTS[env][key]) for env in ("dev", "staging", "production")]
        assert [dev, staging, production] == expected, key
