"""What changes between two renderings of one environment: resources, properties, outputs, cost.

Resources are matched by their path within the stack (`type component/child`, as the
environment report names them); properties are the flattened inputs (a policy document's
statements keyed by their Sid), plus the options that change what the engine does with a
resource (protect, retain on delete, ignored changes). Values are JSON text; a masked secret
stays masked, and only whether it changed is known. An input that holds the id the mock engine
made up for another resource reads `<id of its/path>`: the same on both sides, whatever scheme
each side's mock engine used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from platform_core.consistency import flatten_inputs, resource_path
from platform_core.costs import Estimate
from platform_core.offline import RegisteredResource, RenderedStack
from platform_core.preview.render import SECRET_TEXT

__all__ = [
    "Action",
    "Change",
    "EnvironmentDiff",
    "ResourceDiff",
    "Status",
    "diff_environment",
    "is_secret",
    "secure_values",
]


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Status(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Change:
    """One property: its JSON text before and after (None: absent on that side)."""

    key: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ResourceDiff:
    action: Action
    type: str
    path: str
    #: Changed properties (update), or every property (create).
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class EnvironmentDiff:
    environment: str
    status: Status
    resources: tuple[ResourceDiff, ...] = ()
    outputs: tuple[Change, ...] = ()
    cost_before: Estimate | None = None
    cost_after: Estimate | None = None
    #: Why a side did not render (status FAILED).
    error: str | None = None

    def count(self, action: Action) -> int:
        return sum(1 for resource in self.resources if resource.action is action)


def is_secret(text: str | None) -> bool:
    """Whether a property's JSON text is a masked secret."""
    if text is None:
        return False
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(value, str) and value.startswith(SECRET_TEXT)


def secure_values(stack_config: Mapping[str, Any]) -> set[str]:
    """The ciphertexts of a stack file's secret settings (`key: {secure: ...}`, at any depth):
    offline, a program reads them as they are, so any input holding one is masked."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            if set(value) == {"secure"} and isinstance(value["secure"], str):
                found.add(value["secure"])
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(dict(stack_config))
    return found


def _masked(flat: Mapping[str, str], secrets: Iterable[str], key: bytes) -> dict[str, str]:
    ciphertexts = [secret for secret in secrets if secret]
    masked = {}
    for name, text in flat.items():
        if any(secret in text for secret in ciphertexts):
            digest = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
            text = json.dumps(f"{SECRET_TEXT}{digest}")
        masked[name] = text
    return masked


_ELEMENT = re.compile(r"^(?P<list>.+)\[(?P<index>\d+)\]$")


def _collapse_lists(flat: Mapping[str, str]) -> dict[str, str]:
    """``a[0]``, ``a[1]`` … of a list of plain values as one property ``a`` holding the list, so
    an element added in the middle is one change, not a shift of every later index."""
    elements: dict[str, dict[int, str]] = {}
    for name, text in flat.items():
        if match := _ELEMENT.match(name):
            elements.setdefault(match["list"], {})[int(match["index"])] = text
    lists = {
        prefix: items
        for prefix, items in elements.items()
        # Only a whole list of plain values: no `a[0].b`, no gap.
        if sorted(items) == list(range(len(items)))
        and not any(name.startswith(f"{prefix}[") and not _ELEMENT.match(name) for name in flat)
    }
    result = {}
    for name, text in flat.items():
        match = _ELEMENT.match(name)
        if match and match["list"] in lists:
            continue
        result[name] = text
    for prefix, items in lists.items():
        result[prefix] = json.dumps([json.loads(items[index]) for index in sorted(items)])
    return dict(sorted(result.items()))


def _references(stack: RenderedStack) -> dict[str, str]:
    """JSON text of each made-up id -> JSON text naming the resource it belongs to."""
    references = {}
    for resource in stack.resources:
        identifier = resource.state.get("id")
        if isinstance(identifier, str) and identifier not in resource.inputs.values():
            path = resource_path(stack, resource.urn).split(" ", 1)[1]
            references[json.dumps(identifier)] = json.dumps(f"<id of {path}>")
    return references


def _referring(flat: Mapping[str, str], references: Mapping[str, str]) -> dict[str, str]:
    """``flat`` with each made-up id replaced by the name of its resource."""
    return {name: references.get(text, text) for name, text in flat.items()}


def _properties(
    resource: RegisteredResource,
    secrets: Iterable[str],
    key: bytes,
    references: Mapping[str, str],
) -> dict[str, str]:
    flat = _collapse_lists(_referring(flatten_inputs(resource.inputs), references))
    options = {
        "(protect)": resource.protect,
        "(retainOnDelete)": resource.retain_on_delete,
        "(ignoreChanges)": sorted(resource.ignore_changes),
    }
    flat.update({name: json.dumps(value) for name, value in options.items() if value})
    return _masked(flat, secrets, key)


def _resources(
    stack: RenderedStack | None, secrets: Iterable[str], key: bytes
) -> dict[str, tuple[str, dict[str, str]]]:
    """``"type path" -> (type, properties)`` of every resource of ``stack``."""
    if stack is None:
        return {}
    references = _references(stack)
    return {
        resource_path(stack, resource.urn): (
            resource.type,
            _properties(resource, secrets, key, references),
        )
        for resource in stack.resources
    }


def _outputs(stack: RenderedStack | None, secrets: Iterable[str], key: bytes) -> dict[str, str]:
    if stack is None:
        return {}
    flat = _referring(flatten_inputs(stack.outputs), _references(stack))
    return _masked(_collapse_lists(flat), secrets, key)


def _changes(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[Change, ...]:
    keys = sorted(set(before) | set(after))
    return tuple(
        Change(key, before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    )


def diff_environment(
    environment: str,
    before: RenderedStack | None,
    after: RenderedStack | None,
    secrets: Iterable[str],
    key: bytes,
) -> EnvironmentDiff:
    """Every difference between two renderings of ``environment`` (None: not on that side)."""
    secrets = list(secrets)
    old, new = _resources(before, secrets, key), _resources(after, secrets, key)
    resources = []
    for path in sorted(set(old) | set(new), key=lambda p: (p.split(" ", 1)[1], p)):
        type_, logical = path.split(" ", 1)
        if path not in old:
            changes = _changes({}, new[path][1])
            resources.append(ResourceDiff(Action.CREATE, type_, logical, changes))
        elif path not in new:
            resources.append(ResourceDiff(Action.DELETE, type_, logical, ()))
        elif changes := _changes(old[path][1], new[path][1]):
            resources.append(ResourceDiff(Action.UPDATE, type_, logical, changes))
    outputs = _changes(_outputs(before, secrets, key), _outputs(after, secrets, key))
    if before is None:
        status = Status.ADDED
    elif after is None:
        status = Status.REMOVED
    else:
        status = Status.CHANGED if resources or outputs else Status.UNCHANGED
    return EnvironmentDiff(environment, status, tuple(resources), outputs)
