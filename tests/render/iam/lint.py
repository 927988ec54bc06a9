"""Every IAM policy document of the rendered stacks and bootstraps, linted by parliament.

parliament (duo-labs) reads identity policies; its community auditors add privilege-escalation
and permissions-management checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from trading_policies.resource_rules import POLICY_DOCUMENTS, policy_documents

from platform_core.offline import RenderedStack
from tests.render.iam.reference import parliament

__all__ = ["Document", "Finding", "documents", "lint", "lint_all", "role_permissions"]

TRUST_POLICY = "assumeRolePolicy"


@dataclass(frozen=True)
class Document:
    """One policy document: which program, which resource (logical name), where in it."""

    program: str
    resource: str
    location: str
    policy: Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """One parliament finding, located by statement Sid ("" for a whole-policy finding) and,
    for whole-policy findings, the kind of escalation parliament recognised."""

    program: str
    resource: str
    location: str
    statement: str
    issue: str
    kind: str = ""

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.program, self.resource, self.location, self.statement, self.issue, self.kind)


def documents(program: str, rendered: RenderedStack) -> Iterator[Document]:
    """Every policy the program sends to AWS, wherever its resource type keeps one."""
    for resource in rendered.resources:
        locations = POLICY_DOCUMENTS.get(resource.type)
        if locations is None:
            continue
        for location, text in policy_documents(resource.inputs, locations):
            if text is None:
                continue
            policy = json.loads(text) if isinstance(text, str) else text
            if location == TRUST_POLICY:
                policy = _as_resource_policy(policy, str(resource.state["arn"]))
            yield Document(program, resource.name, location, policy)


def _as_resource_policy(trust: Mapping[str, Any], role_arn: str) -> dict[str, Any]:
    """A trust policy is the role's resource policy: its statements are about the role, which
    is how parliament (written for identity policies, which always name a Resource) reads it."""
    return {
        **trust,
        "Statement": [{**s, "Resource": role_arn} for s in _statements(trust)],
    }


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = policy["Statement"]
    return list(found) if isinstance(found, list) else [found]


def _one_statement_per_line(policy: Mapping[str, Any]) -> str:
    """Statement i sits alone on line i + 2, so a finding's line names its statement."""
    head = json.dumps({k: v for k, v in policy.items() if k != "Statement"})[:-1]
    body = ",\n".join(json.dumps(s) for s in _statements(policy))
    separator = ", " if len(head) > 1 else ""
    return f'{head}{separator}"Statement": [\n{body}\n]}}'


def lint(document: Document) -> list[Finding]:
    statements = _statements(document.policy)
    analyzed = parliament.analyze_policy_string(
        _one_statement_per_line(document.policy), include_community_auditors=True
    )
    findings = []
    for finding in analyzed.findings:
        location: Mapping[str, Any] = finding.location or {}
        line = location.get("line")
        if isinstance(line, int) and 2 <= line < 2 + len(statements):
            statement = statements[line - 2]
            sid, kind = str(statement.get("Sid", f"#{line - 2}")), ""
        else:
            sid, kind = "", str(location.get("type", ""))
        findings.append(
            Finding(
                document.program, document.resource, document.location, sid, finding.issue, kind
            )
        )
    return findings


def role_permissions(program: str, rendered: RenderedStack) -> Iterator[Document]:
    """Each role's identity policies as one document (its inline policies and the managed ones
    attached to it): parliament finds an escalation path only within a document, and a role's
    may run across its policies. Named `<role resource>-permissions`."""
    arns = {str(r.state.get("arn")): r for r in rendered.of_type("aws:iam/policy:Policy")}
    for role in rendered.of_type("aws:iam/role:Role"):
        names = {role.state.get("id"), role.inputs.get("name")}
        texts = [
            r.inputs["policy"] for r in rendered.of_type("aws:iam/rolePolicy:RolePolicy")
            if r.inputs.get("role") in names
        ] + [
            arns[str(a.inputs["policyArn"])].inputs["policy"]
            for a in rendered.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs.get("role") in names and str(a.inputs["policyArn"]) in arns
        ]  # fmt: skip
        if len(texts) > 1:
            policies = [json.loads(t) if isinstance(t, str) else t for t in texts]
            combined = {"Version": "2012-10-17",
                        "Statement": [s for p in policies for s in _statements(p)]}  # fmt: skip
            yield Document(program, f"{role.name}-permissions", "policies", combined)


def lint_all(rendered: Iterable[tuple[str, RenderedStack]]) -> set[Finding]:
    pairs = list(rendered)
    found = {f for program, stack in pairs for d in documents(program, stack) for f in lint(d)}
    # Of a role's policies together, what only shows across them: whole-policy findings.
    return found | {
        f
        for program, stack in pairs
        for d in role_permissions(program, stack)
        for f in lint(d)
        if not f.statement
    }
