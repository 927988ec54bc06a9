"""The configuration: the documented defaults, every valid spelling, clear errors for bad values.

Expected values are written out by hand from the documented defaults (README's settings table),
never computed with the code's own formulas, so a wrong default or a wrong derivation fails here.
"""

from __future__ import annotations

import ipaddress

import pytest

from platform_core.config import AlarmProfile, AutoscalingRange, BillingMode, EgressMode
from platform_core.errors import ConfigError, StackMismatchError
from platform_core.loading import build_config, check_stack_name
from platform_core.organisation import Organisation

ORG = Organisation("acme")
TAGS = {"team": "trading-platform", "costCenter": "cc-1"}


def config(environment: str, **settings: object):
    return build_config(environment, {**TAGS, **settings}, ORG)


# The documented defaults, row by row: (attribute, dev, staging, production).
SPECIFIED = [
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
    ("buckets_force_destroy", True, True, False),
    ("lambda_timeout_seconds", 60, 60, 60),
    ("async_max_retry_attempts", 2, 2, 2),
    ("async_max_event_age_seconds", 3600, 3600, 3600),
]  # fmt: skip


@pytest.mark.parametrize(("attribute", "dev", "staging", "production"), SPECIFIED)
def test_defaults_follow_the_specified_table(attribute, dev, staging, production):
    actual = [getattr(config(env), attribute) for env in ("dev", "staging", "production")]
    assert actual == [dev, staging, production]


def test_staging_follows_productions_defaults_not_its_stack_file():
    # Staging's derived defaults come from production's *defaults*: another stack's file
    # cannot change them, and staging's own override wins.
    assert config("staging", reservedConcurrency="7").reserved_concurrency == 7
    assert config("staging", dynamodbMaxCapacity="40").dynamodb_on_demand_max_units == 50


