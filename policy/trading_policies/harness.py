"""Run the pack's policies in-process, without the analyzer's gRPC server: what the offline
tests (and anyone checking a rendered stack) use. It calls each policy's own `validate`, the
same entry point the analyzer calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

__all__ = ["Violation", "evaluate"]


@dataclass(frozen=True)
class Violation:
    """One reported violation: the policy, the resource's URN and the message."""

    policy: str
    urn: str
    message: str


def _collector(violations: list[Violation], policy: str, default_urn: str) -> ReportViolation:
    def report(message: str, urn: str | None = None) -> None:
        violations.append(Violation(policy, urn or default_urn, message))

    return report


def evaluate(
    policies: Iterable[Policy],
    resources: Iterable[ResourceValidationArgs],
    stack: StackValidationArgs | None = None,
) -> list[Violation]:
    """Every violation the policies report for `resources` (and for `stack`, when given)."""
    resources = list(resources)
    violations: list[Violation] = []
    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):
            for args in resources:
                # As in the analyzer, a resource policy's violation belongs to that resource.
                policy.validate(args, _collector(violations, policy.name, args.urn))
        elif isinstance(policy, StackValidationPolicy) and stack is not None:
            policy.validate(stack, _collector(violations, policy.name, ""))
    return violations
