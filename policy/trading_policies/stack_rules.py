"""Stack validations: rules about how resources relate (a bucket and its encryption and
public-access resources, a function and its log group), which no single resource shows.

Resources are linked through the engine's dependency graph rather than property values:
during a first preview a new bucket's id is unknown, but the edge from its encryption
configuration to it is already there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs

from trading_policies.properties import known, label

__all__ = [
    "PUBLIC_ACCESS_FLAGS",
    "SSE_ALGORITHMS",
    "check_buckets_encrypted_and_private",
    "check_lambda_log_groups",
]

BUCKET = "aws:s3/bucket:Bucket"
SSE_CONFIGURATION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SSE_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _describe(resource: PolicyResource) -> str:
    return label(resource.resource_type, resource.name, resource.props)


def _bucket_of(resource: PolicyResource) -> str | None:
    """URN of the bucket a bucket-level resource configures (its `bucket` property's source)."""
    sources = resource.property_dependencies.get("bucket") or resource.dependencies
    buckets = [source.urn for source in sources if source.resource_type == BUCKET]
    return buckets[0] if len(buckets) == 1 else None


def _by_bucket(resources: Sequence[PolicyResource], type_: str) -> dict[str, list[PolicyResource]]:
    found: dict[str, list[PolicyResource]] = {}
    for resource in resources:
        if resource.resource_type == type_:
            bucket = _bucket_of(resource)
            if bucket is not None:
                found.setdefault(bucket, []).append(resource)
    return found


def _algorithms(rules: Any) -> set[str]:
    algorithms = set()
    for rule in rules or []:
        default = (
            known(rule, "applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
        )
        if isinstance(default, Mapping):
            algorithms.add(str(known(default, "sseAlgorithm")))
    return algorithms


def _encryption_problem(bucket: PolicyResource, configs: Sequence[PolicyResource]) -> str | None:
    # The deprecated inline configuration of the Bucket resource counts as well.
    inline = known(bucket.props, "serverSideEncryptionConfiguration")
    rules = [known(inline, "rule")] if isinstance(inline, Mapping) else []
    rules += [rule for config in configs for rule in (known(config.props, "rules") or [])]
    if not rules:
        return (
            "has no default encryption; required: a BucketServerSideEncryptionConfiguration "
            f"with sseAlgorithm one of {', '.join(sorted(SSE_ALGORITHMS))}"
        )
    algorithms = _algorithms(rules)
    if not algorithms or not algorithms <= SSE_ALGORITHMS:
        return (
            f"has default encryption with sseAlgorithm {sorted(algorithms)}; required: one of "
            f"{', '.join(sorted(SSE_ALGORITHMS))}"
        )
    return None


def _public_access_problem(blocks: Sequence[PolicyResource]) -> str | None:
    if not blocks:
        return (
            "has no BucketPublicAccessBlock; required: one with "
            f"{', '.join(PUBLIC_ACCESS_FLAGS)} all true"
        )
    off = sorted(
        {flag for b in blocks for flag in PUBLIC_ACCESS_FLAGS if known(b.props, flag) is not True}
    )
    if off:
        return (
            f"has a BucketPublicAccessBlock with {', '.join(off)} not true; required: "
            f"{', '.join(PUBLIC_ACCESS_FLAGS)} all true"
        )
    return None


def check_buckets_encrypted_and_private(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """Every bucket has default encryption and all four public-access blocks."""
    encryption = _by_bucket(args.resources, SSE_CONFIGURATION)
    public_access = _by_bucket(args.resources, PUBLIC_ACCESS_BLOCK)
    for bucket in args.resources:
        if bucket.resource_type != BUCKET:
            continue
        for problem in (
            _encryption_problem(bucket, encryption.get(bucket.urn, [])),
            _public_access_problem(public_access.get(bucket.urn, [])),
        ):
            if problem is not None:
                report_violation(f"{_describe(bucket)} {problem}", bucket.urn)


def check_lambda_log_groups(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """The function's log group is a managed resource that the function depends on.

    Otherwise Lambda creates `/aws/lambda/<name>` itself on the first invocation, with no
    retention and outside the stack, and `pulumi destroy` leaves it behind.
    """
    log_groups = {
        known(group.props, "name"): group
        for group in args.resources
        if group.resource_type == LOG_GROUP
    }
    for function in args.resources:
        if function.resource_type != LAMBDA_FUNCTION:
            continue
        logging = known(function.props, "loggingConfig")
        configured = known(logging, "logGroup") if isinstance(logging, Mapping) else None
        expected = configured or f"/aws/lambda/{known(function.props, 'name')}"
        group = log_groups.get(expected)
        if group is None:
            report_violation(
                f"{_describe(function)} logs to '{expected}', which this stack does not manage; "
                "required: an aws.cloudwatch.LogGroup of that name, created before the function",
                function.urn,
            )
        elif group.urn not in {dependency.urn for dependency in function.dependencies}:
            report_violation(
                f"{_describe(function)} does not depend on its log group '{expected}'; required: "
                "the function depends on the log group, so the group exists before any invocation",
                function.urn,
            )
