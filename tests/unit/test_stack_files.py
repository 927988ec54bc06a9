"""Stack files read as the Pulumi CLI reads them (Go's yaml.v3), so offline rendering refuses what a
real `pulumi preview` refuses and accepts what it accepts."""

from __future__ import annotations

import pytest

from platform_core.errors import ConfigError, StackFileError
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


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        # The Pulumi CLI (Go's yaml.v3) refuses a mapping key defined twice; PyYAML keeps the last.
        (
            "config:\n  platform:lambdaMemoryMb: 768\n  platform:team: t\n"
            "  platform:lambdaMemoryMb: 1024\n",
            'line 4: mapping key "platform:lambdaMemoryMb" already defined at line 2',
        ),
        (
            "config:\n  platform:team: t\nconfig:\n  platform:team: u\n",
            'line 3: mapping key "config" already defined at line 1',
        ),
        (
            'config:\n  aws:tags: {a: 1, "a": 2}\n',
            'line 2: mapping key "a" already defined at line 2',
        ),
    ],
)
def test_a_key_defined_twice_is_refused_naming_file_and_lines(tmp_path, text, reported):
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    with pytest.raises(StackFileError) as raised:
        read_stack_config(tmp_path, "dev")
    assert str(raised.value) == f"{tmp_path / 'Pulumi.dev.yaml'}: {reported}"


def test_every_key_defined_twice_is_listed_in_line_order(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\nb: {c: 1}\nb: {c: 1, c: 2}\na: 2\n")
    with pytest.raises(StackFileError) as raised:
        read_yaml(path)
    assert str(raised.value) == (
        f'{path}: line 3: mapping key "b" already defined at line 2; '
        'line 3: mapping key "c" already defined at line 3; '
        'line 4: mapping key "a" already defined at line 1'
    )


def test_the_same_value_under_different_keys_is_no_duplicate(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: &x {k: 1}\nb: *x\nc: {k: 1, j: 2}\n")
    assert read_yaml(path) == {"a": {"k": 1}, "b": {"k": 1}, "c": {"k": 1, "j": 2}}


def test_malformed_yaml_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  platform:team: [unclosed\n  platform:costCenter: c\n")
    with pytest.raises(StackFileError) as raised:
        read_yaml(path)
    message = str(raised.value)
    assert message.startswith(f"{path}, line 3, column 22: not valid YAML: ")
    assert "started at line 2, column 18" in message
    assert "<unicode string>" not in message and "\n" not in message


def test_a_file_that_is_not_utf8_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_bytes(b"config:\n  platform:team: caf\xe9\n")
    with pytest.raises(StackFileError) as raised:
        read_yaml(path)
    assert (
        str(raised.value) == f"{path}, line 2: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    )
