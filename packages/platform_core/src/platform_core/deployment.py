"""What is deployed: a `pulumi stack export` file read as a rendered stack, so that the
environment report compares deployed environments with each other and each with its program.

`pulumi stack export` writes ``{"version": 3, "deployment": {"manifest": …, "resources": […]}}``;
each resource carries its URN, type, provider ID, parent, provider, dependencies, the inputs the
provider last accepted and the outputs it returned. A state file of the S3 backend
(``.pulumi/stacks/<project>/<stack>.json``, optionally gzipped) holds the same deployment under
``checkpoint.latest``; both are read. Values come back in the shape the mock engine gives a
rendered stack: numbers as floats, secrets masked (never their ciphertext or plaintext),
archives and assets as one marker, and the defaults the AWS provider filled in (listed in
``__defaults``) dropped, so that what remains is what the program asked for.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from platform_core.errors import PlatformError
from platform_core.offline import RegisteredResource, RenderedStack

__all__ = [
    "ARCHIVE",
    "SECRET",
    "Deployment",
    "ExportError",
    "load_export",
    "read_export",
]

#: Pulumi's signature key and values for special property values (sdk/go/common/resource/sig).
SIGNATURE_KEY: Final = "4dabf18193072939515e22adb298388d"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
_ASSET_SIG: Final = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG: Final = "0def7320c3a5731c473e5ecbe6d01bc7"
_REFERENCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: What a secret, and an asset or archive, read as.
SECRET: Final = "[secret]"
ARCHIVE: Final = "[archive]"
_VERSIONS: Final = (3, 4)  # 4: a deployment that lists the engine features it needs
_STACK_TYPE: Final = "pulumi:pulumi:Stack"
_DEFAULTS_KEY: Final = "__defaults"


class ExportError(PlatformError):
    """A file is not a `pulumi stack export` (or state) file this module can read."""


@dataclass(frozen=True)
class Deployment:
    """A deployed stack: its resources as a rendered stack, and where they came from."""

    stack: RenderedStack
    source: str
    #: When the last update started, and the engine that wrote it (the manifest).
    time: str
    engine_version: str
    #: Operations an interrupted update left open: the state may not match AWS.
    pending_operations: int


def _value(value: Any) -> Any:
    """A serialized property value in the mock engine's shape (floats, markers)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return "[unknown]" if value == _UNKNOWN else value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        signature = value.get(SIGNATURE_KEY)
        if signature == _SECRET_SIG:
            return SECRET
        if signature in (_ASSET_SIG, _ARCHIVE_SIG):
            return ARCHIVE
        if signature == _REFERENCE_SIG:
            return str(value.get("id") or value.get("urn", ""))
        defaulted = set(value.get(_DEFAULTS_KEY) or ())
        return {
            key: _value(item)
            for key, item in value.items()
            if key != _DEFAULTS_KEY and key not in defaulted and not key.startswith("__")
        }
    raise ExportError(f"unexpected value {value!r}")


def _require(condition: bool, source: str, what: str) -> None:
    if not condition:
        raise ExportError(f"{source}: not a `pulumi stack export` file: {what}")


def _urn_parts(urn: str, source: str) -> tuple[str, str, str]:
    """(stack, project, name) of ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    parts = urn.split("::")
    _require(urn.startswith("urn:pulumi:") and len(parts) >= 4, source, f"bad URN {urn!r}")
    return parts[0].removeprefix("urn:pulumi:"), parts[1], "::".join(parts[3:])


def _resource(raw: Mapping[str, Any], source: str) -> RegisteredResource:
    urn = raw.get("urn")
    _require(isinstance(urn, str) and isinstance(raw.get("type"), str), source, "a resource "
             "without a string `urn` and `type`")  # fmt: skip
    assert isinstance(urn, str)
    _, _, name = _urn_parts(urn, source)
    inputs, outputs = _value(raw.get("inputs") or {}), _value(raw.get("outputs") or {})
    if raw.get("id"):
        outputs.setdefault("id", raw["id"])
    return RegisteredResource(
        urn=urn,
        type=str(raw["type"]),
        name=name,
        custom=bool(raw.get("custom")),
        parent=str(raw.get("parent") or ""),
        provider=str(raw.get("provider") or ""),
        inputs=inputs,
        state=outputs,
        dependencies=tuple(raw.get("dependencies") or ()),
        protect=bool(raw.get("protect")),
        retain_on_delete=bool(raw.get("retainOnDelete")),
        ignore_changes=tuple(raw.get("ignoreChanges") or ()),
    )


def load_export(document: Any, source: str) -> Deployment:
    """A parsed export (or state file) as a deployed stack."""
    _require(isinstance(document, dict), source, "expected a JSON object")
    version = document.get("version")
    if "checkpoint" in document and isinstance(document["checkpoint"], dict):
        deployment = document["checkpoint"].get("latest") or {}
    else:
        _require("deployment" in document, source, 'no "deployment"')
        deployment = document["deployment"]
    if version not in _VERSIONS:
        raise ExportError(
            f"{source}: deployment version {version!r} is not supported (a current Pulumi CLI "
            f"writes {' or '.join(map(str, _VERSIONS))}): export the stack again"
        )
    _require(isinstance(deployment, dict), source, '"deployment" is not an object')
    manifest = deployment.get("manifest")
    if not isinstance(manifest, dict):
        raise ExportError(f'{source}: not a `pulumi stack export` file: no "manifest"')
    raw_resources = deployment.get("resources") or []
    _require(isinstance(raw_resources, list), source, '"resources" is not a list')
    resources = [_resource(raw, source) for raw in raw_resources if isinstance(raw, dict)]
    _require(len(resources) == len(raw_resources), source, "a resource is not an object")
    roots = [resource for resource in resources if resource.type == _STACK_TYPE]
    _require(len(roots) == 1, source, f"expected one {_STACK_TYPE} resource, found {len(roots)}")
    stack, project, _ = _urn_parts(roots[0].urn, source)
    # The stack's outputs are its root resource's; the rendered stacks leave the root out.
    outputs = {key: value for key, value in roots[0].state.items() if key != "id"}
    return Deployment(
        stack=RenderedStack(
            project=project,
            stack=stack,
            resources=tuple(resource for resource in resources if resource is not roots[0]),
            outputs=outputs,
        ),
        source=source,
        time=str(manifest.get("time", "")),
        engine_version=str(manifest.get("version", "")),
        pending_operations=len(deployment.get("pending_operations") or ()),
    )


def read_export(path: Path) -> Deployment:
    """``pulumi stack export --file PATH`` (or a state file, ``.json`` or ``.json.gz``)."""
    try:
        data = path.read_bytes()
        text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        document = json.loads(text)
    except OSError as error:
        raise ExportError(f"{path}: cannot be read: {error.strerror or error}") from None
    except (ValueError, gzip.BadGzipFile) as error:
        raise ExportError(f"{path}: not JSON: {error}") from None
    return load_export(document, str(path))
