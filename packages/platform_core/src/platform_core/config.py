"""Typed, validated configuration of one environment (R-5) and the defaults table of SPEC §2.

Every setting has a default per environment in `DEFAULTS`, which `Pulumi.<env>.yaml` may override
under the `platform:` namespace. `build_config` is pure (table-driven tests need no Pulumi);
`load_config` reads the Pulumi config and guards the stack name (R-2) before anything is
registered, so a bad value fails `pulumi preview` with one message listing every problem.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from platform_core.errors import ConfigError, StackMismatchError
from platform_core.naming import ResourceNames
from platform_core.tagging import mandatory_tags
from processor.contract import MAX_EVENT_AGE_S

__all__ = [
    "ALARM_THRESHOLDS",
    "CONFIG_NAMESPACE",
    "DEFAULTS",
    "ENVIRONMENTS",
    "PRODUCTION_AUTOSCALING",
    "PRODUCTION_RESERVED_CONCURRENCY",
    "AlarmProfile",
    "AlarmThresholds",
    "AutoscalingRange",
    "BillingMode",
    "EgressMode",
    "EnvironmentConfig",
    "build_config",
    "check_stack_name",
    "load_config",
]

ENVIRONMENTS = ("dev", "staging", "production")
CONFIG_NAMESPACE = "platform"
DEFAULT_REGION = "us-east-1"
LAMBDA_RUNTIME = "python3.13"


class BillingMode(StrEnum):
    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


class EgressMode(StrEnum):
    """How the function's subnets reach the internet; S3 and DynamoDB never need it."""

    NONE = "none"
    NAT_GATEWAY = "nat-gateway"
    NAT_INSTANCE = "nat-instance"


class AlarmProfile(StrEnum):
    NONE = "none"
    RELAXED = "relaxed"
    STRICT = "strict"


@dataclass(frozen=True)
class AutoscalingRange:
    """Target-tracking range of provisioned read and write capacity units."""

    min_units: int
    max_units: int
    target_utilization_percent: int


@dataclass(frozen=True)
class AlarmThresholds:
    """An alarm fires when a metric reaches its threshold in `evaluation_periods` periods."""

    period_seconds: int
    evaluation_periods: int
    function_errors: int
    function_throttles: int
    duration_percent_of_timeout: int
    table_throttle_events: int
    failed_events: int


# SPEC §2: one number each; staging's capacity defaults are derived from these.
PRODUCTION_RESERVED_CONCURRENCY = 100
PRODUCTION_AUTOSCALING = AutoscalingRange(min_units=5, max_units=100, target_utilization_percent=70)

ALARM_THRESHOLDS: Mapping[AlarmProfile, AlarmThresholds] = {
    AlarmProfile.RELAXED: AlarmThresholds(
        period_seconds=300,
        evaluation_periods=3,
        function_errors=10,
        function_throttles=20,
        duration_percent_of_timeout=90,
        table_throttle_events=50,
        failed_events=10,
    ),
    AlarmProfile.STRICT: AlarmThresholds(
        period_seconds=60,
        evaluation_periods=1,
        function_errors=1,
        function_throttles=1,
        duration_percent_of_timeout=75,
        table_throttle_events=1,
        failed_events=1,
    ),
}

