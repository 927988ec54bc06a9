"""The dial declaration: one row that parsing, defaults, README and attribution all read."""

from __future__ import annotations

import dataclasses

import pytest

from platform_core.config import DIALS, EnvironmentConfig
from platform_core.consistency import explaining_dial
from platform_core.dials import (
    REQUIRED,
    Creates,
    HalfOfProduction,
    SetsInput,
    dial,
    dials_of,
    read_dials,
)
from platform_core.parsers import IntegerRange
from platform_core.schema import stack_config_schema
from platform_core.settings_table import settings_table


@dataclasses.dataclass(frozen=True)
class Example:
    size_mb: int = dial(
        "sizeMb",
        IntegerRange(1, 100, "MB"),
        dev=10,
        staging=HalfOfProduction("sizeMb"),
        production=40,
        may_differ=True,
        doc="Size.",
        affects=(SetsInput("aws:x/y:Y", "size"),),
    )
    name: str = dial("name", IntegerRange(0, 9), required=True, doc="Required.")
    retries: int = dial("retries", IntegerRange(0, 3), everywhere=2, doc="Same everywhere.")


EXAMPLE = dials_of(Example)


def test_defaults_per_profile_with_staging_derived_from_production():
    by_key = {d.key: d for d in EXAMPLE.values()}
    size = EXAMPLE["size_mb"]
    assert [size.default(p, by_key) for p in ("dev", "staging", "production")] == [10, 20, 40]
    assert EXAMPLE["retries"].defaults == {"dev": 2, "staging": 2, "production": 2}
    assert EXAMPLE["name"].required and EXAMPLE["name"].defaults["dev"] is REQUIRED


def test_read_dials_types_fills_defaults_and_lists_every_problem():
    values, problems = read_dials(
        EXAMPLE, {"platform:sizeMb": "30", "platform:name": "7"}, "staging"
    )
    assert values == {"size_mb": 30, "name": 7, "retries": 2}
    assert problems == []
    values, problems = read_dials(EXAMPLE, {"platform:sizeMB": "3", "aws:other": "x"}, "dev")
    assert problems == [
        "platform:name is required: set it in the stack file (0-9)",
        "platform:sizeMB = '3': unknown key, did you mean 'platform:sizeMb'?",
        "aws:other = 'x': unknown key, it is not a known setting",
    ]


def test_differing_defaults_must_be_declared_as_such():
    with pytest.raises(TypeError, match="declare may_differ=True"):
        dial("x", IntegerRange(0, 9), dev=1, staging=2, production=3, doc="")


@pytest.mark.parametrize(
    "kwargs",
    [{"everywhere": 1, "dev": 1}, {"dev": 1, "staging": 1}, {}],
    ids=["both forms", "one profile missing", "no default and not required"],
)
def test_a_default_is_given_exactly_one_way(kwargs):
    with pytest.raises(TypeError, match="give `everywhere`, or all of dev, staging and production"):
        dial("x", IntegerRange(0, 9), doc="", **kwargs)


def test_effects_match_by_type_key_and_component_relative_name():
    assert SetsInput("t", "a.b").matches("t", "a.b")
    assert not SetsInput("t", "a.b").matches("t", "a.bc")
    assert SetsInput("t", "a*").matches("t", "a.b[0]")
    assert not SetsInput("t", "a*").matches("u", "a")
    assert Creates("t").matches("t", "anything")
    assert Creates("t", "xray-endpoint").matches("t", "net-xray-endpoint")
    assert not Creates("t", "xray-endpoint").matches("t", "net-xray-endpointx")


def test_every_dial_documents_itself_and_differing_dials_say_what_they_affect():
    for field, declared in DIALS.items():
        assert declared.doc.endswith("."), field
        if declared.may_differ and declared.key not in ("costCenter",):
            assert declared.affects, f"{field}: environments may differ in it, but in what?"


def test_a_new_dial_is_one_declaration(monkeypatch):
    """The recipe of README's "A new setting": declare the field; the rest follows from it."""
    new_field = (
        "log_level",
        str,
        dial(
            "logLevel",
            IntegerRange(0, 50),
            dev=10,
            staging=20,
            production=30,
            may_differ=True,
            doc="Threshold of the function's application logs.",
            affects=(
                SetsInput("aws:lambda/function:Function", "loggingConfig.applicationLogLevel"),
            ),
        ),
    )
    extended = dataclasses.make_dataclass(
        "Extended", [new_field], bases=(EnvironmentConfig,), frozen=True
    )
    registry = dials_of(extended)
    values, problems = read_dials(
        registry, {"platform:team": "t", "platform:costCenter": "c"}, "staging"
    )
    assert problems == [] and values["log_level"] == 20
    values, _ = read_dials(registry, {"platform:logLevel": "40"}, "dev")
    assert values["log_level"] == 40
    monkeypatch.setattr("platform_core.consistency.DIALS", registry)
    assert (
        explaining_dial("aws:lambda/function:Function", "f", "loggingConfig.applicationLogLevel")
        == "platform:logLevel"
    )
    monkeypatch.setattr("platform_core.settings_table.DIALS", registry)
    assert "| `platform:logLevel` | 10 | 20 | 30 | 0-50 | Threshold" in settings_table()
    monkeypatch.setattr("platform_core.schema.DIALS", registry)
    schema = stack_config_schema()["properties"]["config"]["properties"]["platform:logLevel"]
    assert schema["description"] == (
        "Threshold of the function's application logs. Allowed: 0-50. "
        "Defaults: dev 10, staging 20, production 30."
    )
    assert schema["errorMessage"] == "must be an integer from 0 to 50"
