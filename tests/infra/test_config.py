"""The configuration schema: SPEC §2 defaults, overrides, and clear errors for bad values (R-5)."""

from __future__ import annotations

import ipaddress

import pytest

from platform_core.config import (
    PRODUCTION_AUTOSCALING,
    PRODUCTION_RESERVED_CONCURRENCY,
    AlarmProfile,
    AutoscalingRange,
    BillingMode,
    EgressMode,
    build_config,
    check_stack_name,
)
from platform_core.errors import ConfigError, StackMismatchError

TAGS = {"team": "trading-platform", "costCenter": "cc-1"}

# SPEC §2, row by row: (attribute, dev, staging, production).
SPEC_TABLE = [
    ("lambda_memory_mb", 512, 1024, 2048),
    ("log_retention_days", 7, 30, 90),
    ("xray_tracing", False, True, True),
    ("dynamodb_billing_mode", BillingMode.PAY_PER_REQUEST, BillingMode.PAY_PER_REQUEST,
     BillingMode.PROVISIONED),
    ("point_in_time_recovery", False, False, True),
    ("s3_versioning", False, False, True),
    ("archive_glacier_after_days", None, None, 90),
    ("alarm_profile", AlarmProfile.NONE, AlarmProfile.RELAXED, AlarmProfile.STRICT),
    ("vpc_cidr", ipaddress.IPv4Network("10.2.0.0/16"), ipaddress.IPv4Network("10.1.0.0/16"),
     ipaddress.IPv4Network("10.0.0.0/16")),
    ("region", "us-east-1", "us-east-1", "us-east-1"),
    ("reserved_concurrency", None, 50, 100),
    ("dynamodb_on_demand_max_units", None, 50, None),
    ("dynamodb_autoscaling", None, None, AutoscalingRange(5, 100, 70)),
    ("egress_mode", EgressMode.NONE, EgressMode.NONE, EgressMode.NONE),
    ("archive_force_destroy", True, True, False),
]  # fmt: skip


@pytest.mark.parametrize(("attribute", "dev", "staging", "production"), SPEC_TABLE)
def test_defaults_follow_the_spec_table(attribute, dev, staging, production):
    actual = [
        getattr(build_config(env, TAGS), attribute) for env in ("dev", "staging", "production")
    ]
    assert actual == [dev, staging, production]


def test_staging_capacity_is_half_of_production_defaults():
    staging = build_config("staging", TAGS)
    assert staging.reserved_concurrency == PRODUCTION_RESERVED_CONCURRENCY // 2
    assert staging.dynamodb_on_demand_max_units == PRODUCTION_AUTOSCALING.max_units // 2


def test_overrides_are_typed_from_engine_strings():
    config = build_config(
        "dev",
        {
            **TAGS,
            "platform:lambdaMemoryMb": "768",
            "platform:xrayTracing": "true",
            "platform:reservedConcurrency": "7",
            "platform:allowedAccountIds": '["111111111111"]',
            "platform:egressMode": "nat-instance",
            "aws:region": "eu-west-1",
        },
    )
    assert config.lambda_memory_mb == 768
    assert config.xray_tracing is True
    assert config.reserved_concurrency == 7
    assert config.allowed_account_ids == ("111111111111",)
    assert config.egress_mode is EgressMode.NAT_INSTANCE
    assert config.names.function == "dev-trading-processor-eu-west-1"


def test_reserved_concurrency_can_be_switched_off():
    assert (
        build_config("production", {**TAGS, "reservedConcurrency": "none"}).reserved_concurrency
        is None
    )


def test_provisioned_billing_in_dev_uses_the_autoscaling_range():
    config = build_config(
        "dev", {**TAGS, "dynamodbBillingMode": "PROVISIONED", "dynamodbMaxCapacity": "20"}
    )
    assert config.dynamodb_autoscaling == AutoscalingRange(5, 20, 70)
    assert config.dynamodb_on_demand_max_units is None


def test_suffix_is_appended_to_every_name():
    names = build_config("dev", {**TAGS, "environmentSuffix": "pr-42"}).names
    assert names.archive_bucket == "dev-trading-archive-us-east-1-pr-42"
    assert names.function == "dev-trading-processor-us-east-1-pr-42"
    assert names.log_group == "/aws/lambda/dev-trading-processor-us-east-1-pr-42"


