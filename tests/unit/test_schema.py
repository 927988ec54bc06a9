"""The stack-file schema says exactly what the program accepts, and is what the editors read.

Each setting's schema is compared with its parser on many values (Hypothesis): a YAML value is
valid under the schema exactly when the parser accepts its text as the Pulumi CLI passes it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from platform_core.config import DIALS
from platform_core.docs import documents
from platform_core.parsers import AccountId, EngineVersion, Parser
from platform_core.patterns import integer_range, padded
from platform_core.schema import SCHEMA_PATH, modeline, schema_text, stack_config_schema
from platform_core.stack_files import engine_config, read_yaml
from tests.repository import ENVIRONMENTS, STACKS_DIR

SCHEMA = stack_config_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
CONFIG = SCHEMA["properties"]["config"]
FILE_OF = {env: STACKS_DIR / env / f"Pulumi.{env}.yaml" for env in ENVIRONMENTS}


def accepts(parser: Parser[Any], value: Any) -> bool:
    """Whether the program takes ``value``, written in a stack file, for this setting."""
    try:
        parser(engine_config({"key": value})["key"])
    except ValueError:
        return False
    return True


def valid(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema.Draft7Validator({**schema, "definitions": SCHEMA["definitions"]}).is_valid(
        value
    )


# --- the integer patterns, against int() ------------------------------------------------------


@given(
    low=st.integers(-3000, 3000),
    width=st.integers(0, 3000),
    number=st.integers(-7000, 7000),
    zeros=st.integers(0, 2),
)
@settings(max_examples=400)
def test_integer_range_pattern_matches_exactly_the_integers_in_range(low, width, number, zeros):
    high = low + width
    pattern = re.compile(padded(integer_range(low, high)))
    sign = "-" if number < 0 else ""
    text = f"{sign}{'0' * zeros}{abs(number)}"
    assert bool(pattern.fullmatch(text)) == (low <= number <= high), (low, high, text)


@pytest.mark.parametrize(
    ("low", "high", "text", "expected"),
    [
        (128, 10240, "10240", True),
        (128, 10240, "10241", False),
        (128, 10240, "127", False),
        (128, 10240, " 0512 ", True),
        (128, 10240, "+512", False),
        (128, 10240, "512.0", False),
        (-5, 5, "-0", True),
        (-5, 5, "-6", False),
        (0, 2, "", False),
    ],
)
def test_integer_range_pattern_examples(low, high, text, expected):
    assert bool(re.fullmatch(padded(integer_range(low, high)), text)) == expected


def test_an_empty_range_is_a_mistake():
    with pytest.raises(ValueError, match="empty range 5..4"):
        integer_range(5, 4)


# --- every setting's schema against its parser -----------------------------------------------

SPACES = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0"])
ALPHABET = st.characters(
    codec="utf-8", categories=["L", "N", "P", "S", "Zs"], exclude_characters="\x00"
)
TEXT = st.text(ALPHABET, max_size=12)
# Numbers the CLI spells in exponent form (below 1e-6, from 1e21) are out of the schema's reach:
# `1e-7` happens to be a valid suffix, and JSON Schema cannot tell 1e21 from 10**21.
NUMBERS = st.one_of(
    st.integers(-(10**13), 10**13),
    st.floats(-1e15, 1e15, allow_nan=False, allow_infinity=False).filter(
        lambda number: number == 0 or abs(number) >= 1e-6
    ),
    st.sampled_from([0.0, -0.0, 0.5, 512.0, 7.0, 111111111111.0]),
)
WORDS = st.sampled_from(
    ["none", "None", "NULL", "unset", "true", "false", "True", "yes", "no", "dev", "staging",
     "production", "PAY_PER_REQUEST", "PROVISIONED", "nat-gateway", "strict", "relaxed",
     "us-east-1", "eu-central-1", "us-gov-west-1", "US-EAST-1", "pr-42", "-pr", "Pr-1",
     "10.2.0.0/16", "10.2.0.0/255.255.0.0", "10.2.0.0/0.0.255.255", "10.2.128.0/17",
     "10.2.0.1/16", "10.2.0.0/8", "010.2.0.0/16", "10.2.0.0/016", "111111111111",
     "111111111111,222222222222", '["111111111111"]', '[ "111111111111" , 222222222222 ]',
     "[1,", "{}", "cc-1042 dev/ops@x", "a;b"]
)  # fmt: skip
DIGITS = st.integers(0, 50000).map(str)
PADDED_WORDS = st.builds(lambda a, w, b: f"{a}{w}{b}", SPACES, st.one_of(WORDS, DIGITS), SPACES)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, WORDS, DIGITS, PADDED_WORDS)
ACCOUNTS = st.sampled_from(["111111111111", " 222222222222 ", "", "12345", "x"])
VALUES = st.one_of(
    SCALARS,
    st.lists(st.one_of(ACCOUNTS, st.integers(10**11 - 5, 10**12 + 5), SCALARS), max_size=3),
    st.dictionaries(st.sampled_from(["secure", "value"]), SCALARS, max_size=2),
)
VALIDATORS = {
    dial.config_key: jsonschema.Draft7Validator(CONFIG["properties"][dial.config_key])
    for dial in DIALS.values()
}


@pytest.mark.parametrize("key", list(VALIDATORS))
@given(value=VALUES)
@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(value=512.0)
@example(value="  none ")
@example(value=["111111111111", 222222222222, ""])
@example(value={"secure": "v1:AAAA"})
@example(value=True)
@example(value=None)
@example(value=17.6)
def test_a_setting_is_valid_exactly_when_the_program_accepts_it(key, value):
    parser = next(dial.parse for dial in DIALS.values() if dial.config_key == key)
    valid_here = VALIDATORS[key].is_valid(value)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(parser, EngineVersion) and number:
        # The CLI hands the program 17.10 as "17.1": only the schema sees that it was a number.
        assert not valid_here
        return
    assert valid_here == accepts(parser, value), value


@given(
    octets=st.lists(st.sampled_from([0, 1, 2, 8, 10, 15, 16, 31, 32, 128, 168, 169, 172, 192,
                                     255, 256, 1000]), min_size=4, max_size=4),
    prefix=st.sampled_from(["/8", "/15", "/16", "/17", "/23", "/24", "/25", "/016",
                            "/255.255.254.0", "/0.0.1.255", "/255.255.0.255", ""]),
)  # fmt: skip
def test_the_network_schema_agrees_with_ipaddress(octets, prefix):
    schema = CONFIG["properties"]["platform:vpcCidr"]
    text = ".".join(map(str, octets)) + prefix
    assert valid(schema, text) == accepts(DIALS["vpc_cidr"].parse, text), text


def test_an_account_id_of_the_bootstrap_agrees_too():
    parser = AccountId()
    for value in ["111111111111", " 111111111111", 111111111111, "11111111111", True, None]:
        assert valid(parser.schema(), value) == accepts(parser, value), value


def test_the_editor_message_is_the_programs_own():
    memory = CONFIG["properties"]["platform:lambdaMemoryMb"]
    assert memory["errorMessage"] == "must be an integer from 128 to 10240 (MB)"
    concurrency = CONFIG["properties"]["platform:reservedConcurrency"]
    assert concurrency["errorMessage"] == (
        "must be an integer from 1 to 10000, or 'none' to leave it unset"
    )
    # Every branch an editor may report carries the same sentence.
    assert {branch["errorMessage"] for branch in memory["anyOf"]} == {memory["errorMessage"]}


def test_descriptions_and_examples_come_from_the_dials():
    memory = CONFIG["properties"]["platform:lambdaMemoryMb"]
    assert memory["description"].startswith("Memory of the function")
    assert "Defaults: dev 512, staging 1024, production 2048." in memory["description"]
    assert memory["examples"] == [512, 1024, 2048]
    concurrency = CONFIG["properties"]["platform:reservedConcurrency"]
    assert "staging 50 (half of production's reservedConcurrency)" in concurrency["description"]
    team = CONFIG["properties"]["platform:team"]
    assert "Required" in team["description"] and "examples" not in team
    for dial in DIALS.values():
        schema = CONFIG["properties"][dial.config_key]
        for value in schema.get("examples", []):
            assert valid(schema, value) and accepts(dial.parse, value), (dial.key, value)


# --- keys: the platform's, Pulumi's, and nobody's ----------------------------------------------


def stack_file(**config: Any) -> dict[str, Any]:
    base = {
        "pulumi:disable-default-providers": ["aws"],
        "platform:team": "t",
        "platform:costCenter": "cc-1",
    }
    return {"config": {**base, **config}}


@pytest.mark.parametrize(
    "document",
    [
        stack_file(),
        stack_file(**{"aws:region": "eu-west-1", "aws:profile": "dev-admin"}),
        stack_file(**{"aws:accessKey": {"secure": "v1:AAAA"}}),
        stack_file(**{"pulumi:template": "aws-python", "pulumi:disable-default-providers": ["*"]}),
        stack_file(**{"pulumi:disable-default-providers": '["random", "aws"]'}),
        stack_file(**{"platform:defaults": "staging", "platform:lambdaMemoryMb": "768"}),
        {**stack_file(), "secretsprovider": "awskms://alias/x?region=us-east-1",
         "encryptedkey": "AQICAHh", "environment": ["trading/dev"]},
    ],
)  # fmt: skip
def test_what_pulumi_and_the_program_take_is_valid(document):
    assert list(VALIDATOR.iter_errors(document)) == []


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (stack_file(lambdaMemoryMb=768), "lambdaMemoryMb"),  # the project's namespace: unread
        (stack_file(**{"trading-analytics-dev:lambdaMemoryMb": 768}), "trading-analytics-dev:"),
        (stack_file(**{"platform:lambdaMemory": 768}), "platform:lambdaMemory"),
        (stack_file(**{"platform:config:lambdaMemoryMb": 768}), "platform:config:"),
        (stack_file(**{"random:length": 8}), "random:length"),
        (stack_file(**{"pulumi:disable-default-providers": ["random"]}), "disable-default"),
        (stack_file(**{"pulumi:disable-default-providers": "[]"}), "disable-default"),
        (stack_file(**{"platform:team": {"secure": "v1:AAAA"}}), "platform:team"),
        ({**stack_file(), "confg": {}}, "confg"),
        ({"config": {"platform:team": "t", "platform:costCenter": "c"}}, "disable-default"),
    ],
)
def test_keys_nothing_reads_and_missing_guards_are_refused(document, where):
    errors = list(VALIDATOR.iter_errors(document))
    assert errors, document
    assert where in " ".join(f"{list(e.path)} {e.message}" for e in errors)


# --- the committed file and the stack files --------------------------------------------------


def test_the_schema_is_a_valid_draft_7_schema_with_patterns_both_dialects_read():
    jsonschema.Draft7Validator.check_schema(SCHEMA)

    def patterns(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
            found += list(node.get("patternProperties", {}))
            return found + [p for value in node.values() for p in patterns(value)]
        return [p for value in node for p in patterns(value)] if isinstance(node, list) else []

    found = patterns(SCHEMA)
    assert len(found) > 20
    for pattern in found:
        re.compile(pattern)
        # What ECMA-262 refuses or reads differently: lookbehind, possessive, \Z, (?i), \-
        # outside a class.
        assert not re.search(r"\(\?<|\(\?[aiLmsux]|\\[AZz]|[*+?]\+", pattern), pattern


def test_the_committed_schema_is_current_and_a_generated_document():
    assert (
        SCHEMA_PATH.read_text() == schema_text()
    ), "schema/stack-config.schema.json is stale: run `python -m platform_core.docs`"
    assert SCHEMA_PATH in [document.path for document in documents()]
    assert json.loads(schema_text()) == SCHEMA


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_stack_file_names_the_schema_and_is_valid(environment):
    path = FILE_OF[environment]
    first_line = path.read_text().splitlines()[0]
    assert (
        first_line
        == modeline(path)
        == "# yaml-language-server: $schema=../../schema/stack-config.schema.json"
    )
    target = first_line.split("$schema=", 1)[1]
    assert (path.parent / target).resolve() == SCHEMA_PATH
    committed = json.loads(SCHEMA_PATH.read_text())
    errors = list(jsonschema.Draft7Validator(committed).iter_errors(read_yaml(path)))
    assert errors == [], [error.message for error in errors]


def test_a_scalar_reaches_the_schema_as_an_editor_reads_it(tmp_path: Path):
    # YAML 1.2: `yes` is text (refused for a boolean), `true` a boolean, `0x200` a number.
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        "config:\n  pulumi:disable-default-providers: [aws]\n  platform:team: t\n"
        "  platform:costCenter: c\n  platform:xrayTracing: yes\n  platform:s3Versioning: true\n"
        "  platform:lambdaMemoryMb: 0x200\n"
    )
    document = read_yaml(path)
    assert [list(e.path) for e in VALIDATOR.iter_errors(document)] == [
        ["config", "platform:xrayTracing"]
    ]
    assert yaml.safe_load(path.read_text())["config"]["platform:xrayTracing"] is True  # YAML 1.1


def test_the_vpc_pattern_admits_each_profiles_default():
    schema = CONFIG["properties"]["platform:vpcCidr"]
    for dial_default in DIALS["vpc_cidr"].defaults.values():
        assert isinstance(dial_default, ipaddress.IPv4Network)
        assert valid(schema, str(dial_default))
