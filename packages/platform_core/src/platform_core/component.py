"""The base of every component here: children are named after their component.

A URN is unique per resource type within a stack, so two instances of one component (two
platforms side by side, or a second bucket) would clash if their children had fixed names.
Children are therefore called ``<component>-<part>``.
"""

from __future__ import annotations

from typing import Any

import pulumi

__all__ = ["PlatformComponent"]


class PlatformComponent(pulumi.ComponentResource):
    """A component resource whose children's logical names start with its own."""

    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(type_, name, None, opts)
        self.component_name = name

    def child_name(self, part: str) -> str:
        """``<component>-<part>``: the logical name of one child."""
        return f"{self.component_name}-{part}"

    def child_options(self, **options: Any) -> pulumi.ResourceOptions:
        """A child's options: parented here (so it inherits the provider), plus ``options``."""
        return pulumi.ResourceOptions(parent=self, **options)
