"""Mandatory tags, applied by the provider's `default_tags` to every taggable resource."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["MANDATORY_TAG_KEYS", "mandatory_tags"]

MANAGED_BY = "Pulumi"
MANDATORY_TAG_KEYS = ("Environment", "ManagedBy", "Project", "Team", "CostCenter")


def mandatory_tags(
    environment: str, project: str, team: str, cost_center: str
) -> Mapping[str, str]:
    """The tags every taggable resource of an environment carries."""
    return {
        "Environment": environment,
        "ManagedBy": MANAGED_BY,
        "Project": project,
        "Team": team,
        "CostCenter": cost_center,
    }
