"""Reading Pulumi's project and stack files the way the Pulumi CLI reads them.

The CLI parses YAML 1.2 (Go's yaml.v3): only ``true``/``false`` are booleans, so ``no`` reaches
the program as the text "no". PyYAML follows YAML 1.1, where ``no``, ``on`` or ``1_000`` silently
become ``False`` or ``1000``; rendering offline with it would accept values a real
``pulumi preview`` refuses. The loader here resolves scalars by YAML 1.2's core schema.
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

__all__ = ["engine_config", "read_project", "read_stack_config", "read_yaml"]


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core-schema scalars."""


_Yaml12Loader.yaml_implicit_resolvers = {}
_CORE_SCHEMA = (
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
)
for _tag, _pattern, _first in _CORE_SCHEMA:
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(rf"^(?:{_pattern})$"), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    # YAML 1.1's constructor reads a leading 0 as octal; YAML 1.2's core schema does not.
    text = str(loader.construct_scalar(node))
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping file, parsed as the Pulumi CLI parses it."""
    document = yaml.load(path.read_text(), Loader=_Yaml12Loader)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return document


def read_project(stack_dir: Path) -> dict[str, Any]:
    """``Pulumi.yaml`` of a project directory."""
    return read_yaml(stack_dir / "Pulumi.yaml")


def read_stack_config(stack_dir: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` block of ``Pulumi.<stack>.yaml`` (empty when the file has none)."""
    config = read_yaml(stack_dir / f"Pulumi.{stack}.yaml").get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"{stack_dir / f'Pulumi.{stack}.yaml'}: `config` must be a mapping")
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
