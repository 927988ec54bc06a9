"""AWS's Service Authorization Reference, as parliament ships it (`parliament.iam_definition`).

It tells the tests which actions take resources at all, independently of the lists in the code
under test.
"""

from __future__ import annotations

import warnings
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

with warnings.catch_warnings():
    # parliament 1.6 still imports pkg_resources, which warns on import.
    warnings.simplefilter("ignore")
    import parliament

__all__ = ["access_levels", "has_resource_level_permissions", "parliament"]


@cache
def _privileges() -> dict[str, dict[str, Any]]:
    return {
        f"{service['prefix']}:{privilege['privilege']}".lower(): privilege
        for service in parliament.iam_definition
        for privilege in service["privileges"]
    }


def has_resource_level_permissions(action: str) -> bool:
    """Whether AWS lets a policy name resources for `action` (else only "*" works)."""
    privilege = _privileges().get(action.lower())
    if privilege is None:
        raise LookupError(f"{action} is not an IAM action parliament knows")
    return any(rt["resource_type"] for rt in privilege["resource_types"])


def access_levels(action: str) -> set[str]:
    """The access levels ("Read", "List", "Write", …) of the actions `action` names (IAM's
    `*` and `?` wildcards expanded)."""
    matched = [p for name, p in _privileges().items() if fnmatchcase(name, action.lower())]
    if not matched:
        raise LookupError(f"{action} names no IAM action parliament knows")
    return {str(privilege["access_level"]) for privilege in matched}
