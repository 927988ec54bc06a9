"""The environments are one design with different dials.

`inventory` flattens a rendered stack into `resource path -> {input key: value}` with the
environment's own name masked, so environments compare key by key; `compare` lists every
difference and attributes it to the dial whose declared effects cover it (what the dial sets or
creates, see `platform_core.config`), or to none. `comparable` prepares a deployed stack (or a
rendered one compared with deployed ones): what only a deployment decides, such as the IDs AWS
assigns, is made alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi

from platform_core.config import DIALS
from platform_core.deployment import ARCHIVE
from platform_core.dials import Creates, SetsInput
from platform_core.offline import RenderedStack

__all__ = [
    "Difference",
    "comparable",
    "compare",
    "explaining_dial",
    "flatten_inputs",
    "inventory",
    "resource_path",
    "unexplained",
]

ENV_MASK = "<env>"
REGION_MASK: Final = "<region>"
ACCOUNT_MASK: Final = "<account>"
# An account id where ARNs (`:123456789012:`) and queue URLs (`/123456789012/`) hold one.
_ACCOUNT_ID = re.compile(r"(?<=:)[0-9]{12}(?=:)|(?<=/)[0-9]{12}(?=/)")
_SHORTEST_ID = 6  # shorter IDs could match inside unrelated text


@dataclass(frozen=True)
class Difference:
    """One input (or a whole resource, `key == ""`) that is not the same in every environment."""

    path: str
    key: str
    values: Mapping[str, str]
    #: The config key of the dial that explains it, or None.
    dial: str | None


def resource_path(rendered: RenderedStack, urn: str) -> str:
    """`type component/child` chain of logical names, each without its parent's prefix
    (`trading-analytics/network/vpc`), the same in every environment."""
    by_urn = {resource.urn: resource for resource in rendered.resources}
    names = []
    current = by_urn.get(urn)
    while current is not None:
        parent = by_urn.get(current.parent)
        prefix = f"{parent.name}-" if parent is not None else ""
        names.append(current.name.removeprefix(prefix))
        current = parent
    return f"{by_urn[urn].type} {'/'.join(reversed(names))}"


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, str) and value[:1] in "{[":
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, Mapping):
        for key in sorted(value):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, pulumi.asset.FileArchive | pulumi.asset.FileAsset):
        out[prefix] = f"{type(value).__name__}({value.path})"
    elif isinstance(value, list | tuple):
        # Policy statements are keyed by their Sid, so one added statement does not shift
        # the others' keys (and attribution never depends on a position).
        sids = [item.get("Sid") for item in value if isinstance(item, Mapping)]
        keyed = len(sids) == len(value) and all(sids) and len(set(sids)) == len(sids)
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}[{item['Sid'] if keyed else index}]", out)
    else:
        out[prefix] = json.dumps(value, sort_keys=True, default=str)


def flatten_inputs(inputs: Mapping[str, Any]) -> dict[str, str]:
    """``{"a.b[Sid].c": JSON text}`` of one resource's inputs; JSON documents held in strings
    (policies) are opened, so each of their fields is a key of its own."""
    flat: dict[str, str] = {}
    _flatten(dict(inputs), "", flat)
    return flat


def _mask(text: str, environment: str, region: str | None) -> str:
    text = re.sub(rf"(?<![a-z]){re.escape(environment)}(?![a-z])", ENV_MASK, text)
    if region:
        # Names, ARNs, endpoints and zones (`us-east-1a`) hold the region.
        text = re.sub(rf"(?<![a-z0-9]){re.escape(region)}(?![0-9])", REGION_MASK, text)
    return text


def _region(rendered: RenderedStack) -> str | None:
    """The one region the stack's AWS provider deploys to (None when there is not one)."""
    regions = {
        str(provider.inputs["region"])
        for provider in rendered.of_type("pulumi:providers:aws")
        if provider.inputs.get("region")
    }
    return regions.pop() if len(regions) == 1 else None


def _sets_region(type_: str, key: str) -> bool:
    return any(
        isinstance(effect, SetsInput) and effect.matches(type_, key)
        for effect in DIALS["region"].affects
    )


