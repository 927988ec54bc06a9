"""Stack files read as the Pulumi CLI reads them (Go's yaml.v3), so offline rendering refuses what a
real `pulumi preview` refuses and accepts what it accepts."""

from __future__ import annotations

import pytest

from platform_core.errors import ConfigError
from platform_core.loading import build_config, settings_of
from platform_core.organisation import Organisation
from platform_core.stack_files import engine_config, read_stack_config, read_yaml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("off", "off"),
        ("true", True),
        ("False", False),
        ("1_024", 1024),
        ("010", 8),
        ("0o17", 15),
        ("0b101", 5),
        ("08", 8.0),
        ("1e3", 1000.0),
        ("0x1f", 31),
        ("1.2.3", "1.2.3"),
        ("1:30", "1:30"),
        ("2.5", 2.5),
        ("~", None),
        ('"true"', "true"),
    ],
)
def test_scalars_resolve_as_the_pulumi_cli_resolves_them(tmp_path, text, expected):
    path = tmp_path / "f.yaml"
    path.write_text(f"value: {text}\n")
    assert read_yaml(path)["value"] == expected


def test_engine_config_passes_strings_as_the_cli_does():
    assert engine_config({"a": True, "b": 7, "c": ["x"], "d": {"k": 1}, "e": "no"}) == {
        "a": "true",
        "b": "7",
        "c": '["x"]',
        "d": '{"k":1}',  # Go's encoding/json: compact
        "e": "no",
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # The CLI writes a YAML float back in Go's shortest form (1024.0 -> 1024, read again as
        # an integer) and passes Go's JSON spelling of what it read.
        (1024.0, "1024"),
        (-0.0, "0"),
        (1.5, "1.5"),
        (1e-5, "0.00001"),
        (1.5e-7, "1.5e-7"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        ([111111111111.0, "a<b"], '[111111111111,"a\\u003cb"]'),
    ],
)
def test_numbers_and_structures_reach_the_program_as_go_spells_them(value, text):
    assert engine_config({"k": value}) == {"k": text}


def test_an_infinite_number_is_refused_as_the_cli_refuses_it():
    with pytest.raises(ValueError, match="cannot pass an infinite or NaN config value"):
        engine_config({"k": float("inf")})


def test_yaml_no_in_a_stack_file_is_refused_like_the_cli_would(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  platform:team: t\n  platform:costCenter: c\n  platform:xrayTracing: no\n"
        "  pulumi:disable-default-providers: [aws]\n"
    )
    raw = settings_of(engine_config(read_stack_config(tmp_path, "dev")))
    with pytest.raises(ConfigError, match="platform:xrayTracing = 'no': must be true or false"):
        build_config("dev", raw, Organisation("acme"))


def test_a_stack_file_that_is_not_a_mapping_is_named(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("- a\n- b\n")
    with pytest.raises(ValueError, match=r"Pulumi\.dev\.yaml: expected a YAML mapping"):
        read_stack_config(tmp_path, "dev")
