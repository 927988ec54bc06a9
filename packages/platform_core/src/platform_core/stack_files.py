"""Reading Pulumi's project and stack files the way the Pulumi CLI reads them.

The CLI parses YAML 1.2 (Go's yaml.v3): only ``true``/``false`` are booleans, so ``no`` reaches
the program as the text "no". PyYAML follows YAML 1.1, where ``no``, ``on`` or ``1_000`` silently
become ``False`` or ``1000``; rendering offline with it would accept values a real
``pulumi preview`` refuses. The loader here resolves scalars by YAML 1.2's core schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
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


def engine_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a Python program: strings, structures as JSON."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif isinstance(value, list | dict):
            flat[key] = json.dumps(value)
        elif value is None:
            flat[key] = ""
        else:
            flat[key] = str(value)
    return flat
