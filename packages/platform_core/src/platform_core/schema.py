"""The JSON Schema of a stack file, `stacks/<env>/Pulumi.<env>.yaml`, written from the dials.

Editors validate a stack file as you type: its first line names the committed schema,

    # yaml-language-server: $schema=../../schema/stack-config.schema.json

which `python -m platform_core.docs` writes (and the tests keep current). It holds every
setting's type, range, values, defaults and meaning, with the program's own "must be …" sentence
as the editor's error message; it refuses keys nothing reads, and lets `aws:` and `pulumi:` keys
take whatever Pulumi takes. Some rules only the program can apply: the defaults an environment
takes (so whether `platform:defaults` is needed), settings that do not fit together, names that
grow too long. `check` applies both and prints what `pulumi preview` would:

    python -m platform_core.schema check [FILE ...]   # default: every stack file under stacks/
    python -m platform_core.schema print              # the schema, on standard output
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final

from platform_core.config import DIALS
from platform_core.dials import (
    CONFIG_NAMESPACE,
    PROFILES,
    REQUIRED,
    Dial,
    HalfOfProduction,
    closest_key,
)
from platform_core.environments import PROFILE_KEY, REPO_ROOT, STACKS_DIR
from platform_core.errors import ConfigError, PlatformError, StackFileError, with_notes
from platform_core.loading import build_config, settings_of
from platform_core.parsers import Parser
from platform_core.patterns import alternatives, padded
from platform_core.settings_table import shown
from platform_core.stack_files import engine_config, number_notes, read_yaml

__all__ = [
    "SCHEMA_PATH",
    "FileCheck",
    "check_file",
    "main",
    "modeline",
    "schema_text",
    "stack_config_schema",
]

SCHEMA_PATH: Final = REPO_ROOT / "schema" / "stack-config.schema.json"
COMMAND: Final = "python -m platform_core.schema"
DIALECT: Final = "http://json-schema.org/draft-07/schema#"  # what yaml-language-server reads
#: Namespaces Pulumi itself reads; the others hold dials or belong to nobody.
_ENGINE_NAMESPACE: Final = "pulumi"
_DISABLE_DEFAULT_PROVIDERS: Final = "pulumi:disable-default-providers"
_PROFILE_CONFIG_KEY: Final = f"{CONFIG_NAMESPACE}:{PROFILE_KEY}"
# A value every parser refuses, to learn the sentence each one refuses with.
_UNPARSABLE: Final = "\x00"

# What the Pulumi CLI reads of a stack file (workspace.ProjectStack); it ignores other keys.
_STACK_FILE_KEYS: Final[dict[str, dict[str, Any]]] = {
    "secretsprovider": {
        "type": "string",
        "description": "How the stack's secrets are encrypted, e.g. "
        "awskms://alias/trading-analytics-pulumi-<env>?region=us-east-1 (written by "
        "`pulumi stack init --secrets-provider`).",
    },
    "encryptedkey": {
        "type": "string",
        "description": "The stack's data key, encrypted with the secrets provider's KMS key "
        "(written by Pulumi).",
    },
    "encryptionsalt": {
        "type": "string",
        "description": "The salt of a passphrase secrets provider (written by Pulumi).",
    },
    "environment": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
        "description": "Pulumi ESC environments to import, or an inline environment definition. "
        "The offline tools of this repository (tests, reports, `make demo`) do not see the "
        "configuration they provide.",
    },
}

_SECRET: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
    "description": "A secret, encrypted by the stack's secrets provider "
    "(`pulumi config set --secret`).",
}
# Anything Pulumi takes as a config value: a YAML scalar, a secret, a list or a mapping (which
# may hold secrets too). Spelled out for the reader; it admits every value.
_ANY_VALUE: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": ["string", "number", "boolean", "null"]},
        {"$ref": "#/definitions/secret"},
        {"type": "array"},
        {"type": "object"},
    ]
}


def _refusal(parser: Parser[Any]) -> str:
    """The sentence ``parser`` refuses a value with ("must be …"), as the program prints it."""
    try:
        parser(_UNPARSABLE)
    except ValueError as error:
        return str(error)
    raise AssertionError(f"{parser!r} accepts {_UNPARSABLE!r}")  # pragma: no cover


def _with_message(schema: Any, message: str) -> Any:
    """``schema`` with ``message`` as the editor's error message at every level that can fail
    and has none of its own (yaml-language-server's ``errorMessage``: otherwise it shows the
    failing pattern)."""
    if isinstance(schema, dict):
        result = {key: _with_message(value, message) for key, value in schema.items()}
        if {"type", "enum", "pattern", "anyOf"} & set(schema) and "errorMessage" not in schema:
            result["errorMessage"] = message
        return result
    if isinstance(schema, list):
        return [_with_message(item, message) for item in schema]
    return schema


def _yaml_value(value: Any) -> Any:
    """A typed default as a stack file would spell it."""
    if value is None:
        return "none"
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _defaults_text(dial: Dial) -> str:
    if dial.required:
        return "Required: every stack file sets it."
    by_key = {declared.key: declared for declared in DIALS.values()}
    cells = {}
    for profile in PROFILES:
        declared = dial.defaults[profile]
        cells[profile] = shown(dial.default(profile, by_key))
        if isinstance(declared, HalfOfProduction):
            cells[profile] += f" (half of production's {declared.key})"
    if len(set(cells.values())) == 1:
        return f"Default: {cells[PROFILES[0]]}."
    return "Defaults: " + ", ".join(f"{profile} {cells[profile]}" for profile in PROFILES) + "."


def _dial_schema(dial: Dial) -> dict[str, Any]:
    by_key = {declared.key: declared for declared in DIALS.values()}
    same = "" if dial.may_differ else " Same in every environment."
    allowed = dial.parse.allowed.replace("`", "")
    schema: dict[str, Any] = _with_message(dial.parse.schema(), _refusal(dial.parse))
    schema["description"] = f"{dial.doc}{same} Allowed: {allowed}. {_defaults_text(dial)}"
    examples = []
    for profile in PROFILES:
        if dial.defaults[profile] is REQUIRED:
            continue
        example = _yaml_value(dial.default(profile, by_key))
        if example not in examples and example != []:
            examples.append(example)
    if examples:
        schema["examples"] = examples
    return schema


def _profile_schema() -> dict[str, Any]:
    allowed = ", ".join(f"'{profile}'" for profile in PROFILES)
    return {
        "anyOf": [
            {"enum": list(PROFILES)},
            {"type": "string", "pattern": padded(alternatives(list(PROFILES)))},
        ],
        "errorMessage": f"must be one of {allowed}",
        "description": "The column of defaults this environment takes: "
        f"{', '.join(PROFILES)}. An environment named like one of them takes its own; any "
        "other must set it (README, \"A new environment\").",
    }


def _disable_default_providers_schema() -> dict[str, Any]:
    barred = r"^\s*(?:aws|\*)\s*$"
    return {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}, "contains": {"pattern": barred}},
            # The CLI's own spelling: JSON text of the list.
            {"type": "string", "pattern": r'^\s*\[.*"\s*(?:aws|\*)\s*".*\]\s*$'},
        ],
        "errorMessage": 'must be ["aws"] (a list naming aws, or *): every resource and lookup '
        "uses the environment's explicit AWS provider, and none may fall back to a default one",
        "description": "Packages whose default provider Pulumi must not create. The platform "
        "passes its own AWS provider (region, tags, allowed accounts) to everything; with aws "
        "listed here, anything that forgets it fails instead of deploying with defaults.",
    }


def _open_namespaces() -> list[str]:
    """Namespaces whose other keys Pulumi accepts: the engine's and those of non-platform dials
    (`aws:`, where a default provider would read them; these stacks disable it)."""
    namespaces = {dial.namespace for dial in DIALS.values()} - {CONFIG_NAMESPACE}
    return sorted(namespaces | {_ENGINE_NAMESPACE})


def _config_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {dial.config_key: _dial_schema(dial) for dial in DIALS.values()}
    properties[_PROFILE_CONFIG_KEY] = _profile_schema()
    properties[_DISABLE_DEFAULT_PROVIDERS] = _disable_default_providers_schema()
    open_namespaces = _open_namespaces()
    patterns = {
        f"^{namespace}:[^:]+$": {
            **_ANY_VALUE,
            "description": f"Any {namespace}: key and value Pulumi takes."
            + (
                ""
                if namespace == _ENGINE_NAMESPACE
                else f" Only the dials above are read: the platform's {namespace} provider is "
                "explicit, and the stack's default one is disabled."
            ),
        }
        for namespace in open_namespaces
    }
    required = [dial.config_key for dial in DIALS.values() if dial.required]
    return {
        "type": "object",
        "description": f"The environment's settings: `{CONFIG_NAMESPACE}:` keys (the dials), and "
        f"keys of {', '.join(f'`{ns}:`' for ns in open_namespaces)}.",
        "properties": properties,
        "patternProperties": patterns,
        "additionalProperties": False,
        "errorMessage": _unknown_key_message(),
        "required": [*required, _DISABLE_DEFAULT_PROVIDERS],
    }


def _unknown_key_message() -> str:
    namespaces = " and ".join(f"{ns}:" for ns in _open_namespaces())
    return (
        f"nothing reads it: use {CONFIG_NAMESPACE}: settings, or {namespaces} keys (a key with "
        "no namespace is the project's)"
    )


def stack_config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 7) of ``Pulumi.<env>.yaml``, from the table of dials."""
    return {
        "$schema": DIALECT,
        "$comment": "Generated by `python -m platform_core.docs` from "
        "packages/platform_core/src/platform_core/config.py. Do not edit.",
        "title": "Stack file of the trading analytics platform (stacks/<env>/Pulumi.<env>.yaml)",
        "type": "object",
        "properties": {"config": _config_schema(), **copy.deepcopy(_STACK_FILE_KEYS)},
        "additionalProperties": False,
        "errorMessage": "not a stack-file key: Pulumi reads "
        f"{', '.join(['config', *_STACK_FILE_KEYS])}, and silently ignores anything else",
        "required": ["config"],
        "definitions": {"secret": _SECRET},
    }


