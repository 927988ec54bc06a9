"""A rendered stack as CrossGuard would show it to the policies, plus builders of violating
resources for the negative tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from platform_core.offline import RegisteredResource, RenderedStack

DEV_TAGS = {
    "Environment": "dev",
    "ManagedBy": "Pulumi",
    "Project": "trading-analytics",
    "Team": "trading-platform",
    "CostCenter": "cc-1",
}
PROVIDER_URN = "urn:pulumi:dev::p::pulumi:providers:aws::aws"


class OfflineOptions(PolicyResourceOptions):
    """CrossGuard's options plus `retain_on_delete`, which the mock engine records too."""

    def __init__(self, protect: bool, retain_on_delete: bool, parent: str | None) -> None:
        super().__init__(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)
        self.retain_on_delete = retain_on_delete


def provider(tags: Mapping[str, str] | None = None) -> PolicyProviderResource:
    """An AWS provider whose default tags arrive JSON-encoded, as the engine sends them."""
    props = {
        "region": "us-east-1",
        "defaultTags": json.dumps({"tags": dict(DEV_TAGS if tags is None else tags)}),
    }
    return PolicyProviderResource("pulumi:providers:aws", props, PROVIDER_URN, "aws")


def resource_args(
    type_: str,
    props: Mapping[str, Any],
    *,
    name: str = "thing",
    tags: Mapping[str, str] | None = None,
    protect: bool = False,
    retain_on_delete: bool = False,
) -> ResourceValidationArgs:
    """One resource, with an explicit provider carrying `tags` (dev's tags by default)."""
    urn = f"urn:pulumi:dev::p::{type_}::{name}"
    opts = OfflineOptions(protect, retain_on_delete, None)
    return ResourceValidationArgs(type_, dict(props), urn, name, opts, provider(tags))


def _provider_of(rendered: RenderedStack, resource: RegisteredResource) -> PolicyProviderResource:
    urn = resource.provider.rsplit("::", 1)[0]
    found = rendered.by_urn(urn)
    return PolicyProviderResource(found.type, dict(found.inputs), found.urn, found.name)


def resource_view(rendered: RenderedStack) -> list[ResourceValidationArgs]:
    """Each custom resource's inputs, as the analyzer's `Analyze` receives them."""
    return [
        ResourceValidationArgs(
            resource.type,
            dict(resource.inputs),
            resource.urn,
            resource.name,
            OfflineOptions(resource.protect, resource.retain_on_delete, resource.parent or None),
            _provider_of(rendered, resource) if resource.provider else None,
        )
        for resource in rendered.resources
        if resource.custom and not resource.type.startswith("pulumi:providers:")
    ]


def stack_view(rendered: RenderedStack) -> StackValidationArgs:
    """Every resource's state with parents and dependencies, as `AnalyzeStack` receives it."""
    by_urn: dict[str, PolicyResource] = {}
    for resource in rendered.resources:
        by_urn[resource.urn] = PolicyResource(
            resource.type,
            dict(resource.state),
            resource.urn,
            resource.name,
            OfflineOptions(resource.protect, resource.retain_on_delete, resource.parent or None),
            _provider_of(rendered, resource) if resource.provider else None,
            None,
            [],
            {},
        )
    for resource in rendered.resources:
        view = by_urn[resource.urn]
        view.parent = by_urn.get(resource.parent)
        view.dependencies = [by_urn[urn] for urn in resource.dependencies if urn in by_urn]
    return StackValidationArgs(list(by_urn.values()))


def stack_of(*resources: PolicyResource) -> StackValidationArgs:
    return StackValidationArgs(list(resources))


def stack_resource(
    type_: str,
    name: str,
    props: Mapping[str, Any],
    dependencies: list[PolicyResource] | None = None,
) -> PolicyResource:
    """A resource of a hand-built stack (negative tests of the stack policies)."""
    return PolicyResource(
        type_,
        dict(props),
        f"urn:pulumi:dev::p::{type_}::{name}",
        name,
        OfflineOptions(False, False, None),
        provider(),
        None,
        list(dependencies or []),
        {},
    )
