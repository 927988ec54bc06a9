"""Typed configuration of one environment's bootstrap, and every name derived from it.

The names are the contract with the environment stacks: the state bucket must be the one in
`stacks/<env>/Pulumi.yaml`'s `backend.url`, and the pipelines assume the roles named here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from platform_core.config import ENVIRONMENTS
from platform_core.errors import ConfigError
from platform_core.tagging import mandatory_tags

__all__ = [
    "CONFIG_NAMESPACE",
    "GITHUB_OIDC_AUDIENCE",
    "GITHUB_OIDC_HOST",
    "BootstrapConfig",
    "build_bootstrap_config",
    "load_bootstrap_config",
]

CONFIG_NAMESPACE = "bootstrap"
PROJECT = "trading-analytics"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
_GITHUB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{1,256}")


@dataclass(frozen=True)
class BootstrapConfig:
    """One environment's bootstrap settings; the properties are the names other code relies on."""

    environment: str
    region: str
    account_id: str
    github_organization: str
    github_repository: str
    team: str
    cost_center: str
    create_oidc_provider: bool

    @property
    def state_bucket(self) -> str:
        return f"{PROJECT}-pulumi-state-{self.environment}"

    @property
    def backend_url(self) -> str:
        """Exactly the `backend.url` of `stacks/<env>/Pulumi.yaml`."""
        return f"s3://{self.state_bucket}?region={self.region}&awssdk=v2"

    @property
    def kms_alias(self) -> str:
        return f"alias/{PROJECT}-pulumi-{self.environment}"

    @property
    def secrets_provider(self) -> str:
        """What `pulumi stack init <env> --secrets-provider` takes."""
        return f"awskms://{self.kms_alias}?region={self.region}"

    @property
    def resource_prefix(self) -> str:
        """Every physical name of the environment's stack starts with this (platform_core)."""
        return f"{self.environment}-trading-"

    @property
    def deploy_role_name(self) -> str:
        # Outside `<env>-trading-*` on purpose: the deploy role manages roles of that prefix
        # and must not be able to rewrite its own permissions.
        return f"{self.environment}-pulumi-deploy"

    @property
    def preview_role_name(self) -> str:
        return f"{self.environment}-pulumi-preview"

    @property
    def deploy_github_environment(self) -> str:
        """The GitHub environment of `pulumi up` jobs (production's requires an approval)."""
        return self.environment

    @property
    def preview_github_environment(self) -> str:
        """The GitHub environment of pull-request previews: no approval, read-mostly role."""
        return f"{self.environment}-preview"

    @property
    def oidc_provider_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"

    @property
    def tags(self) -> Mapping[str, str]:
        return mandatory_tags(self.environment, PROJECT, self.team, self.cost_center)


def _text(raw: Mapping[str, Any], key: str, pattern: re.Pattern[str], allowed: str) -> str:
    value = str(raw.get(key) or "").strip()
    if not pattern.fullmatch(value):
        raise ValueError(f"{CONFIG_NAMESPACE}:{key} = {value!r}: must be {allowed}")
    return value


def build_bootstrap_config(environment: str, raw: Mapping[str, Any]) -> BootstrapConfig:
    """Validate `raw` (keys without the `bootstrap:` prefix, plus `aws:region`)."""
    problems: list[str] = []
    if environment not in ENVIRONMENTS:
        problems.append(
            f"stack '{environment}' is not an environment: allowed are {', '.join(ENVIRONMENTS)}"
        )
    values: dict[str, str] = {}
    checks = {
        "accountId": (re.compile(r"\d{12}"), "a 12-digit AWS account id"),
        "githubOrganization": (_GITHUB_NAME, "a GitHub organization or user name"),
        "githubRepository": (_GITHUB_NAME, "a GitHub repository name"),
        "team": (_TAG_VALUE, "a tag value of 1-256 characters"),
        "costCenter": (_TAG_VALUE, "a tag value of 1-256 characters"),
        "aws:region": (re.compile(r"[a-z]{2}(?:-gov)?-[a-z]+-\d"), "an AWS region code"),
    }
    for key, (pattern, allowed) in checks.items():
        try:
            values[key] = _text(raw, key, pattern, allowed)
        except ValueError as error:
            problems.append(str(error))
    create = str(raw.get("createOidcProvider", "true")).strip().lower()
    if create not in ("true", "false"):
        problems.append(
            f"{CONFIG_NAMESPACE}:createOidcProvider = {create!r}: must be true or false"
        )
    if problems:
        raise ConfigError(environment, problems)
    return BootstrapConfig(
        environment=environment,
        region=values["aws:region"],
        account_id=values["accountId"],
        github_organization=values["githubOrganization"],
        github_repository=values["githubRepository"],
        team=values["team"],
        cost_center=values["costCenter"],
        create_oidc_provider=create == "true",
    )


def load_bootstrap_config() -> BootstrapConfig:
    """The selected stack's config; the stack name is the environment."""
    import pulumi

    config = pulumi.Config(CONFIG_NAMESPACE)
    keys = ("accountId", "githubOrganization", "githubRepository", "team", "costCenter")
    raw: dict[str, Any] = {key: config.get(key) for key in keys}
    raw["createOidcProvider"] = config.get("createOidcProvider") or "true"
    raw["aws:region"] = pulumi.Config("aws").get("region") or "us-east-1"
    return build_bootstrap_config(pulumi.get_stack(), raw)
