"""Stack files read as the Pulumi CLI reads them (YAML 1.2), so offline rendering refuses what a
real `pulumi preview` refuses."""

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
        ("1_024", "1_024"),
        ("010", 10),
        ("0x1f", 31),
        ("1:30", "1:30"),
        ("2.5", 2.5),
        ("~", None),
        ('"true"', "true"),
    ],
)
def test_scalars_follow_yaml_1_2(tmp_path, text, expected):
    path = tmp_path / "f.yaml"
    path.write_text(f"value: {text}\n")
    assert read_yaml(path)["value"] == expected


def test_engine_config_passes_strings_as_the_cli_does():
    assert engine_config({"a": True, "b": 7, "c": ["x"], "d": {"k": 1}, "e": "no"}) == {
        "a": "true",
        "b": "7",
        "c": '["x"]',
        "d": '{"k": 1}',
        "e": "no",
    }


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