def inventory(rendered: RenderedStack, environment: str) -> dict[str, dict[str, str]]:
    """Every resource's flattened inputs, with the environment's name masked, and its region
    too except where the region dial sets it: environments in different regions then differ
    in that one input, which the dial explains, not in every name that holds the region."""
    region = _region(rendered)
    result: dict[str, dict[str, str]] = {}
    for resource in rendered.resources:
        result[resource_path(rendered, resource.urn)] = {
            key: _mask(value, environment, None if _sets_region(resource.type, key) else region)
            for key, value in flatten_inputs(resource.inputs).items()
        }
    return result


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def comparable(stack: RenderedStack) -> RenderedStack:
    """``stack`` with what only a deployment decides made alike in every input: each ID that
    AWS assigned (one the resource's own inputs do not hold, unlike a bucket's name) becomes
    ``<path.id>``, the account (as ARNs and queue URLs name it) ``<account>`` wherever it
    appears, and archives one marker (the function's `codeSha256` carries the code's identity)."""
    texts = [text for r in stack.resources for text in _strings([r.inputs, r.state])]
    accounts = {account for text in texts for account in _ACCOUNT_ID.findall(text)}
    account = (
        re.compile(rf"(?<![0-9])(?:{'|'.join(sorted(accounts))})(?![0-9])") if accounts else None
    )
    replacements: dict[str, str] = {}
    for resource in stack.resources:
        assigned = resource.state.get("id")
        if not isinstance(assigned, str) or len(assigned) < _SHORTEST_ID:
            continue
        if assigned not in _strings(resource.inputs):
            logical = resource_path(stack, resource.urn).split(" ", 1)[1]
            replacements[assigned] = f"<{logical}.id>"
    ids = "|".join(re.escape(i) for i in sorted(replacements, key=len, reverse=True))
    pattern = re.compile(ids) if ids else None

    def alike(value: Any) -> Any:
        if isinstance(value, str):
            if pattern is not None:
                value = pattern.sub(lambda match: replacements[match.group(0)], value)
            return account.sub(ACCOUNT_MASK, value) if account is not None else value
        if isinstance(value, pulumi.Archive | pulumi.Asset):
            return ARCHIVE
        if isinstance(value, Mapping):
            return {key: alike(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [alike(item) for item in value]
        return value

    resources = tuple(
        dataclasses.replace(resource, inputs=alike(dict(resource.inputs)))
        for resource in stack.resources
    )
    return dataclasses.replace(stack, resources=resources)


def explaining_dial(type_: str, name: str, key: str) -> str | None:
    """The config key of the dial that sets input ``key`` (or, with ``key == ""``, creates the
    resource ``name``) of a ``type_`` resource; None when no dial declares that effect."""
    for dial in DIALS.values():
        for effect in dial.affects:
            if key and isinstance(effect, SetsInput) and effect.matches(type_, key):
                return dial.config_key
            if not key and isinstance(effect, Creates) and effect.matches(type_, name):
                return dial.config_key
    return None


def unexplained(differences: Sequence[Difference]) -> list[Difference]:
    """Differences no dial that environments may differ in accounts for: drift between them."""
    may_differ = {dial.config_key for dial in DIALS.values() if dial.may_differ}
    return [d for d in differences if d.dial not in may_differ]


def compare(inventories: Mapping[str, Mapping[str, Mapping[str, str]]]) -> list[Difference]:
    """Every difference between the environments' inventories, each with its dial (or None)."""
    environments: Sequence[str] = list(inventories)
    paths = sorted({path for inv in inventories.values() for path in inv})
    differences: list[Difference] = []
    for path in paths:
        type_, logical = path.split(" ", 1)
        name = logical.rsplit("/", 1)[-1]
        present = {env: "yes" if path in inventories[env] else "no" for env in environments}
        if len(set(present.values())) > 1:
            differences.append(Difference(path, "", present, explaining_dial(type_, name, "")))
            continue
        keys = sorted({key for env in environments for key in inventories[env][path]})
        for key in keys:
            values = {env: inventories[env][path].get(key, "-") for env in environments}
            if len(set(values.values())) > 1:
                differences.append(Difference(path, key, values, explaining_dial(type_, name, key)))
    return differences
