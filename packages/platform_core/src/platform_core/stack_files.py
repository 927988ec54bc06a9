"""Reading Pulumi's project and stack files the way the Pulumi CLI reads them.

The CLI parses YAML with Go's yaml.v3: only ``true``/``false`` are booleans, so ``no`` reaches
the program as the text "no", while numbers keep some YAML 1.1 habits (``010`` is octal 8,
``1_024`` is 1024). PyYAML follows YAML 1.1 throughout (``no`` and ``on`` become booleans);
rendering offline with it would accept values a real ``pulumi preview`` refuses. The loader here
resolves plain scalars as yaml.v3 does.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from platform_core.errors import StackFileError

__all__ = ["engine_config", "number_notes", "read_project", "read_stack_config", "read_yaml"]


class _PulumiYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader resolving plain scalars as Go's yaml.v3 (the Pulumi CLI's) does,
    and refusing a key a mapping holds twice, as yaml.v3 does (PyYAML keeps the last one)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # yaml.v3 compares the keys as written (kind and text), in every mapping.
        seen: dict[str, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                self.duplicates.append(
                    (
                        line,
                        f"line {line}: mapping key {json.dumps(key_node.value)} already defined "
                        f"at line {seen[key_node.value]}",
                    )
                )
            else:
                seen[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


_PulumiYamlLoader.yaml_implicit_resolvers = {}
_GO_NUMBER_TAG = "tag:pulumi-cli,2026:number"
_FIXED = (
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:float", r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", "-+."),
    # Anything else that starts like a number is decided by `_go_number`.
    (_GO_NUMBER_TAG, r"[-+0-9.][-+0-9A-Za-z._]*", "-+0123456789."),
)
for _tag, _pattern, _first in _FIXED:
    _PulumiYamlLoader.add_implicit_resolver(_tag, re.compile(rf"^(?:{_pattern})$"), list(_first))

_YAML_STYLE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_GO_BASES = {"0x": 16, "0X": 16, "0b": 2, "0B": 2, "0o": 8, "0O": 8}


def _go_parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)``: 0x, 0b, 0o prefixes, and a leading 0 is octal."""
    sign, digits = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    base = _GO_BASES.get(digits[:2], 8 if len(digits) > 1 and digits[0] == "0" else 10)
    body = digits[2:] if digits[:2] in _GO_BASES else digits
    try:
        value = int(body, base) if body and body.isalnum() else None
    except ValueError:
        return None
    return None if value is None else (-value if sign == "-" else value)


def _go_number(text: str) -> int | float | str:
    """A plain scalar as yaml.v3 resolves it: underscores are dropped, then an integer (any
    base Go reads), then a YAML-style float, else the text itself. So ``010`` is 8 and
    ``1_024`` is 1024, as the Pulumi CLI passes them to a program."""
    if text.startswith("."):
        try:
            return float(text)
        except ValueError:
            return text
    plain = text.replace("_", "")
    number = _go_parse_int(plain)
    if number is not None:
        return number
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        return float(plain)
    return text