def schema_text() -> str:
    """The committed file's text."""
    return json.dumps(stack_config_schema(), indent=2, ensure_ascii=False) + "\n"


def modeline(stack_file: Path, schema_path: Path = SCHEMA_PATH) -> str:
    """The first line of a stack file: tells yaml-language-server which schema to use."""
    relative = Path(os.path.relpath(schema_path, stack_file.parent)).as_posix()
    return f"# yaml-language-server: $schema={relative}"


@dataclass(frozen=True)
class FileCheck:
    """What is wrong with one stack file: the program's problems, as `pulumi preview` prints
    them, and what only the schema knows (keys nothing reads, Pulumi's own keys)."""

    path: Path
    environment: str
    program: tuple[str, ...]
    schema_only: tuple[str, ...]
    #: Why the file could not be read as YAML (then nothing else is checked).
    unreadable: str | None = None

    @property
    def ok(self) -> bool:
        return not self.program and not self.schema_only and self.unreadable is None

    def report(self, root: Path = REPO_ROOT) -> str:
        """``<file>: valid``, or the program's message for the file (what `pulumi preview`
        prints after ``error:``) followed by the problems only the schema knows."""
        name = _shown_path(self.path, root)
        if self.unreadable is not None:
            return f"{name}: cannot be read: {self.unreadable}"
        if self.ok:
            return f"{name}: valid"
        problems = [*self.program, *(f"{problem} (schema)" for problem in self.schema_only)]
        error = ConfigError(f"environment '{self.environment}'", problems)
        return f"{name}: {error}"


