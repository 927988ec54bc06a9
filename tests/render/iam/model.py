"""A small model of IAM's evaluation of identity policies, for asking documents concrete questions.

"May the dev deploy role create this role without the boundary?" is answered the way IAM does
for one policy: an explicit Deny wins, else any Allow, else the request is implicitly denied.
Only the condition operators these documents use are modelled; any other stops the test rather
than being guessed at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["Decision", "Request", "as_list", "decide", "grants", "statements"]


class Decision(Enum):
    ALLOWED = "allowed"
    IMPLICITLY_DENIED = "implicitly denied"
    EXPLICITLY_DENIED = "explicitly denied"


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return as_list(document["Statement"])


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    # IAM's wildcards are `*` and `?`; ARNs and action names contain no `[`.
    if case_sensitive:
        return fnmatchcase(value, pattern)
    return fnmatchcase(value.lower(), pattern.lower())


def _values(context: Mapping[str, str | tuple[str, ...]], key: str) -> tuple[str, ...] | None:
    value = context.get(key)
    if value is None:
        return None
    return value if isinstance(value, tuple) else (value,)


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    actual = _values(request.context, key)
    wanted = [str(value) for value in as_list(expected)]
    if operator == "StringEquals":
        return actual is not None and any(value in wanted for value in actual)
    if operator == "StringNotEquals":  # an absent key does not equal anything: the test holds
        return actual is None or not any(value in wanted for value in actual)
    if operator in ("StringLike", "ArnEquals", "ArnLike"):  # ARN operators take wildcards too
        return actual is not None and any(
            _matches(pattern, value, case_sensitive=True) for value in actual for pattern in wanted
        )
    if operator == "Bool":  # an absent key is not true (nor false)
        return actual is not None and any(
            value.lower() == expected.lower() for value in actual for expected in wanted
        )
    if operator in ("ArnNotEquals", "ArnNotLike"):
        return actual is None or not any(
            _matches(pattern, value, case_sensitive=True) for value in actual for pattern in wanted
        )
    raise NotImplementedError(f"condition operator {operator} is not modelled")


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        raise NotImplementedError("NotAction/NotResource are not modelled")
    if not any(
        _matches(action, request.action, case_sensitive=False)
        for action in as_list(statement["Action"])
    ):
        return False
    if not any(
        _matches(resource, request.resource, case_sensitive=True)
        for resource in as_list(statement["Resource"])
    ):
        return False
    conditions: Mapping[str, Mapping[str, Any]] = statement.get("Condition", {})
    return all(
        _condition_holds(operator, key, expected, request)
        for operator, block in conditions.items()
        for key, expected in block.items()
    )


def decide(document: Mapping[str, Any], request: Request) -> Decision:
    applicable = [s for s in statements(document) if _applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applicable):
        return Decision.EXPLICITLY_DENIED
    if any(s["Effect"] == "Allow" for s in applicable):
        return Decision.ALLOWED
    return Decision.IMPLICITLY_DENIED


def grants(document: Mapping[str, Any]) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    """Every (action, resource, condition) an Allow statement lists."""
    for statement in statements(document):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                yield action, resource, statement.get("Condition", {})
