"""Reading resource properties the way both the CrossGuard analyzer and the offline renderer
hand them over: camelCase keys, structured values sometimes still JSON-encoded strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyProviderResource
from pulumi_policy.proxy import UnknownValueError

__all__ = [
    "decoded",
    "effective_tags",
    "environment_of",
    "known",
    "label",
    "provider_default_tags",
]

UNKNOWN_ENVIRONMENT = "<unknown>"
# The input holding the physical name, where it is not `name`.
_PHYSICAL_NAME = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
    "aws:rds/instance:Instance": "identifier",
}


def decoded(value: Any) -> Any:
    """A JSON document given as a string (policy documents, provider config) as data."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def provider_default_tags(provider: PolicyProviderResource | None) -> dict[str, str]:
    """`defaultTags.tags` of the resource's AWS provider.

    Provider inputs reach the analyzer (and the mock engine) JSON-encoded, e.g.
    `'{"tags": {"Environment": "dev"}}'`; a decoded mapping is accepted too.
    """
    if provider is None:
        return {}
    default_tags = decoded(provider.props.get("defaultTags"))
    if not isinstance(default_tags, Mapping):
        return {}
    tags = decoded(default_tags.get("tags"))
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {}


def effective_tags(
    props: Mapping[str, Any], provider: PolicyProviderResource | None
) -> dict[str, str]:
    """The tags AWS will store: provider default tags, overridden by the resource's own tags.

    In a real `pulumi preview` the AWS provider already merges its default tags into the
    resource's `tagsAll` when it checks the inputs; the offline renderer records inputs before
    any provider runs, so only the provider's `defaultTags` carry them there. Merging all three
    sources (`defaultTags` < `tagsAll` < `tags`) gives the same answer in both.
    """
    merged = provider_default_tags(provider)
    for key in ("tagsAll", "tags"):
        own = decoded(props.get(key))
        if isinstance(own, Mapping):
            merged.update({str(k): str(v) for k, v in own.items() if v is not None})
    return merged


def environment_of(props: Mapping[str, Any], provider: PolicyProviderResource | None) -> str:
    """The resource's `Environment` tag (the provider's default tag for untaggable types)."""
    return effective_tags(props, provider).get("Environment", UNKNOWN_ENVIRONMENT)


def known(props: Mapping[str, Any], key: str) -> Any:
    """`props[key]`, or None while a preview does not know it yet (the analyzer's props raise)."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def label(resource_type: str, name: str, props: Mapping[str, Any]) -> str:
    """How a message names a resource: type, logical name and physical name when known."""
    key = _PHYSICAL_NAME.get(resource_type, "name")
    physical = known(props, key)
    suffix = f" ({physical})" if isinstance(physical, str) and physical != name else ""
    return f"{resource_type} '{name}'{suffix}"