def _shown_path(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def _problem_key(problem: str) -> str:
    """The config key a problem of the program names first (`platform:x = …`, `… is required`)."""
    return problem.split(" ", 1)[0]


def _schema_problems(document: Any) -> Iterator[tuple[str, str]]:
    """(key, problem) for each schema violation, worded like the program's problems."""
    import jsonschema

    validator = jsonschema.Draft7Validator(stack_config_schema())
    config = document.get("config") if isinstance(document, dict) else None
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        message = error.schema.get("errorMessage", error.message)
        if error.validator == "required" and not path:
            yield "config", "config is missing: a stack file holds its settings under `config:`"
        elif error.validator == "required":
            missing = re.match(r"^'(.*)' is a required property$", error.message)
            key = missing.group(1) if missing else str(error.validator_value)
            schema = error.schema.get("properties", {}).get(key, {})
            reason = schema.get("errorMessage", "")
            yield key, f"{key} is missing" + (f": it {reason}" if reason else "")
        elif error.validator == "additionalProperties" and path == ["config"]:
            for key in _extra_keys(error):
                yield key, f"{key} = {_passed(error.instance, key)!r}: {message}{_hint(key)}"
        elif error.validator == "additionalProperties":
            for key in _extra_keys(error):
                yield key, f"{key}: {message}"
        elif path[:1] == ["config"] and len(path) >= 2 and isinstance(config, dict):
            key = str(path[1])
            yield key, f"{key} = {_passed(config, key)!r}: {message}"
        else:
            where = ".".join(map(str, path)) or "the file"
            yield where, f"{where}: {error.message}"


def _passed(config: Mapping[str, Any], key: str) -> str:
    """A value as the Pulumi CLI passes it to the program (and the program's messages show)."""
    try:
        return engine_config({key: config[key]})[key]
    except ValueError:  # what the CLI cannot pass at all (.inf): as written
        return str(config[key])


def _extra_keys(error: Any) -> list[str]:
    properties = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [
        key
        for key in error.instance
        if key not in properties and not any(p.search(key) for p in patterns)
    ]


def _hint(key: str) -> str:
    """The setting a key in the wrong namespace (or none) probably meant."""
    close = closest_key(key, [*(dial.config_key for dial in DIALS.values()), _PROFILE_CONFIG_KEY])
    return f"; did you mean '{close}'?" if close else ""


def _program_problems(path: Path, environment: str, config: Mapping[str, Any]) -> list[str]:
    """The program's problems with ``config``, given as the Pulumi CLI passes it."""
    from platform_core.organisation import find_organisation

    try:
        organisation = find_organisation(path.parent)
        raw = settings_of(engine_config(config))
        build_config(environment, raw, organisation)
    except ConfigError as error:
        return error.problems
    except ValueError as error:  # a value the CLI cannot pass (engine_config says which)
        return [str(error)]
    return []


def check_file(path: Path) -> FileCheck:
    """Check one stack file against the schema and the program's own rules."""
    environment = path.resolve().parent.name
    try:
        document = read_yaml(path)
    except OSError as error:
        return FileCheck(path, environment, (), (), unreadable=error.strerror or str(error))
    except StackFileError as error:
        # The report names the file first; the message's own copy of the path is left out.
        reason = str(error).removeprefix(str(path)).removeprefix(":").removeprefix(",").strip()
        return FileCheck(path, environment, (), (), unreadable=reason)
    config = document.get("config")
    if isinstance(config, dict):
        # Keys are text to Pulumi (`1:` is the key "1"), and to the schema.
        config = document["config"] = {str(key): value for key, value in config.items()}
    program = _program_problems(path, environment, config if isinstance(config, dict) else {})
    if program:
        program = with_notes(ConfigError("", program), number_notes(path)).problems
    reported = {_problem_key(problem) for problem in program}
    schema_only = []
    for key, problem in _schema_problems(document):
        if key not in reported and problem not in schema_only:
            schema_only.append(problem)
    return FileCheck(path, environment, tuple(program), tuple(schema_only))


def _stack_files(stacks_dir: Path = STACKS_DIR) -> list[Path]:
    return sorted(stacks_dir.glob("*/Pulumi.*.yaml"))


def _not_a_stack_file(path: Path) -> str | None:
    """Why ``path`` cannot be checked as an environment's stack file (None when it can)."""
    if path.is_dir():
        found = sorted(path.glob("Pulumi.*.yaml"))
        example = f", e.g. {found[0]}" if found else ""
        return f"{path} is a directory: give its stack file{example}"
    if not path.is_file():
        return f"no such file: {path}"
    directory = path.resolve().parent.name
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    named = stack == directory or stack.startswith(f"{directory}-")
    if path.name.startswith("Pulumi.") and named:
        return None
    return (
        f"{path} is not an environment's stack file: those are stacks/<env>/Pulumi.<env>.yaml "
        "(or Pulumi.<env>-<suffix>.yaml for a copy), the environment being the directory's name"
        + (" (bootstrap/ holds the bootstrap's stack files)" if directory == "bootstrap" else "")
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="The JSON Schema of stacks/<env>/Pulumi.<env>.yaml, generated from the "
        "table of dials, and a check of stack files against it and the program's own rules.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="check stack files: the schema, and the program's rules with the messages "
        "`pulumi preview` prints; exit 1 when one is invalid",
        description="Check stack files against the schema and the program's own rules. Each "
        "invalid file is listed with the problems `pulumi preview` reports for it (the key, the "
        "value as the Pulumi CLI passes it, what is allowed), then those only the schema knows, "
        "marked (schema). Exit 0 when every file is valid, 1 when one is not.",
    )
    check.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="stack files (default: every stacks/<env>/Pulumi.<stack>.yaml); the environment "
        "is the name of the file's directory",
    )
    commands.add_parser("print", help="print the schema (what schema/ holds) on standard output")
    args = parser.parse_args(argv)
    if args.command == "print":
        sys.stdout.write(schema_text())
        return 0
    files = args.files or _stack_files()
    problems = [_not_a_stack_file(path) for path in files]
    if any(problems):
        parser.error("; ".join(problem for problem in problems if problem))
    checks = [check_file(path) for path in files]
    for result in checks:
        print(result.report())
    return 0 if all(result.ok for result in checks) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
