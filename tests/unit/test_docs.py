"""README's settings table is generated from the dials, and is current."""

from __future__ import annotations

import pytest

from platform_core.config import DIALS
from platform_core.docs import README, main, replace_section
from platform_core.settings_table import settings_table

REGENERATE = "README's settings table is stale: run `python -m platform_core.docs`"


def test_readme_settings_table_is_current():
    text = README.read_text()
    assert replace_section(text, settings_table()) == text, REGENERATE


def test_every_dial_has_one_row_with_its_defaults():
    rows = [line for line in settings_table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [d.config_key for d in DIALS.values()]
    by_key = {row.split("`")[1]: [cell.strip() for cell in row.split("|")[2:5]] for row in rows}
    # Written out by hand from the documented defaults.
    assert by_key["platform:lambdaMemoryMb"] == ["512", "1024", "2048"]
    assert by_key["platform:reservedConcurrency"] == ["none", "50 (half of production's)", "100"]
    assert by_key["platform:xrayTracing"] == ["false", "true", "true"]
    assert by_key["platform:team"] == ["required", "required", "required"]
    assert by_key["platform:vpcCidr"] == ["10.2.0.0/16", "10.1.0.0/16", "10.0.0.0/16"]


def test_replacing_needs_the_markers():
    with pytest.raises(ValueError, match="no <!-- settings-table:start -->"):
        replace_section("# no table here\n", "x")
    section = "a\n<!-- settings-table:start -->\nold\n<!-- settings-table:end -->\nb\n"
    assert replace_section(section, "new\n") == (
        "a\n<!-- settings-table:start -->\nnew\n<!-- settings-table:end -->\nb\n"
    )


def test_help_gives_the_whole_description(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "the schema of the stack files and the cost estimate." in out
    assert "python -m platform_core.docs --check # exit 1 when one is stale" in out
