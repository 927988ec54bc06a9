"""Identity-based IAM policy evaluation, as AWS documents it, for the questions the emulator asks.

Decisions follow the IAM User Guide, "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
for one account and identity-based policies only (the emulator replays no resource policies):

- an explicit ``Deny`` in any policy wins;
- otherwise an ``Allow`` in an identity-based policy is needed;
- with a permissions boundary, the boundary must allow the request too
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).

A statement applies when its ``Action``/``NotAction``, ``Resource``/``NotResource`` and every
``Condition`` match. ``*`` and ``?`` are wildcards; actions match case-insensitively; a resource
pattern is matched per ARN segment (a wildcard never spans the colons between partition,
service, region, account and resource). A condition key absent from the request makes a
condition false, except for negated operators and ``...IfExists``, where it makes it true
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

Rather than guess, a condition operator or key this module cannot evaluate makes any question
its statement would decide an error (`UnsupportedPolicyError`), which the emulator answers as a
refusal naming why; `check_supported` lists such statements up front. A wrong "allowed" here
would make the local proof worthless.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from local_platform.errors import UnsupportedPolicyError

__all__ = [
    "Decision",
    "Question",
    "actions_overlap",
    "check_supported",
    "decide",
]

#: Request context keys the emulator supplies (the rest would be guesses).
KNOWN_CONTEXT_KEYS = frozenset({"s3:prefix", "dynamodb:enclosingoperation"})


class Decision(enum.Enum):
    ALLOWED = "allowed"
    EXPLICITLY_DENIED = "explicitly denied"
    NOT_ALLOWED = "not allowed (no statement allows it)"


@dataclass(frozen=True)
class Question:
    """May the caller perform ``action`` on ``resource``, with this request context?

    ``context`` holds the request's condition keys as (key, value) pairs, e.g.
    ``(("s3:prefix", "incoming/"),)``.
    """

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` any run of characters, ``?`` one character; everything else literal."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.S)


def _equals(value: str, pattern: str) -> bool:
    return value == pattern


def _equals_ignoring_case(value: str, pattern: str) -> bool:
    return value.lower() == pattern.lower()


def _like(value: str, pattern: str) -> bool:
    return _glob(pattern).fullmatch(value) is not None


#: operator -> (comparison, negated)
_STRING_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_equals, False),
    "StringNotEquals": (_equals, True),
    "StringEqualsIgnoreCase": (_equals_ignoring_case, False),
    "StringNotEqualsIgnoreCase": (_equals_ignoring_case, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _action_matches(patterns: Any, action: str) -> bool:
    return any(_glob(str(p).lower()).fullmatch(action.lower()) for p in _listed(patterns))


def _arn_matches(pattern: str, arn: str) -> bool:
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    return len(wanted) == len(actual) and all(
        _glob(w).fullmatch(a) is not None for w, a in zip(wanted, actual, strict=True)
    )


def actions_overlap(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """Whether two statements could apply to one action (a ``NotAction`` counts as yes)."""
    if "Action" not in first or "Action" not in second:
        return True
    ours, theirs = _listed(first["Action"]), _listed(second["Action"])
    return any(_action_matches(ours, str(a)) for a in theirs) or any(
        _action_matches(theirs, str(a)) for a in ours
    )


def _resource_matches(patterns: Any, resource: str) -> bool:
    return any(_arn_matches(str(p), resource) for p in _listed(patterns))


def _operator(name: str) -> tuple[str, bool]:
    """(base operator, if-exists) of a condition operator such as ``StringLikeIfExists``."""
    if_exists = name.endswith("IfExists")
    return (name.removesuffix("IfExists"), if_exists)


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    reason = _unsupported(operator, key)
    if reason is not None:  # this statement would decide the question: refuse to guess
        raise UnsupportedPolicyError(reason)
    base, if_exists = _operator(operator)
    value = context.get(key.lower())
    if base == "Null":  # true when the key is absent, if the policy says "true"
        return (value is None) == (str(expected).lower() == "true")
    if base == "Bool":
        return value is not None and value.lower() == str(expected).lower()
    compare, negated = _STRING_OPERATORS[base]
    if value is None:
        return if_exists or negated
    matched = any(compare(value, str(pattern)) for pattern in _listed(expected))
    return not matched if negated else matched


def _conditions_hold(
    conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]
) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, keys in conditions.items()
        for key, expected in keys.items()
    )


def _applies(statement: Mapping[str, Any], question: Question) -> bool:
    if "Action" in statement:
        if not _action_matches(statement["Action"], question.action):
            return False
    elif _action_matches(statement.get("NotAction", []), question.action):
        return False
    if "Resource" in statement:
        if not _resource_matches(statement["Resource"], question.resource):
            return False
    elif _resource_matches(statement.get("NotResource", []), question.resource):
        return False
    context = {key.lower(): value for key, value in question.context}
    return _conditions_hold(statement.get("Condition", {}), context)


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(_listed(document.get("Statement", [])))


def _verdict(documents: Iterable[Mapping[str, Any]], question: Question) -> Decision:
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if _applies(statement, question):
                if statement.get("Effect") == "Deny":
                    return Decision.EXPLICITLY_DENIED
                allowed = allowed or statement.get("Effect") == "Allow"
    return Decision.ALLOWED if allowed else Decision.NOT_ALLOWED


def decide(
    identity: Sequence[Mapping[str, Any]],
    question: Question,
    boundary: Mapping[str, Any] | None = None,
) -> Decision:
    """The decision for ``question`` under the identity's policies and its boundary, if any."""
    decision = _verdict(identity, question)
    if boundary is None or decision is Decision.EXPLICITLY_DENIED:
        return decision
    limit = _verdict([boundary], question)
    if limit is Decision.EXPLICITLY_DENIED:
        return limit
    return decision if limit is Decision.ALLOWED else Decision.NOT_ALLOWED


_SUPPORTED_OPERATORS = frozenset({*_STRING_OPERATORS, "Null", "Bool"})


def _unsupported(operator: str, key: str) -> str | None:
    """Why the condition ``operator``/``key`` cannot be evaluated here; None if it can."""
    if ":" in operator or _operator(operator)[0] not in _SUPPORTED_OPERATORS:
        return (
            f"the emulator cannot evaluate condition operator {operator!r}; it evaluates "
            f"{', '.join(sorted(_SUPPORTED_OPERATORS))} (and their IfExists forms)"
        )
    if key.lower() not in KNOWN_CONTEXT_KEYS:
        return (
            f"the emulator does not supply condition key {key!r}; it supplies "
            f"{', '.join(sorted(KNOWN_CONTEXT_KEYS))}"
        )
    return None


def check_supported(document: Mapping[str, Any], name: str) -> list[str]:
    """What in ``document`` the emulator cannot evaluate, one line per statement.

    Such a statement does not stop the run: a request it would decide is refused, naming it
    (`decide` raises), and every other request is decided as usual. A principal, which has no
    place in an identity policy, is an error at once.
    """
    notes = []
    for index, statement in enumerate(_statements(document)):
        label = f"{name}, statement {statement.get('Sid') or index}"
        if "Principal" in statement or "NotPrincipal" in statement:
            raise UnsupportedPolicyError(f"{label}: a principal belongs in a resource policy")
        for operator, keys in statement.get("Condition", {}).items():
            for key in keys:
                reason = _unsupported(operator, key)
                if reason is not None:
                    actions = ", ".join(
                        _listed(statement.get("Action", statement.get("NotAction")))
                    )
                    notes.append(f"{label} ({actions}): {reason}")
    return notes
