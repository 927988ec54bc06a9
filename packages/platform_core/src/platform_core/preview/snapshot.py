"""One side of the offline preview: a checkout's stack programs, rendered and written as JSON.

The preview runs this file by path (``python -P snapshot.py``) in a subprocess whose import path
holds only the checkout's own packages, so a base revision renders with its own platform_core,
processor and stacks. It therefore imports nothing of this repository but the checkout's
``platform_core.offline``; :func:`decode` reads the document back in the preview's process.

Secrets never reach the document: a value the engine received as a Pulumi secret is replaced by
a keyed digest (the key is random per preview, so the digest only tells whether it changed).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = [
    "ASSET",
    "FORMAT",
    "SECRET",
    "SECRET_KEY_VARIABLE",
    "Snapshot",
    "SnapshotError",
    "decode",
    "encode_stack",
    "main",
]

#: Version of the document; the preview refuses another.
FORMAT: Final = 1
#: Environment variable carrying the hex key of the secrets' digests.
SECRET_KEY_VARIABLE: Final = "OFFLINE_PREVIEW_SECRET_KEY"
#: Marker keys of encoded values that JSON has no type for.
SECRET: Final = "__secret__"
ASSET: Final = "__asset__"
_OTHER: Final = "__value__"
_EXIT_IMPORT: Final = 3


class SnapshotError(Exception):
    """The checkout cannot be rendered, or the document is not one this preview reads."""


@dataclass(frozen=True)
class Snapshot:
    """What one checkout rendered: each environment's stack, or why it could not render."""

    stacks: Mapping[str, Any]
    errors: Mapping[str, str]


def _digest(key: bytes, value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=repr)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _relative(path: str, root: Path) -> str:
    resolved = Path(path).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path


def _encode(value: Any, root: Path, key: bytes) -> Any:
    """A registered value as JSON: secrets as digests, assets by kind and repository path."""
    import pulumi
    from pulumi.runtime import rpc

    if rpc.is_rpc_secret(value):
        return {SECRET: _digest(key, _encode(rpc.unwrap_rpc_secret(value), root, key))}
    if isinstance(value, Mapping):
        return {str(k): _encode(v, root, key) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item, root, key) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, pulumi.FileArchive | pulumi.FileAsset):
        return {ASSET: type(value).__name__, "path": _relative(value.path, root)}
    if isinstance(value, pulumi.StringAsset):
        return {ASSET: "StringAsset", "text": value.text}
    if isinstance(value, pulumi.RemoteArchive | pulumi.RemoteAsset):
        return {ASSET: type(value).__name__, "uri": value.uri}
    if isinstance(value, pulumi.AssetArchive):
        return {ASSET: "AssetArchive", "assets": _encode(value.assets, root, key)}
    return {_OTHER: type(value).__name__}


def _mock_id(resource: Any) -> str | None:
    """A resource's id when the mock engine made it up (not one of its own input values, as a
    bucket's id is its name)."""
    identifier = getattr(resource, "state", {}).get("id")
    inputs = dict(resource.inputs)
    if not isinstance(identifier, str) or identifier in inputs.values():
        return None
    return identifier


def encode_stack(rendered: Any, root: Path, key: bytes) -> dict[str, Any]:
    """A rendered stack (any revision's ``RenderedStack``) as a JSON document."""
    resources = [
        {
            "urn": resource.urn,
            "type": resource.type,
            "name": resource.name,
            "custom": bool(getattr(resource, "custom", True)),
            # The id the mock engine gave it, which other resources' inputs carry.
            "id": _mock_id(resource),
            "parent": getattr(resource, "parent", ""),
            "provider": getattr(resource, "provider", ""),
            "inputs": _encode(dict(resource.inputs), root, key),
            "dependencies": list(getattr(resource, "dependencies", ())),
            "protect": bool(getattr(resource, "protect", False)),
            "retain_on_delete": bool(getattr(resource, "retain_on_delete", False)),
            "ignore_changes": list(getattr(resource, "ignore_changes", ())),
        }
        for resource in rendered.resources
    ]
    outputs = _encode(dict(getattr(rendered, "outputs", {})), root, key)
    return {
        "project": rendered.project,
        "stack": rendered.stack,
        "resources": resources,
        "outputs": outputs,
    }


def _failure(error: BaseException) -> str:
    """A program's failure: a deliberate one (``pulumi.RunError``) by its message alone."""
    import pulumi

    cause = error.__cause__ or error
    if isinstance(cause, pulumi.RunError):
        return str(cause)
    return "".join(traceback.format_exception(cause)).rstrip()


def _isolate(excluded: Sequence[Path]) -> None:
    """Drop import paths inside ``excluded`` checkouts (editable installs of the preview's own
    checkout), so a package the rendered checkout lacks is missing, not borrowed."""
    prefix = Path(sys.prefix).resolve()

    def kept(entry: str) -> bool:
        path = Path(entry or ".").resolve()
        if path.is_relative_to(prefix):
            return True
        return not any(path.is_relative_to(root) for root in excluded)

    sys.path[:] = [entry for entry in sys.path if kept(entry)]


def _render_all(root: Path, environments: Sequence[str], key: bytes) -> dict[str, Any]:
    try:
        from platform_core.offline import render_stack
    except ImportError as error:
        raise SnapshotError(
            f"it has no platform_core.offline.render_stack to render its stacks with ({error})"
        ) from error
    stacks: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for environment in environments:
        try:
            rendered = render_stack(root / "stacks" / environment)
        except Exception as error:
            errors[environment] = _failure(error)
        else:
            stacks[environment] = encode_stack(rendered, root, key)
    return {"format": FORMAT, "stacks": stacks, "errors": errors}


def decode(document: Mapping[str, Any]) -> Snapshot:
    """Read back what :func:`main` wrote."""
    if document.get("format") != FORMAT:
        raise SnapshotError(f"snapshot format {document.get('format')!r}, expected {FORMAT}")
    if "error" in document:
        raise SnapshotError(str(document["error"]))
    return Snapshot(stacks=dict(document["stacks"]), errors=dict(document["errors"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the checkout whose stacks/ to render")
    parser.add_argument("output", type=Path, help="where to write the JSON document")
    parser.add_argument("--environment", action="append", default=[], help="repeatable")
    parser.add_argument(
        "--exclude", action="append", default=[], type=Path, help="checkouts not to import from"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    _isolate([path.resolve() for path in args.exclude if path.resolve() != root])
    key = bytes.fromhex(os.environ.get(SECRET_KEY_VARIABLE, "")) or os.urandom(32)
    try:
        document = _render_all(root, args.environment, key)
    except SnapshotError as error:
        document = {"format": FORMAT, "error": str(error)}
        args.output.write_text(json.dumps(document))
        return _EXIT_IMPORT
    args.output.write_text(json.dumps(document, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