# Valid explicit values of every kind: (key, raw value as the CLI passes it, attribute, typed).
VALID = [
    ("lambdaMemoryMb", "128", "lambda_memory_mb", 128),
    ("lambdaMemoryMb", "10240", "lambda_memory_mb", 10240),
    ("lambdaMemoryMb", 768, "lambda_memory_mb", 768),
    ("lambdaTimeoutSeconds", "900", "lambda_timeout_seconds", 900),
    ("logRetentionDays", "14", "log_retention_days", 14),
    ("logRetentionDays", "3653", "log_retention_days", 3653),
    ("xrayTracing", "false", "xray_tracing", False),
    ("xrayTracing", "true", "xray_tracing", True),
    ("xrayTracing", False, "xray_tracing", False),
    ("pointInTimeRecovery", "true", "point_in_time_recovery", True),
    ("reservedConcurrency", "none", "reserved_concurrency", None),
    ("reservedConcurrency", "1", "reserved_concurrency", 1),
    ("vpcCidr", "10.9.0.0/24", "vpc_cidr", ipaddress.IPv4Network("10.9.0.0/24")),
    ("vpcCidr", "172.16.0.0/16", "vpc_cidr", ipaddress.IPv4Network("172.16.0.0/16")),
    ("environmentSuffix", "none", "environment_suffix", None),
    ("environmentSuffix", "pr-7", "environment_suffix", "pr-7"),
    ("allowedAccountIds", '["111111111111"]', "allowed_account_ids", ("111111111111",)),
    ("allowedAccountIds", ["111111111111", "222222222222"], "allowed_account_ids",
     ("111111111111", "222222222222")),
    ("allowedAccountIds", "111111111111, 222222222222", "allowed_account_ids",
     ("111111111111", "222222222222")),
    ("egressMode", "nat-instance", "egress_mode", EgressMode.NAT_INSTANCE),
    ("alarmProfile", "strict", "alarm_profile", AlarmProfile.STRICT),
    ("archiveGlacierAfterDays", "30", "archive_glacier_after_days", 30),
    ("asyncMaxRetryAttempts", "0", "async_max_retry_attempts", 0),
    ("asyncMaxEventAgeSeconds", "21600", "async_max_event_age_seconds", 21600),
    ("availabilityZoneCount", "3", "availability_zone_count", 3),
    ("aws:region", "eu-west-1", "region", "eu-west-1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "raw", "attribute", "expected"), VALID, ids=[f"{k}={r!r}" for k, r, _, _ in VALID]
)
def test_valid_explicit_values_are_typed(key, raw, attribute, expected):
    assert getattr(config("dev", **{key: raw}), attribute) == expected


def test_overrides_with_the_namespace_spelled_out():
    built = build_config("dev", {**TAGS, "platform:lambdaMemoryMb": "768"}, ORG)
    assert built.lambda_memory_mb == 768


def test_provisioned_billing_in_dev_uses_the_autoscaling_range():
    built = config("dev", dynamodbBillingMode="PROVISIONED", dynamodbMaxCapacity="20")
    assert built.dynamodb_autoscaling == AutoscalingRange(5, 20, 70)


def test_suffix_and_organisation_shape_every_name():
    names = config("dev", environmentSuffix="pr-42").names
    assert names.archive_bucket == "acme-dev-trading-archive-us-east-1-pr-42"
    assert names.ingest_bucket == "acme-dev-trading-ingest-us-east-1-pr-42"
    assert names.function == "dev-trading-processor-us-east-1-pr-42"
    assert names.table == "dev-trading-analytics-us-east-1-pr-42"
    assert names.log_group == "/aws/lambda/dev-trading-processor-us-east-1-pr-42"


FULL_WIDTH_512 = "\uff15\uff11\uff12"
BAD_VALUES = [
    ("lambdaMemoryMb", "100", "platform:lambdaMemoryMb = '100': must be an integer from 128 to 10240 (MB)"),
    ("lambdaMemoryMb", "12000", "platform:lambdaMemoryMb = '12000': must be an integer from 128 to 10240 (MB)"),
    ("lambdaMemoryMb", "1.5", "platform:lambdaMemoryMb = '1.5': must be an integer from 128 to 10240 (MB)"),
    ("lambdaMemoryMb", FULL_WIDTH_512, f"platform:lambdaMemoryMb = '{FULL_WIDTH_512}': must be an integer from 128 to 10240 (MB)"),
    ("lambdaMemoryMb", "1_024", "platform:lambdaMemoryMb = '1_024': must be an integer from 128 to 10240 (MB)"),
    ("lambdaMemoryMb", True, "platform:lambdaMemoryMb = True: must be an integer from 128 to 10240 (MB)"),
    ("logRetentionDays", "8", "platform:logRetentionDays = '8': must be one of CloudWatch's retention periods 1, 3, 5, 7, 14, 30"),
    ("vpcCidr", "10.0.0.0/33", "platform:vpcCidr = '10.0.0.0/33': must be a private IPv4 network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) in CIDR notation with a prefix from /16 to /24"),
    ("vpcCidr", "10.0.0.0/8", "platform:vpcCidr = '10.0.0.0/8': must be a private IPv4 network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) in CIDR notation with a prefix from /16 to /24"),
    ("vpcCidr", "10.0.0.0/25", "platform:vpcCidr = '10.0.0.0/25': must be a private IPv4 network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) in CIDR notation with a prefix from /16 to /24"),
    ("dynamodbMinCapacity", "0", "platform:dynamodbMinCapacity = '0': must be an integer from 1 to 40000 (capacity units)"),
    ("dynamodbBillingMode", "ON_DEMAND", "platform:dynamodbBillingMode = 'ON_DEMAND': must be one of 'PAY_PER_REQUEST', 'PROVISIONED'"),
    ("xrayTracing", "yes", "platform:xrayTracing = 'yes': must be true or false"),
    ("xrayTracing", "no", "platform:xrayTracing = 'no': must be true or false"),
    ("xrayTracing", "True", "platform:xrayTracing = 'True': must be true or false"),
    ("xrayTracing", "1", "platform:xrayTracing = '1': must be true or false"),
    ("reservedConcurrency", "-5", "platform:reservedConcurrency = '-5': must be an integer from 1 to 10000, or 'none' to leave it unset"),
    ("egressMode", "nat", "platform:egressMode = 'nat': must be one of 'none', 'nat-gateway', 'nat-instance'"),
    ("allowedAccountIds", "12345", "platform:allowedAccountIds = '12345': must be a list of 12-digit AWS account ids"),
    ("allowedAccountIds", '{"a": "111111111111"}', """platform:allowedAccountIds = '{"a": "111111111111"}': must be a list of 12-digit AWS account ids"""),
    ("environmentSuffix", "PR_1", "platform:environmentSuffix = 'PR_1': must be lowercase letters, digits or '-'"),
    ("asyncMaxRetryAttempts", "3", "platform:asyncMaxRetryAttempts = '3': must be an integer from 0 to 2"),
    ("asyncMaxEventAgeSeconds", "21601", "platform:asyncMaxEventAgeSeconds = '21601': must be an integer from 60 to 21600 (seconds)"),
    ("lambdaMemory", "512", "platform:lambdaMemory = '512': unknown key, did you mean 'platform:lambdaMemoryMb'?"),
    ("aws:region", "US-EAST-1", "aws:region = 'US-EAST-1': must be an AWS region of the standard partition (ARNs `arn:aws:`), one of af-south-1,"),
    ("aws:region", "us-east-9", "aws:region = 'us-east-9': must be an AWS region of the standard partition"),
    ("vpcCidr", "8.8.0.0/16", "platform:vpcCidr = '8.8.0.0/16': must be a private IPv4 network"),
    ("allowedAccountIds", [], "platform:allowedAccountIds = []: must be a list of at least one account id"),
    ("fooBar", "1", "platform:fooBar = '1': unknown key, it is not a known setting"),
    ("team", "", "platform:team = '': must be 1-256 characters"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "message"),
    BAD_VALUES,
    ids=[f"{key}={value!r}" for key, value, _ in BAD_VALUES],
)
def test_bad_value_is_named_with_what_is_allowed(key, value, message):
    with pytest.raises(ConfigError) as raised:
        config("staging", **{key: value})
    assert message in str(raised.value)
    assert str(raised.value).startswith("invalid configuration for environment 'staging':")


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        build_config("dev", {"team": "t", "lambdaMemoryMb": "100", "logRetentionDays": "8"}, ORG)
    assert len(raised.value.problems) == 3
    assert "platform:costCenter is required" in str(raised.value)


def test_a_name_too_long_fails_at_config_time_naming_its_cause():
    suffix = "feature-with-a-rather-long-name"
    with pytest.raises(ConfigError) as raised:
        config("production", environmentSuffix=suffix)
    bucket = f"acme-production-trading-archive-us-east-1-{suffix}"
    assert (
        f"platform:environmentSuffix = '{suffix}': S3 bucket name '{bucket}' is "
        f"{len(bucket)} characters long; AWS allows at most 63"
    ) in str(raised.value)
    assert "Lambda function name" in str(raised.value)


def test_a_long_organisation_prefix_is_caught_through_the_bucket_names():
    with pytest.raises(ConfigError, match="S3 bucket name 'a-very-long-organisation-xy-prod"):
        build_config("production", TAGS, Organisation("a-very-long-organisation-xy"))


def test_min_capacity_above_max_is_rejected():
    with pytest.raises(ConfigError, match="dynamodbMinCapacity = 50 is above"):
        config("production", dynamodbMinCapacity="50", dynamodbMaxCapacity="10")


def test_on_demand_ceiling_with_provisioned_billing_is_rejected():
    with pytest.raises(ConfigError, match="only applies with platform:dynamodbBillingMode"):
        config("production", dynamodbOnDemandMaxUnits="10")


def test_a_new_environment_takes_the_defaults_it_names():
    qa = config("qa", defaults="staging")
    assert (qa.profile, qa.lambda_memory_mb, qa.reserved_concurrency) == ("staging", 1024, 50)
    assert qa.names.function == "qa-trading-processor-us-east-1"


def test_a_new_environment_without_defaults_is_told_what_to_set():
    with pytest.raises(ConfigError) as raised:
        config("qa")
    assert (
        "environment 'qa' has no defaults of its own: set platform:defaults in Pulumi.qa.yaml "
        "to the environment it resembles, one of 'dev', 'staging', 'production'"
    ) in str(raised.value)


def test_unknown_defaults_are_refused():
    with pytest.raises(ConfigError, match="platform:defaults = 'prod': must be one of 'dev'"):
        config("qa", defaults="prod")


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


def test_a_setting_that_is_a_secret_says_settings_cannot_be():
    with pytest.raises(ConfigError) as raised:
        config("staging", lambdaMemoryMb='{"secure":"v1:abc"}')
    assert raised.value.problems == [
        "platform:lambdaMemoryMb is a secret: settings cannot be secrets (they name, size and tag "
        "resources, and show in every plan); set it as plain text, with `pulumi config set` "
        "without --secret"
    ]


def test_provisioned_staging_names_the_on_demand_cap_it_did_not_set():
    # Staging's default cap (50, half of production's 100) only fits an on-demand table.
    with pytest.raises(ConfigError) as raised:
        config("staging", dynamodbBillingMode="PROVISIONED")
    assert raised.value.problems == [
        "platform:dynamodbOnDemandMaxUnits is not set, so it takes the staging default 50, which "
        "only applies with platform:dynamodbBillingMode PAY_PER_REQUEST; PROVISIONED tables are "
        "capped by platform:dynamodbMaxCapacity: set `platform:dynamodbOnDemandMaxUnits: none` "
        "next to `platform:dynamodbBillingMode: PROVISIONED`"
    ]
    assert (
        config(
            "staging", dynamodbBillingMode="PROVISIONED", dynamodbOnDemandMaxUnits="none"
        ).dynamodb_autoscaling
        is not None
    )