def _construct_go_number(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | float | str:
    return _go_number(str(loader.construct_scalar(node)))


_PulumiYamlLoader.add_constructor(_GO_NUMBER_TAG, _construct_go_number)


def _yaml_error(path: Path, error: yaml.YAMLError) -> StackFileError:
    """``error`` as one line naming the file and where in it (not PyYAML's "<unicode string>")."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return StackFileError(f"{path}: not valid YAML: {error}")
    mark = error.problem_mark
    context = ""
    if error.context and error.context_mark is not None:
        start = error.context_mark
        context = f" ({error.context} started at line {start.line + 1}, column {start.column + 1})"
    return StackFileError(
        f"{path}, line {mark.line + 1}, column {mark.column + 1}: not valid YAML: "
        f"{error.problem}{context}"
    )


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping file, parsed as the Pulumi CLI parses it; `StackFileError` names the file
    and the line of what the CLI would refuse (bad YAML, a key defined twice, not UTF-8)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise StackFileError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[error.start]:02x}); save the file "
            "as UTF-8"
        ) from None
    loader = _PulumiYamlLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        # As the Pulumi CLI refuses the file: yaml.v3 reports every key defined twice.
        raise StackFileError(f"{path}: " + "; ".join(text for _, text in sorted(loader.duplicates)))
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: expected a YAML mapping at the top level")
    return document


_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")


def _scalars(node: yaml.Node) -> list[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        return [node]
    if isinstance(node, yaml.SequenceNode):
        return [scalar for item in node.value for scalar in _scalars(item)]
    if isinstance(node, yaml.MappingNode):
        return [scalar for _key, value in node.value for scalar in _scalars(value)]
    return []


def number_notes(path: Path) -> dict[str, str]:
    """For each config key whose value, as written, is an unquoted number with a leading zero:
    why the program sees another number (``010`` reaches it as 8, ``0123456789`` as 123456789).
    Only the file shows it, so the offline tools add it to the program's message."""
    try:
        document = yaml.compose(path.read_text(encoding="utf-8"), Loader=_PulumiYamlLoader)
    except (OSError, ValueError, yaml.YAMLError):
        return {}  # read_yaml says what is wrong with the file
    if not isinstance(document, yaml.MappingNode):
        return {}
    notes = {}
    for key, value in document.value:
        if not (isinstance(key, yaml.ScalarNode) and key.value == "config"):
            continue
        if not isinstance(value, yaml.MappingNode):
            continue
        for setting, written in value.value:
            zeros = [
                scalar.value
                for scalar in _scalars(written)
                if scalar.style is None and _LEADING_ZERO.fullmatch(scalar.value)
            ]
            if isinstance(setting, yaml.ScalarNode) and zeros:
                notes[setting.value] = (
                    f"the file says {zeros[0]}: the Pulumi CLI reads an unquoted number with a "
                    "leading 0 as octal, or drops the 0; write it without the 0, or quote it"
                )
    return notes


def read_project(stack_dir: Path) -> dict[str, Any]:
    """``Pulumi.yaml`` of a project directory."""
    return read_yaml(stack_dir / "Pulumi.yaml")


def read_stack_config(stack_dir: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` block of ``Pulumi.<stack>.yaml`` (empty when the file has none)."""
    config = read_yaml(stack_dir / f"Pulumi.{stack}.yaml").get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{stack_dir / f'Pulumi.{stack}.yaml'}: `config` must be a mapping")
    return config


def _number_text(value: float) -> str:
    """A YAML float as the CLI passes it. The CLI writes it back as YAML (Go's shortest form,
    so ``1024.0`` becomes ``1024``), reads it again, and hands the program Go's JSON spelling."""
    if not math.isfinite(value):
        raise ValueError("Pulumi cannot pass an infinite or NaN config value")
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if 1e-6 <= abs(value) < 1e21:
        return format(Decimal(repr(value)), "f")
    mantissa, exponent = repr(value).split("e")
    return f"{mantissa}e{int(exponent):+d}"


def _integral(value: Any) -> Any:
    """``value`` with integral floats as integers, as they reach a program inside a structure."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def _go_json(value: Any) -> str:
    """JSON text as Go's encoding/json writes it: compact, sorted keys, UTF-8, HTML-safe."""
    text = json.dumps(_integral(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(char, escape)
    return text


def engine_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a Python program: strings, structures as JSON."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif isinstance(value, list | dict):
            flat[key] = _go_json(value)
        elif value is None:
            flat[key] = ""  # an empty value: the CLI warns, and passes ""
        elif isinstance(value, float):
            try:
                flat[key] = _number_text(value)
            except ValueError as error:
                raise ValueError(f"{key} = {value!r}: {error}") from None
        else:
            flat[key] = str(value)
    return flat
