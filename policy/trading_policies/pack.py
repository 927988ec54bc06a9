"""The policies of the pack, with their names and enforcement levels (all mandatory: each one
guards a requirement of the platform, and a violation must stop the deployment)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from trading_policies import resource_rules, stack_rules

__all__ = ["PACK_NAME", "POLICIES", "policy_named"]

PACK_NAME = "trading-analytics-safety-rails"
MANDATORY = EnforcementLevel.MANDATORY

POLICIES: tuple[Policy, ...] = (
    ResourceValidationPolicy(
        name="lambda-arm64",
        description="Lambda functions run on arm64 (Graviton) in every environment.",
        validate=resource_rules.check_arm64_lambda,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="log-group-retention",
        description="Every CloudWatch log group sets a retention period.",
        validate=resource_rules.check_log_retention,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="lambda-log-group-exists",
        description="Each Lambda function's log group is managed by the stack and created "
        "before the function.",
        validate=stack_rules.check_lambda_log_groups,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="s3-encrypted-and-private",
        description="Every S3 bucket has default encryption and all four public-access " "blocks.",
        validate=stack_rules.check_buckets_encrypted_and_private,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="iam-no-wildcard-actions",
        description="IAM and resource policies allow exact actions only.",
        validate=resource_rules.check_no_wildcard_actions,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="mandatory-tags",
        description="Every taggable resource carries Environment, ManagedBy, Project, Team and "
        "CostCenter, counting the provider's default tags.",
        validate=resource_rules.check_mandatory_tags,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="destroyable-non-production",
        description="Outside production nothing is protected, retained on delete or "
        "deletion-protected, buckets can be emptied by destroy, and databases leave no final "
        "snapshot behind.",
        validate=resource_rules.check_destroyable_outside_production,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="rds-encrypted-and-private",
        description="Databases encrypt their storage and are not publicly accessible.",
        validate=resource_rules.check_rds_encrypted_and_private,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="dynamodb-encryption",
        description="DynamoDB tables enable server-side encryption.",
        validate=resource_rules.check_dynamodb_encryption,
        enforcement_level=MANDATORY,
    ),
)


def policy_named(name: str) -> Policy:
    """The pack's policy called `name`."""
    return next(policy for policy in POLICIES if policy.name == name)