BAD_VALUES = [
    ("lambdaMemoryMb", "100", "platform:lambdaMemoryMb = '100': must be an integer from 128 to 10240 (MB)"),
    ("lambdaMemoryMb", "12000", "platform:lambdaMemoryMb = '12000': must be an integer from 128 to 10240 (MB)"),
    ("lambdaMemoryMb", "1.5", "platform:lambdaMemoryMb = '1.5': must be an integer from 128 to 10240 (MB)"),
    ("logRetentionDays", "8", "platform:logRetentionDays = '8': must be one of CloudWatch's retention periods 1, 3, 5, 7, 14, 30"),
    ("vpcCidr", "10.0.0.0/33", "platform:vpcCidr = '10.0.0.0/33': must be an IPv4 network in CIDR notation with a prefix from /16 to /24"),
    ("vpcCidr", "10.0.0.0/8", "platform:vpcCidr = '10.0.0.0/8': must be an IPv4 network in CIDR notation with a prefix from /16 to /24"),
    ("dynamodbMinCapacity", "0", "platform:dynamodbMinCapacity = '0': must be an integer from 1 to 40000 (capacity units)"),
    ("dynamodbBillingMode", "ON_DEMAND", "platform:dynamodbBillingMode = 'ON_DEMAND': must be one of 'PAY_PER_REQUEST', 'PROVISIONED'"),
    ("xrayTracing", "yes", "platform:xrayTracing = 'yes': must be true or false"),
    ("reservedConcurrency", "-5", "platform:reservedConcurrency = '-5': must be an integer from 1 to 10000, or 'none' to leave it unset"),
    ("egressMode", "nat", "platform:egressMode = 'nat': must be one of 'none', 'nat-gateway', 'nat-instance'"),
    ("allowedAccountIds", "12345", "platform:allowedAccountIds = '12345': must be a list of 12-digit AWS account ids"),
    ("environmentSuffix", "PR_1", "platform:environmentSuffix = 'PR_1': must be lowercase letters, digits or '-'"),
    ("asyncMaxRetryAttempts", "3", "platform:asyncMaxRetryAttempts = '3': must be an integer from 0 to 2"),
    ("lambdaMemory", "512", "platform:lambdaMemory = '512': unknown key, did you mean 'platform:lambdaMemoryMb'?"),
    ("aws:region", "US-EAST-1", "aws:region = 'US-EAST-1': must be an AWS region code such as 'us-east-1'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "message"), BAD_VALUES, ids=[f"{key}={value}" for key, value, _ in BAD_VALUES]
)
def test_bad_value_is_named_with_what_is_allowed(key, value, message):
    with pytest.raises(ConfigError) as raised:
        build_config("staging", {**TAGS, key: value})
    assert message in str(raised.value)
    assert str(raised.value).startswith("invalid configuration for environment 'staging':")


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        build_config("dev", {"team": "t", "lambdaMemoryMb": "100", "logRetentionDays": "8"})
    assert len(raised.value.problems) == 3  # costCenter missing, memory, retention
    assert "platform:costCenter is required" in str(raised.value)


def test_suffix_that_makes_a_bucket_name_too_long_fails_at_config_time():
    suffix = "feature-with-a-rather-long-name"
    with pytest.raises(ConfigError) as raised:
        build_config("production", {**TAGS, "environmentSuffix": suffix})
    bucket = f"production-trading-archive-us-east-1-{suffix}"
    assert (
        f"platform:environmentSuffix = '{suffix}': S3 bucket name '{bucket}' is "
        f"{len(bucket)} characters long; AWS allows at most 63"
    ) in str(raised.value)
    assert "Lambda function name" in str(raised.value)


def test_min_capacity_above_max_is_rejected():
    with pytest.raises(ConfigError, match="dynamodbMinCapacity = 50 is above"):
        build_config(
            "production", {**TAGS, "dynamodbMinCapacity": "50", "dynamodbMaxCapacity": "10"}
        )


def test_on_demand_ceiling_with_provisioned_billing_is_rejected():
    with pytest.raises(ConfigError, match="only applies with dynamodbBillingMode PAY_PER_REQUEST"):
        build_config("production", {**TAGS, "dynamodbOnDemandMaxUnits": "10"})


def test_unknown_environment_lists_the_allowed_ones():
    with pytest.raises(
        ConfigError, match="unknown environment 'qa': allowed are dev, staging, production"
    ):
        build_config("qa", TAGS)


@pytest.mark.parametrize(
    ("environment", "stack", "suffix"),
    [("dev", "dev", None), ("production", "production", None), ("dev", "dev-pr-7", "pr-7")],
)
def test_stack_guard_accepts_its_own_stack(environment, stack, suffix):
    check_stack_name(environment, stack, suffix)


@pytest.mark.parametrize(
    ("environment", "stack", "suffix"),
    [("production", "dev", None), ("dev", "dev-pr-7", None), ("dev", "staging-pr-7", "pr-7")],
)
def test_stack_guard_refuses_another_environment(environment, stack, suffix):
    with pytest.raises(StackMismatchError) as raised:
        check_stack_name(environment, stack, suffix)
    assert f"stack '{stack}' cannot deploy the '{environment}' program" in str(raised.value)
