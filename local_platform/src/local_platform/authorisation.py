"""Make moto authorise requests the way AWS documents it, once IAM enforcement is on.

moto (5.2) enforces IAM when ``INITIAL_NO_AUTH_ACTION_COUNT`` is reached, but it asks itself
the wrong questions for the services the function uses:

- every DynamoDB call is checked against ``Resource: *``, so a grant scoped to the table's ARN
  (as least privilege requires) is refused. AWS checks the table's ARN, or the index's for a
  Query or Scan of an index, and for a batch call each table it names ("DynamoDB API
  permissions: Actions, resources, and conditions reference",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html);
- ``TransactWriteItems`` is checked as an action of its own, which IAM does not have: AWS
  authorises each item as the operation it is — ``PutItem``, ``UpdateItem``, ``DeleteItem`` or
  ``ConditionCheckItem`` — on that item's table ("Using IAM with DynamoDB transactions",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html),
  with ``dynamodb:EnclosingOperation`` in the request context;
- ``CopyObject`` is checked against its destination only. AWS needs ``s3:GetObject`` on the
  source too, ``s3:GetObjectVersion`` for a given version (CopyObject, "Permissions",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html);
- ``GetObject`` of a key that does not exist is 404 whatever the caller may list. AWS answers
  404 only to a caller allowed ``s3:ListBucket`` on the bucket, 403 Access Denied to anyone
  else (GetObject, "Permissions", https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
  The listing is asked with the requested key as ``s3:prefix``, so a grant limited by an
  ``s3:prefix`` condition answers 404 exactly for the keys it lets the caller list. (AWS does not
  document the key it uses; Ceph's gateway, which copies S3's behaviour, does the same:
  https://github.com/ceph/ceph/pull/68577);
- a ``ListBucket`` request's ``prefix`` is not offered to conditions as ``s3:prefix``, and moto's
  own condition check (``StringEquals`` only, a failed ``Allow`` condition counted as a deny)
  cannot evaluate the grant above. Decisions here are `policy_evaluation`'s: AWS's documented
  logic, with the role's permissions boundary.

So the question moto would ask is replaced by the questions AWS asks; each must be allowed.
Signature checks, the unauthenticated-request count and the error responses stay moto's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import unquote, urlparse

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.iam.access_control import AssumedRoleAccessKey, IAMRequestBase
from moto.iam.models import IAMBackend, Policy
from moto.s3.models import s3_backends

from local_platform.errors import UnsupportedPolicyError
from local_platform.policy_evaluation import Decision, Question, decide

__all__ = ["install", "installed", "questions_for_dynamodb", "questions_for_s3"]

_PATCHED = "_authorised_as_aws_by_local_platform"
# What each TransactWriteItems/TransactGetItems entry is authorised as.
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
_INDEX_READS = frozenset({"Query", "Scan"})
_OBJECT_READS = frozenset({"s3:GetObject", "s3:GetObjectVersion"})


def _table_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def questions_for_dynamodb(
    action: str, body: Mapping[str, Any], region: str, account: str
) -> list[Question]:
    """What AWS authorises for DynamoDB ``action`` with request ``body``."""
    if action in ("TransactWriteItems", "TransactGetItems"):
        context = (("dynamodb:EnclosingOperation", action),)
        return [
            Question(
                _TRANSACT_ACTIONS.get(operation, f"dynamodb:{operation}"),
                _table_arn(str(spec.get("TableName", "")), region, account),
                context,
            )
            for entry in body.get("TransactItems", [])
            for operation, spec in entry.items()
        ]
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [
            Question(f"dynamodb:{action}", _table_arn(name, region, account))
            for name in body.get("RequestItems", {})
        ]
    if "TableName" not in body:  # ListTables and the like: nothing narrower exists
        return [Question(f"dynamodb:{action}", "*")]
    resource = _table_arn(str(body["TableName"]), region, account)
    if action in _INDEX_READS and body.get("IndexName"):
        resource = f"{resource}/index/{body['IndexName']}"
    return [Question(f"dynamodb:{action}", resource)]


def _copy_source(header: str) -> tuple[str, str | None]:
    """(``bucket/key``, version id) of an ``x-amz-copy-source`` header (URL-encoded)."""
    source, _, query = header.partition("?")
    version = query.removeprefix("versionId=") if query.startswith("versionId=") else None
    return unquote(source).lstrip("/"), version


def questions_for_s3(
    action: str,
    resource: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
) -> list[Question]:
    """What AWS authorises for S3 ``action`` on ``resource`` (the bucket's or object's ARN)."""
    questions = []
    context: tuple[tuple[str, str], ...] = ()
    if action in ("s3:ListBucket", "s3:ListBucketVersions") and query.get("prefix"):
        context = (("s3:prefix", query["prefix"][0]),)
    questions.append(Question(action, resource, context))
    copy_source = headers.get("x-amz-copy-source")
    if action == "s3:PutObject" and copy_source:
        source, version = _copy_source(copy_source)
        read = "s3:GetObjectVersion" if version else "s3:GetObject"
        questions.append(Question(read, f"arn:aws:s3:::{source}"))
    return questions


def _document(policy: Any) -> Mapping[str, Any]:
    """A policy as moto keeps it (JSON text, a managed policy, a dict) as a parsed document."""
    if isinstance(policy, Policy):
        text = next(v.document for v in policy.versions if v.is_default)
    elif isinstance(policy, Mapping):
        text = policy["policy_document"]
    else:
        text = policy
    parsed: Mapping[str, Any] = json.loads(text) if isinstance(text, str) else text
    return parsed


def _boundary(backend: IAMBackend, principal: Any) -> Mapping[str, Any] | None:
    if not isinstance(principal, AssumedRoleAccessKey):
        return None
    arn = backend.get_role(principal._owner_role_name).permissions_boundary_arn
    return _document(backend.get_policy(arn)) if arn else None


def _trusted(backend: IAMBackend, caller_arn: str, role_arn: str, account: str) -> bool:
    """Whether the role's trust policy names the caller (an AWS principal) for AssumeRole."""
    trust = json.loads(backend.get_role_by_arn(role_arn).assume_role_policy_document)
    callers = {"*", caller_arn, account, f"arn:aws:iam::{account}:root"}

    def principals(statement: Mapping[str, Any]) -> set[str]:
        principal = statement.get("Principal", {})
        named = principal if isinstance(principal, str) else principal.get("AWS", [])
        return {str(name) for name in _listed(named)}

    return any(
        statement.get("Effect") == "Allow"
        and "sts:assumerole" in {a.lower() for a in _listed(statement.get("Action", []))}
        and bool(callers & principals(statement))
        for statement in _listed(trust.get("Statement", []))
    )


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _missing_object(account: str, resource: str, query: Mapping[str, list[str]]) -> str | None:
    """The key of an object GET/HEAD whose object does not exist, else None."""
    bucket, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
    backend = s3_backends[account]["aws"]
    if not key or bucket not in backend.buckets:
        return None
    version = query.get("versionId", [None])[0]
    return key if backend.get_object(bucket, key, version_id=version) is None else None


