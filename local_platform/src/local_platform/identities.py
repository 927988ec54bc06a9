"""Who calls the emulator: an operator for set-up and reading, and the function's own role.

The function's role is created from the rendered stack — its name, trust policy, inline policy
and permissions boundary exactly as `pulumi up` would create them — and the handler runs with
the credentials of an assumed session of that role, as Lambda runs it. The boundary is the
document the bootstrap creates (`platform_core.iam.workload_boundary_policy`): the stack only
names it. The local platform plays the Lambda service here, the one principal the role's trust
policy admits, so it assumes the role before the emulator starts enforcing IAM.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local_platform.errors import IdentityError
from local_platform.policy_evaluation import actions_overlap, check_supported
from platform_core.iam import workload_boundary_policy
from platform_core.offline import RenderedStack
from platform_core.organisation import find_organisation

__all__ = [
    "OPERATOR_NAME",
    "Credentials",
    "FunctionRole",
    "create_function_role",
    "create_operator",
]

OPERATOR_NAME = "local-platform-operator"
_EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "LocalOperator", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        """As environment variables (what the Lambda runtime hands the function)."""
        variables = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            variables["AWS_SESSION_TOKEN"] = self.session_token
        return variables

    def client(self, service: str, endpoint_url: str, region: str) -> Any:
        return _session(self, region).client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint_url,
            config=Config(retries={"mode": "standard"}, max_pool_connections=32),
        )


@functools.cache
def _session(credentials: Credentials, region: str) -> boto3.session.Session:
    """One session per identity: its clients share the service models it has loaded."""
    return boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=region,
    )


@dataclass(frozen=True)
class FunctionRole:
    """The function's execution role in the emulator, and a session of it."""

    name: str
    arn: str
    policy_names: tuple[str, ...]
    boundary_arn: str | None
    session: Credentials
    #: Statements whose conditions the emulator cannot evaluate (their requests are refused).
    not_evaluated: tuple[str, ...] = ()


def create_operator(iam: Any) -> Credentials:
    """An IAM user allowed everything: the local platform's own set-up, uploads and reads."""
    iam.create_user(UserName=OPERATOR_NAME)
    iam.put_user_policy(
        UserName=OPERATOR_NAME, PolicyName="everything", PolicyDocument=json.dumps(_EVERYTHING)
    )
    key = iam.create_access_key(UserName=OPERATOR_NAME)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def _document(value: Any, what: str, notes: list[str]) -> Mapping[str, Any]:
    document = json.loads(value) if isinstance(value, str) else value
    if not isinstance(document, Mapping):
        raise IdentityError(f"{what} is not a policy document: {value!r}")
    notes.extend(check_supported(document, what))
    return document


def _create_boundary(iam: Any, arn: str, environment: str, region: str) -> Mapping[str, Any]:
    _, _, _, _, account, resource = arn.split(":", 5)
    name = resource.removeprefix("policy/")
    organisation = find_organisation(Path(__file__))  # the repository's organisation.yaml
    boundary = workload_boundary_policy(environment, region, account, organisation)
    document = _document(boundary, f"boundary {name}", [])
    created = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
    if created["Policy"]["Arn"] != arn:
        raise IdentityError(
            f"the stack names the boundary {arn}, the emulator created "
            f"{created['Policy']['Arn']} (account ids differ)"
        )
    return document


def _boundary_notes(
    boundary: Mapping[str, Any], name: str, granted: list[Mapping[str, Any]]
) -> list[str]:
    """What the emulator cannot evaluate in the boundary, for requests the role could make.

    A boundary only narrows what the role's own policies allow: a statement about actions
    they never grant (the database's secret, in an environment without one) decides nothing.
    """
    statements = boundary.get("Statement", [])
    relevant = [
        statement
        for statement in (statements if isinstance(statements, list) else [statements])
        if any(actions_overlap(statement, allowed) for allowed in granted)
    ]
    return check_supported({**boundary, "Statement": relevant}, f"boundary {name}")


def create_function_role(
    iam: Any, sts: Any, stack: RenderedStack, environment: str, region: str
) -> FunctionRole:
    """Create the rendered role with its policies and boundary; assume it as Lambda would."""
    role = stack.one("aws:iam/role:Role").inputs
    name = str(role["name"])
    boundary = role.get("permissionsBoundary")
    notes: list[str] = []
    boundary_document = (
        _create_boundary(iam, str(boundary), environment, region) if boundary else None
    )
    arguments: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": json.dumps(json.loads(str(role["assumeRolePolicy"]))),
    }
    if boundary:
        arguments["PermissionsBoundary"] = str(boundary)
    arn = str(iam.create_role(**arguments)["Role"]["Arn"])
    expected = stack.one("aws:lambda/function:Function").inputs["role"]
    if arn != expected:
        raise IdentityError(f"the function names role {expected}, the emulator created {arn}")
    names = []
    granted: list[Mapping[str, Any]] = []
    for policy in stack.of_type("aws:iam/rolePolicy:RolePolicy"):
        document = _document(
            policy.inputs["policy"], f"inline policy {policy.inputs['name']}", notes
        )
        statements = document.get("Statement", [])
        granted += [
            s
            for s in (statements if isinstance(statements, list) else [statements])
            if isinstance(s, Mapping) and s.get("Effect") == "Allow"
        ]
        iam.put_role_policy(
            RoleName=name,
            PolicyName=str(policy.inputs["name"]),
            PolicyDocument=json.dumps(document),
        )
        names.append(str(policy.inputs["name"]))
    if stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        raise IdentityError("the role has attached managed policies; replaying them is not built")
    if boundary_document is not None:
        boundary_name = str(boundary).rsplit("/", 1)[-1]
        notes = _boundary_notes(boundary_document, boundary_name, granted) + notes
    assumed = sts.assume_role(RoleArn=arn, RoleSessionName=f"{name}-local")["Credentials"]
    session = Credentials(
        assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
    )
    return FunctionRole(
        name, arn, tuple(names), str(boundary) if boundary else None, session, tuple(notes)
    )
