"""Reading one stack's configuration against the table of dials.

`build_config` is pure: raw values (as the Pulumi CLI passes them, or as a test writes them) in,
a validated `EnvironmentConfig` out, or one `ConfigError` listing every problem with its key,
value and what is allowed. `load_config` reads the running program's config and refuses a stack
of another environment before anything is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platform_core.config import DIALS, BillingMode, DatabaseEngine, EnvironmentConfig
from platform_core.dials import CONFIG_NAMESPACE, PROFILES, read_dials
from platform_core.environments import PROFILE_KEY
from platform_core.errors import ConfigError, StackMismatchError
from platform_core.naming import ResourceNames
from platform_core.organisation import Organisation, find_organisation

__all__ = ["build_config", "check_stack_name", "config_keys", "load_config", "settings_of"]

_PROFILE_CONFIG_KEY = f"{CONFIG_NAMESPACE}:{PROFILE_KEY}"


def config_keys() -> tuple[str, ...]:
    """Every key a stack file may set: the dials, and the choice of defaults."""
    return (*(dial.config_key for dial in DIALS.values()), _PROFILE_CONFIG_KEY)


def _normalised(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Keys as stack files spell them: `platform:` may be left out (tests, tools)."""
    return {key if ":" in key else f"{CONFIG_NAMESPACE}:{key}": value for key, value in raw.items()}


def _profile(environment: str, raw: Mapping[str, Any], problems: list[str]) -> str:
    value = raw.get(_PROFILE_CONFIG_KEY)
    if value is None and environment in PROFILES:
        return environment
    allowed = ", ".join(f"'{profile}'" for profile in PROFILES)
    if value is None:
        problems.append(
            f"environment '{environment}' has no defaults of its own: set {_PROFILE_CONFIG_KEY} "
            f"in Pulumi.{environment}.yaml to the environment it resembles, one of {allowed}"
        )
    elif str(value).strip() not in PROFILES:
        problems.append(f"{_PROFILE_CONFIG_KEY} = {value!r}: must be one of {allowed}")
    else:
        return str(value).strip()
    return PROFILES[0]


def _capacity_problems(
    values: Mapping[str, Any], raw: Mapping[str, Any], profile: str
) -> list[str]:
    """Settings that are each valid but do not fit together."""
    min_dial, max_dial = DIALS["dynamodb_min_capacity"], DIALS["dynamodb_max_capacity"]
    cap_dial, billing = DIALS["dynamodb_on_demand_max_units"], DIALS["dynamodb_billing_mode"]
    problems = []
    provisioned = values.get("dynamodb_billing_mode") is BillingMode.PROVISIONED
    cap = values.get("dynamodb_on_demand_max_units")
    only_on_demand = (
        f"only applies with {billing.config_key} PAY_PER_REQUEST; PROVISIONED tables are capped "
        f"by {max_dial.config_key}"
    )
    if provisioned and cap is not None and cap_dial.config_key in raw:
        problems.append(f"{cap_dial.config_key} = {raw[cap_dial.config_key]!r}: {only_on_demand}")
    elif provisioned and cap is not None:
        problems.append(
            f"{cap_dial.config_key} is not set, so it takes the {profile} default {cap}, which "
            f"{only_on_demand}: set `{cap_dial.config_key}: none` next to "
            f"`{billing.config_key}: PROVISIONED`"
        )
    low, high = values.get("dynamodb_min_capacity"), values.get("dynamodb_max_capacity")
    if provisioned and low is not None and high is not None and low > high:
        problems.append(
            f"{min_dial.config_key} = {low} is above {max_dial.config_key} = {high}: the minimum "
            "must not exceed the maximum"
        )
    return problems


def build_config(
    environment: str, raw: Mapping[str, Any], organisation: Organisation
) -> EnvironmentConfig:
    """Validate ``raw`` (config key -> value) over the defaults ``environment`` takes."""
    raw = _normalised(raw)
    problems: list[str] = []
    profile = _profile(environment, raw, problems)
    values, dial_problems = read_dials(DIALS, raw, profile, other_keys=[_PROFILE_CONFIG_KEY])
    problems += dial_problems
    problems += _capacity_problems(values, raw, profile)
    names = None
    if "region" in values and "environment_suffix" in values:
        names = ResourceNames.derive(
            environment, values["region"], values["environment_suffix"], organisation
        )
        suffix = values["environment_suffix"]
        source = f"{DIALS['environment_suffix'].config_key} = {suffix!r}" if suffix else "name"
        with_database = values.get("database", DatabaseEngine.NONE) is not DatabaseEngine.NONE
        instances = values.get("database_instance_count", 1) if with_database else 0
        problems += [f"{source}: {problem}" for problem in names.problems(instances)]
    if problems or names is None:
        raise ConfigError(f"environment '{environment}'", problems)
    return EnvironmentConfig(environment=environment, profile=profile, names=names, **values)


def check_stack_name(environment: str, stack: str, suffix: str | None) -> None:
    """The stack must be the directory's environment (or `<env>-<suffix>` for a copy)."""
    allowed = [environment] + ([f"{environment}-{suffix}"] if suffix else [])
    if stack not in allowed:
        raise StackMismatchError(
            f"stack '{stack}' cannot deploy the '{environment}' program: this directory deploys "
            f"only the stack {' or '.join(repr(name) for name in allowed)}. Select it with "
            f"`pulumi stack select {environment}` (a copy with `platform:environmentSuffix: <s>` "
            f"is deployed as stack '{environment}-<s>')."
        )


def settings_of(stack_config: Mapping[str, Any]) -> dict[str, Any]:
    """What this table reads of a stack's config: every ``platform:`` key (so a misspelt one is
    reported, not ignored) and the dials of other namespaces (``aws:region``)."""
    return {
        key: value
        for key, value in stack_config.items()
        if key.startswith(f"{CONFIG_NAMESPACE}:") or key in config_keys()
    }


def _engine_config() -> dict[str, Any]:
    """The running stack's config, as the Pulumi engine passed it."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def load_config(environment: str | None = None) -> EnvironmentConfig:
    """Read and validate the selected stack's config; refuse a stack of another environment.

    The environment is the project directory's name (``stacks/<env>``) unless given.
    """
    import pulumi

    # The project directory (Pulumi.yaml); older CLIs run the program there without saying so.
    project_dir = Path(pulumi.get_root_directory() or Path.cwd())
    environment = environment or project_dir.name
    organisation = find_organisation(project_dir)
    config = build_config(environment, settings_of(_engine_config()), organisation)
    check_stack_name(environment, pulumi.get_stack(), config.environment_suffix)
    return config
