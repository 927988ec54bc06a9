"""`pulumi stack export` files built from rendered stacks, shaped as the Pulumi CLI writes them.

A rendered stack says what the program registers; a deployment adds what only AWS and the
engine decide: IDs AWS assigned (`vpc-0…`, different in every account), ARNs and queue URLs in
the environment's own account, the provider's filled-in defaults (`__defaults`), the plugin
version in the provider's inputs, timestamps, secrets as ciphertext, archives with their hash.
`FORMAT` is the export format as Pulumi's sources define it (apitype.UntypedDeployment,
DeploymentV3, ResourceV3 and the signatures of special property values), to check the files
built here against. Pulumi also publishes a JSON Schema of it (sdk/go/common/apitype:
deployments.json, resources.json, property-values.json), but that one lags behind the Go types:
it has no `created`, `modified`, `retainOnDelete` or `ignoreChanges`, which `pulumi stack
export` writes. The files built here pass it but for those fields.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from platform_core.offline import FAKE_ACCOUNT_ID, RegisteredResource, RenderedStack

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
TIME = "2026-11-20T09:14:03.118274Z"

_PROPERTY_VALUE: dict[str, Any] = {
    "anyOf": [
        {"type": ["null", "boolean", "number", "string", "array"]},
        {"type": "object", "not": {"required": [SIG]}},
        {
            "type": "object",
            "required": [SIG],
            "properties": {SIG: {"enum": [SECRET_SIG, ARCHIVE_SIG, ASSET_SIG]}},
        },
    ]
}
# urn:pulumi:<stack>::<project>::<parent types $ type>::<name>
_URN = {"type": "string", "pattern": r"^urn:pulumi:[^:]+::[^:]+::[^:].*::.+$"}
_URN_LIST = {"type": "array", "items": _URN}
#: The fields of apitype.ResourceV3 that `pulumi stack export` writes (omitempty: when set).
_RESOURCE: dict[str, Any] = {
    "type": "object",
    "required": ["urn", "custom", "type"],
    "additionalProperties": False,
    "properties": {
        "urn": _URN,
        "custom": {"type": "boolean"},
        "delete": {"type": "boolean"},
        "id": {"type": "string"},
        "type": {"type": "string"},
        "inputs": {"type": "object", "additionalProperties": _PROPERTY_VALUE},
        "outputs": {"type": "object", "additionalProperties": _PROPERTY_VALUE},
        "parent": _URN,
        "protect": {"type": "boolean"},
        "taint": {"type": "boolean"},
        "external": {"type": "boolean"},
        "dependencies": _URN_LIST,
        "initErrors": {"type": "array", "items": {"type": "string"}},
        "provider": {"type": "string", "pattern": r"^urn:pulumi:.+::[^:]+$"},
        "propertyDependencies": {"type": "object", "additionalProperties": _URN_LIST},
        "pendingReplacement": {"type": "boolean"},
        "additionalSecretOutputs": {"type": "array", "items": {"type": "string"}},
        "aliases": _URN_LIST,
        "customTimeouts": {"type": "object"},
        "importID": {"type": "string"},
        "retainOnDelete": {"type": "boolean"},
        "deletedWith": _URN,
        "created": {"type": "string", "format": "date-time"},
        "modified": {"type": "string", "format": "date-time"},
        "sourcePosition": {"type": "string"},
        "ignoreChanges": {"type": "array", "items": {"type": "string"}},
        "replaceOnChanges": {"type": "array", "items": {"type": "string"}},
        "refreshBeforeUpdate": {"type": "boolean"},
    },
}
FORMAT: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["version", "deployment"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 3},
        "features": {"type": "array", "items": {"type": "string"}},
        "deployment": {
            "type": "object",
            "required": ["manifest"],
            "additionalProperties": False,
            "properties": {
                "manifest": {
                    "type": "object",
                    "required": ["time", "magic", "version"],
                    "properties": {
                        "time": {"type": "string", "format": "date-time"},
                        "magic": {"type": "string"},
                        "version": {"type": "string"},
                        "plugins": {"type": "array"},
                    },
                },
                "secrets_providers": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"type": "string"}, "state": {}},
                },
                "resources": {"type": "array", "items": _RESOURCE},
                "pending_operations": {"type": "array"},
                "metadata": {"type": "object"},
            },
        },
    },
}

# Prefixes of the IDs AWS gives the resources the mocks name `<type>-<digest>`.
_AWS_PREFIX = {
    "vpc": "vpc", "subnet": "subnet", "securitygroup": "sg", "routetable": "rtb",
    "routetableassociation": "rtbassoc", "vpcendpoint": "vpce", "internetgateway": "igw",
    "natgateway": "nat", "eip": "eipalloc", "instance": "i", "route": "r",
    "securitygrouprule": "sgrule",
}  # fmt: skip
_MOCK_ID = re.compile(r"^([a-z]+)-([0-9a-f]{12})$")


def _aws_id(mock_id: str, seed: str) -> str:
    match = _MOCK_ID.match(mock_id)
    digest = hashlib.sha256(f"{seed}/{mock_id}".encode()).hexdigest()
    if match is None:
        return mock_id
    prefix = _AWS_PREFIX.get(match.group(1), match.group(1))
    return f"{prefix}-0{digest[:16]}"


def _serialise(value: Any) -> Any:
    """A property value as the state holds it (numbers are float64; 512.0 is written 512)."""
    if isinstance(value, pulumi.FileArchive):
        digest = hashlib.sha256(Path(value.path).read_bytes()).hexdigest()
        return {SIG: ARCHIVE_SIG, "hash": digest, "path": value.path}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _serialise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_serialise(item) for item in value]
    return value


def secret(plaintext: Any) -> dict[str, str]:
    """A secret as `pulumi stack export` writes it: ciphertext only, never the value."""
    ciphertext = base64.b64encode(hashlib.sha256(json.dumps(plaintext).encode()).digest())
    return {SIG: SECRET_SIG, "ciphertext": f"v1:{ciphertext.decode()}"}


@dataclass
class _Deployer:
    """Turns the mocks' IDs, provider references and account into a deployment's."""

    rendered: RenderedStack
    account: str
    seed: str
    ids: dict[str, str] = field(default_factory=dict)
    provider_ids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for resource in self.rendered.resources:
            mock_id = resource.state.get("id")
            if isinstance(mock_id, str) and _MOCK_ID.match(mock_id):
                self.ids[mock_id] = _aws_id(mock_id, self.seed)
            if resource.type.startswith("pulumi:providers:"):
                digest = hashlib.sha256(f"{self.seed}{resource.urn}".encode()).hexdigest()
                self.provider_ids[resource.urn] = digest[:32]

    def value(self, value: Any) -> Any:
        text = json.dumps(_serialise(value))
        for mock_id, aws_id in self.ids.items():
            text = text.replace(mock_id, aws_id)
        return json.loads(text.replace(FAKE_ACCOUNT_ID, self.account))

    def provider(self, reference: str) -> str:
        urn = reference.rsplit("::", 1)[0]
        return f"{urn}::{self.provider_ids[urn]}"

    def resource(self, resource: RegisteredResource, stack_urn: str) -> dict[str, Any]:
        inputs, outputs = self.value(dict(resource.inputs)), self.value(dict(resource.state))
        entry: dict[str, Any] = {"urn": resource.urn, "custom": resource.custom}
        if resource.type.startswith("pulumi:providers:"):
            entry["id"] = self.provider_ids[resource.urn]
            inputs["version"] = "7.12.0"  # the engine records the plugin's version
        elif resource.custom:
            entry["id"] = str(outputs.pop("id"))
            inputs["__defaults"] = []  # the bridged provider's Check lists what it filled in
        else:
            inputs, outputs = {}, {}
        optional = {
            "inputs": inputs,
            "outputs": outputs,
            "protect": resource.protect,
            "dependencies": list(resource.dependencies),
            "provider": self.provider(resource.provider) if resource.provider else "",
            "propertyDependencies": {key: [] for key in resource.inputs}
            if resource.custom and resource.dependencies
            else {},
            "retainOnDelete": resource.retain_on_delete,
            "ignoreChanges": list(resource.ignore_changes),
        }
        entry["type"] = resource.type
        entry["parent"] = resource.parent or stack_urn
        entry.update({key: value for key, value in optional.items() if value})  # omitempty
        entry["created"] = entry["modified"] = TIME
        return entry


def export_of(rendered: RenderedStack, account: str, seed: str) -> dict[str, Any]:
    """A version-3 export of ``rendered`` as deployed into ``account``."""
    deployer = _Deployer(rendered, account, seed)
    stack_urn = (
        f"urn:pulumi:{rendered.stack}::{rendered.project}::pulumi:pulumi:Stack::"
        f"{rendered.project}-{rendered.stack}"
    )
    root = {
        "urn": stack_urn,
        "custom": False,
        "type": "pulumi:pulumi:Stack",
        "outputs": deployer.value(dict(rendered.outputs)),
        "created": TIME,
        "modified": TIME,
    }
    resources = [root, *(deployer.resource(r, stack_urn) for r in rendered.resources)]
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": TIME, "magic": hashlib.sha256(seed.encode()).hexdigest(),
                         "version": "v3.272.0"},
            "secrets_providers": {
                "type": "cloud",
                "state": {"url": f"awskms://alias/trading-analytics-pulumi-{seed}?region=us-east-1"},
            },
            "resources": resources,
        },
    }  # fmt: skip


def resource_of(export: dict[str, Any], type_: str, name_end: str) -> dict[str, Any]:
    """The one resource of ``type_`` whose URN ends with ``name_end`` (to change it in a test)."""
    found: list[dict[str, Any]] = [
        resource
        for resource in export["deployment"]["resources"]
        if resource["type"] == type_ and resource["urn"].endswith(name_end)
    ]
    assert len(found) == 1, (type_, name_end, len(found))
    return found[0]


def copied(export: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(export)