# The defaults table of SPEC §2. Keys are the `platform:` config keys of Pulumi.<env>.yaml.
_COMMON: Mapping[str, object] = {
    "project": "trading-analytics",
    "environmentSuffix": None,
    "allowedAccountIds": (),
    "lambdaTimeoutSeconds": 60,
    "dynamodbBillingMode": BillingMode.PAY_PER_REQUEST,
    "dynamodbMinCapacity": PRODUCTION_AUTOSCALING.min_units,
    "dynamodbMaxCapacity": PRODUCTION_AUTOSCALING.max_units,
    "dynamodbTargetUtilization": PRODUCTION_AUTOSCALING.target_utilization_percent,
    "dynamodbOnDemandMaxUnits": None,
    "availabilityZoneCount": 2,
    "egressMode": EgressMode.NONE,
    "asyncMaxRetryAttempts": 2,
    "asyncMaxEventAgeSeconds": 3600,
}
DEFAULTS: Mapping[str, Mapping[str, object]] = {
    "dev": {
        **_COMMON,
        "lambdaMemoryMb": 512,
        "reservedConcurrency": None,
        "xrayTracing": False,
        "logRetentionDays": 7,
        "pointInTimeRecovery": False,
        "s3Versioning": False,
        "archiveGlacierAfterDays": None,
        "archiveForceDestroy": True,
        "alarmProfile": AlarmProfile.NONE,
        "vpcCidr": "10.2.0.0/16",
    },
    "staging": {
        **_COMMON,
        "lambdaMemoryMb": 1024,
        "reservedConcurrency": PRODUCTION_RESERVED_CONCURRENCY // 2,
        "xrayTracing": True,
        "logRetentionDays": 30,
        "dynamodbOnDemandMaxUnits": PRODUCTION_AUTOSCALING.max_units // 2,
        "pointInTimeRecovery": False,
        "s3Versioning": False,
        "archiveGlacierAfterDays": None,
        "archiveForceDestroy": True,
        "alarmProfile": AlarmProfile.RELAXED,
        "vpcCidr": "10.1.0.0/16",
    },
    "production": {
        **_COMMON,
        "lambdaMemoryMb": 2048,
        "reservedConcurrency": PRODUCTION_RESERVED_CONCURRENCY,
        "xrayTracing": True,
        "logRetentionDays": 90,
        "dynamodbBillingMode": BillingMode.PROVISIONED,
        "pointInTimeRecovery": True,
        "s3Versioning": True,
        "archiveGlacierAfterDays": 90,
        "archiveForceDestroy": False,
        "alarmProfile": AlarmProfile.STRICT,
        "vpcCidr": "10.0.0.0/16",
    },
}
REQUIRED_KEYS = ("team", "costCenter")


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between environments, validated; built by `build_config`."""

    environment: str
    region: str
    environment_suffix: str | None
    allowed_account_ids: tuple[str, ...]
    project: str
    team: str
    cost_center: str
    lambda_memory_mb: int
    lambda_timeout_seconds: int
    reserved_concurrency: int | None
    xray_tracing: bool
    log_retention_days: int
    dynamodb_billing_mode: BillingMode
    dynamodb_autoscaling: AutoscalingRange | None
    dynamodb_on_demand_max_units: int | None
    point_in_time_recovery: bool
    s3_versioning: bool
    archive_glacier_after_days: int | None
    archive_force_destroy: bool
    alarm_profile: AlarmProfile
    vpc_cidr: ipaddress.IPv4Network
    availability_zone_count: int
    egress_mode: EgressMode
    async_max_retry_attempts: int
    async_max_event_age_seconds: int
    names: ResourceNames

    @property
    def tags(self) -> Mapping[str, str]:
        return mandatory_tags(self.environment, self.project, self.team, self.cost_center)

    @property
    def alarm_thresholds(self) -> AlarmThresholds | None:
        return ALARM_THRESHOLDS.get(self.alarm_profile)

    @property
    def lambda_runtime(self) -> str:
        return LAMBDA_RUNTIME


# --- value parsers: each returns the typed value or raises ValueError("what is allowed") -------

Parser = Callable[[Any], Any]
_NONE_WORDS = frozenset({"none", "null", "unset", ""})
# CloudWatch Logs accepts exactly these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)  # fmt: skip


def _integer(low: int, high: int, unit: str = "") -> Parser:
    allowed = f"an integer from {low} to {high}{f' ({unit})' if unit else ''}"

    def parse(raw: Any) -> int:
        if isinstance(raw, bool) or not re.fullmatch(r"-?\d+", str(raw).strip()):
            raise ValueError(f"must be {allowed}")
        value = int(str(raw).strip())
        if not low <= value <= high:
            raise ValueError(f"must be {allowed}")
        return value

    return parse


def _optional(parser: Parser) -> Parser:
    def parse(raw: Any) -> Any:
        if raw is None or str(raw).strip().lower() in _NONE_WORDS:
            return None
        try:
            return parser(raw)
        except ValueError as error:
            raise ValueError(f"{error}, or 'none' to leave it unset") from None

    return parse


def _boolean(raw: Any) -> bool:
    text = str(raw).strip().lower()
    if text not in {"true", "false"}:
        raise ValueError("must be true or false")
    return text == "true"


def _choice(enum: type[StrEnum]) -> Parser:
    def parse(raw: Any) -> StrEnum:
        try:
            return enum(str(raw).strip())
        except ValueError:
            allowed = ", ".join(f"'{member.value}'" for member in enum)
            raise ValueError(f"must be one of {allowed}") from None

    return parse


def _retention(raw: Any) -> int:
    allowed = f"one of CloudWatch's retention periods {', '.join(map(str, LOG_RETENTION_DAYS))}"
    try:
        value: int = _integer(1, 3653)(raw)
    except ValueError:
        raise ValueError(f"must be {allowed}") from None
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be {allowed}")
    return value


def _vpc_cidr(raw: Any) -> ipaddress.IPv4Network:
    allowed = "an IPv4 network in CIDR notation with a prefix from /16 to /24, e.g. 10.0.0.0/16"
    try:
        network = ipaddress.IPv4Network(str(raw).strip(), strict=True)
    except ValueError:
        raise ValueError(f"must be {allowed}") from None
    if not 16 <= network.prefixlen <= 24:
        raise ValueError(f"must be {allowed}")
    return network


def _account_ids(raw: Any) -> tuple[str, ...]:
    allowed = 'a list of 12-digit AWS account ids, e.g. ["123456789012"]'
    if isinstance(raw, list | tuple):
        items = list(raw)
    else:
        text = str(raw).strip()
        try:
            items = json.loads(text) if text.startswith("[") else text.split(",")
        except json.JSONDecodeError:
            raise ValueError(f"must be {allowed}") from None
    ids = tuple(str(item).strip() for item in items if str(item).strip())
    if not all(re.fullmatch(r"\d{12}", account) for account in ids):
        raise ValueError(f"must be {allowed}")
    return ids


def _suffix(raw: Any) -> str | None:
    text = str(raw).strip()
    if text.lower() in _NONE_WORDS:
        return None
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", text):
        raise ValueError(
            "must be lowercase letters, digits or '-', starting and ending with a letter or "
            "digit (it becomes part of S3 bucket names)"
        )
    return text


def _tag_value(raw: Any) -> str:
    text = str(raw).strip()
    if not re.fullmatch(r"[\w .:/=+\-@]{1,256}", text):
        raise ValueError("must be 1-256 characters: letters, digits, spaces and _.:/=+-@")
    return text


def _region(raw: Any) -> str:
    text = str(raw).strip()
    if not re.fullmatch(r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d", text):
        raise ValueError("must be an AWS region code such as 'us-east-1'")
    return text


PARSERS: Mapping[str, Parser] = {
    "project": _tag_value,
    "team": _tag_value,
    "costCenter": _tag_value,
    "environmentSuffix": _suffix,
    "allowedAccountIds": _account_ids,
    "lambdaMemoryMb": _integer(128, 10240, "MB"),
    "lambdaTimeoutSeconds": _integer(1, 900, "seconds"),
    "reservedConcurrency": _optional(_integer(1, 10000)),
    "xrayTracing": _boolean,
    "logRetentionDays": _retention,
    "dynamodbBillingMode": _choice(BillingMode),
    "dynamodbMinCapacity": _integer(1, 40000, "capacity units"),
    "dynamodbMaxCapacity": _integer(1, 40000, "capacity units"),
    "dynamodbTargetUtilization": _integer(20, 90, "percent"),
    "dynamodbOnDemandMaxUnits": _optional(_integer(1, 40000, "request units per second")),
    "pointInTimeRecovery": _boolean,
    "s3Versioning": _boolean,
    "archiveGlacierAfterDays": _optional(_integer(1, 36500, "days")),
    "archiveForceDestroy": _boolean,
    "alarmProfile": _choice(AlarmProfile),
    "vpcCidr": _vpc_cidr,
    "availabilityZoneCount": _integer(2, 6),
    "egressMode": _choice(EgressMode),
    "asyncMaxRetryAttempts": _integer(0, 2),
    "asyncMaxEventAgeSeconds": _integer(60, MAX_EVENT_AGE_S, "seconds"),
}
REGION_KEY = "aws:region"


def _key(name: str) -> str:
    return name if ":" in name else f"{CONFIG_NAMESPACE}:{name}"


def _parse_all(environment: str, raw: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    defaults = DEFAULTS[environment]
    for key, parser in PARSERS.items():
        if key in raw:
            try:
                values[key] = parser(raw[key])
            except ValueError as error:
                problems.append(f"{_key(key)} = {raw[key]!r}: {error}")
        elif key in defaults:
            values[key] = defaults[key]
        elif key in REQUIRED_KEYS:
            problems.append(
                f"{_key(key)} is required: set it in Pulumi.{environment}.yaml "
                "(a tag value of 1-256 characters)"
            )
    for key in raw:
        if key not in PARSERS:
            hint = difflib.get_close_matches(key, PARSERS, n=1)
            known = f"did you mean '{_key(hint[0])}'?" if hint else "it is not a known setting"
            problems.append(f"{_key(key)} = {raw[key]!r}: unknown key, {known}")
    return values


def _dynamodb_capacity(
    values: Mapping[str, Any], raw: Mapping[str, Any], problems: list[str]
) -> tuple[AutoscalingRange | None, int | None]:
    if values.get("dynamodbBillingMode") is not BillingMode.PROVISIONED:
        return None, values.get("dynamodbOnDemandMaxUnits")
    if raw.get("dynamodbOnDemandMaxUnits") not in (None, "none"):
        problems.append(
            f"{_key('dynamodbOnDemandMaxUnits')} = {raw['dynamodbOnDemandMaxUnits']!r}: only "
            f"applies with dynamodbBillingMode PAY_PER_REQUEST; PROVISIONED tables are capped by "
            f"{_key('dynamodbMaxCapacity')}"
        )
    low, high = values.get("dynamodbMinCapacity"), values.get("dynamodbMaxCapacity")
    target = values.get("dynamodbTargetUtilization")
    if low is None or high is None or target is None:
        return None, None
    if low > high:
        problems.append(
            f"{_key('dynamodbMinCapacity')} = {low} is above {_key('dynamodbMaxCapacity')} = "
            f"{high}: the minimum must not exceed the maximum"
        )
    return AutoscalingRange(low, high, target), None


def build_config(environment: str, raw: Mapping[str, Any]) -> EnvironmentConfig:
    """Validate `raw` (config key -> value, `platform:` prefix optional) over the defaults."""
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            environment,
            [f"unknown environment '{environment}': allowed are {', '.join(ENVIRONMENTS)}"],
        )
    raw = {key.removeprefix(f"{CONFIG_NAMESPACE}:"): value for key, value in raw.items()}
    problems: list[str] = []
    region_raw = raw.pop(REGION_KEY, DEFAULT_REGION)
    try:
        region = _region(region_raw)
    except ValueError as error:
        problems.append(f"{REGION_KEY} = {region_raw!r}: {error}")
        region = DEFAULT_REGION
    values = _parse_all(environment, raw, problems)
    autoscaling, on_demand_max = _dynamodb_capacity(values, raw, problems)
    names = ResourceNames.derive(environment, region, values.get("environmentSuffix"))
    for problem in names.problems():
        suffix = values.get("environmentSuffix")
        source = f"{_key('environmentSuffix')} = {suffix!r}" if suffix else REGION_KEY
        problems.append(f"{source}: {problem}")
    if problems:
        raise ConfigError(environment, problems)
    return EnvironmentConfig(
        environment=environment,
        region=region,
        environment_suffix=values["environmentSuffix"],
        allowed_account_ids=tuple(values["allowedAccountIds"]),
        project=values["project"],
        team=values["team"],
        cost_center=values["costCenter"],
        lambda_memory_mb=values["lambdaMemoryMb"],
        lambda_timeout_seconds=values["lambdaTimeoutSeconds"],
        reserved_concurrency=values["reservedConcurrency"],
        xray_tracing=values["xrayTracing"],
        log_retention_days=values["logRetentionDays"],
        dynamodb_billing_mode=values["dynamodbBillingMode"],
        dynamodb_autoscaling=autoscaling,
        dynamodb_on_demand_max_units=on_demand_max,
        point_in_time_recovery=values["pointInTimeRecovery"],
        s3_versioning=values["s3Versioning"],
        archive_glacier_after_days=values["archiveGlacierAfterDays"],
        archive_force_destroy=values["archiveForceDestroy"],
        alarm_profile=values["alarmProfile"],
        vpc_cidr=_vpc_cidr(values["vpcCidr"]),
        availability_zone_count=values["availabilityZoneCount"],
        egress_mode=values["egressMode"],
        async_max_retry_attempts=values["asyncMaxRetryAttempts"],
        async_max_event_age_seconds=values["asyncMaxEventAgeSeconds"],
        names=names,
    )


def check_stack_name(environment: str, stack: str, suffix: str | None) -> None:
    """R-2: the stack must be the directory's environment (or `<env>-<suffix>` for a copy)."""
    allowed = [environment] + ([f"{environment}-{suffix}"] if suffix else [])
    if stack not in allowed:
        raise StackMismatchError(
            f"stack '{stack}' cannot deploy the '{environment}' program: this directory deploys "
            f"only the stack {' or '.join(repr(name) for name in allowed)}. Select it with "
            f"`pulumi stack select {environment}` (a copy with `platform:environmentSuffix: <s>` "
            f"is deployed as stack '{environment}-<s>')."
        )


def _configured_values() -> dict[str, Any]:
    """The stack's config values under our namespaces, as the Pulumi engine passed them."""
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{CONFIG_NAMESPACE}:"
    values = {key: value for key, value in merged.items() if key.startswith(prefix)}
    region = runtime_config.get_config(REGION_KEY)
    if region is not None:
        values[REGION_KEY] = region
    return values


def load_config(environment: str) -> EnvironmentConfig:
    """Read and validate the selected stack's config; refuse a stack of another environment."""
    import pulumi

    config = build_config(environment, _configured_values())
    check_stack_name(environment, pulumi.get_stack(), config.environment_suffix)
    return config