def _questions(responder: Any, request: IAMRequestBase, resource: str) -> list[Question]:
    service, _, action = request._action.partition(":")
    if service == "dynamodb":
        raw = responder.body  # moto's DynamoDB handler has parsed it by now; others have not
        body = raw if isinstance(raw, Mapping) else json.loads(raw or "{}")
        return questions_for_dynamodb(action, body, request._region, request.account_id)
    if service == "s3":
        return questions_for_s3(request._action, resource, responder.querystring, responder.headers)
    return [Question(request._action, resource)]


def _deny(
    request: IAMRequestBase, question: Question, decision: Decision, why: str | None = None
) -> NoReturn:
    """Refuse as the service does: S3's XML AccessDenied, DynamoDB's AccessDeniedException."""
    if request._service == "s3":
        request._raise_access_denied()
    message = (
        f"User: {request._access_key.arn} is not authorized to perform: {question.action} "
        f"on resource: {question.resource} ({why or decision.value})"
    )
    if request._service == "dynamodb":
        raise JsonRESTError("AccessDeniedException", message)
    raise AccessDeniedError(
        user_arn=request._access_key.arn,
        action=f"{question.action} on resource: {question.resource}",
    )


def _authorise(responder: Any, request: IAMRequestBase, resource: str) -> None:
    """Each question AWS would ask must be allowed; the first that is not, refuses."""
    principal = request._access_key
    backend = request.backend
    identity = [_document(policy) for policy in principal.collect_policies()]
    boundary = _boundary(backend, principal)
    questions = _questions(responder, request, resource)
    for question in dict.fromkeys(questions):  # each distinct question once, in order
        try:
            decision = decide(identity, question, boundary)
        except UnsupportedPolicyError as error:  # never guess an "allowed"
            _deny(request, question, Decision.NOT_ALLOWED, f"not evaluated: {error}")
        if decision is not Decision.ALLOWED:
            _deny(request, question, decision)
        if question.action == "sts:AssumeRole" and not _trusted(
            backend, principal.arn, question.resource, request.account_id
        ):
            _deny(request, question, Decision.NOT_ALLOWED)
    if request._service == "s3" and request._action in _OBJECT_READS:
        key = _missing_object(request.account_id, resource, responder.querystring)
        if key is None:
            return
        bucket = resource.removeprefix("arn:aws:s3:::").partition("/")[0]
        listing = Question("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", key),))
        if decide(identity, listing, boundary) is not Decision.ALLOWED:
            _deny(request, listing, Decision.NOT_ALLOWED)  # 403 instead of 404


def _authenticate_and_authorize_action(
    self: Any, iam_request_cls: type[IAMRequestBase], resource: str = "*"
) -> None:
    """moto's method of the same name, with AWS's questions in place of moto's one."""
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return
    path, query = self.raw_path, urlparse(self.uri).query
    if query:
        path += "?" + query
    request = iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=path,
        data=self.data,
        body=self.raw_body,
        headers=self.headers,
        action=self._get_action(),
    )
    request.check_signature()
    if request._action == "sts:GetCallerIdentity":  # AWS allows it to every caller
        return
    _authorise(self, request, resource)


def installed() -> bool:
    return bool(getattr(ActionAuthenticatorMixin, _PATCHED, False))


def install() -> None:
    """Patch moto's authorisation in this process (idempotent); enforcement itself stays off
    until ``INITIAL_NO_AUTH_ACTION_COUNT`` requests have been served (moto's setting)."""
    if installed():
        return
    ActionAuthenticatorMixin._authenticate_and_authorize_action = (  # type: ignore[method-assign]
        _authenticate_and_authorize_action
    )
    setattr(ActionAuthenticatorMixin, _PATCHED, True)
