"""Typed configuration of one environment's bootstrap, and every name derived from it.

The settings are declared and parsed exactly like the environment stacks' (platform_core's
dials: same value types, same messages). The names are the contract with the environment
stacks: the state bucket must be the one in `stacks/<env>/Pulumi.yaml`'s `backend.url`, and the
pipelines assume the roles named here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from platform_core.dials import PROFILES, dial, dials_of, read_dials
from platform_core.environments import discover_environments
from platform_core.errors import ConfigError
from platform_core.organisation import Organisation, find_organisation
from platform_core.parsers import AccountId, Boolean, GitHubName, Region, TagValue
from platform_core.tagging import mandatory_tags

__all__ = [
    "CONFIG_NAMESPACE",
    "GITHUB_OIDC_AUDIENCE",
    "GITHUB_OIDC_HOST",
    "BootstrapConfig",
    "bootstrap_settings_of",
    "build_bootstrap_config",
    "load_bootstrap_config",
]

CONFIG_NAMESPACE: Final = "bootstrap"
PROJECT: Final = "trading-analytics"
GITHUB_OIDC_HOST: Final = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE: Final = "sts.amazonaws.com"


@dataclass(frozen=True)
class BootstrapConfig:
    """One environment's bootstrap settings; the properties are the names other code relies on."""

    environment: str
    organisation: Organisation

    region: str = dial(
        "region",
        Region(),
        namespace="aws",
        everywhere="us-east-1",
        doc="Region of the state bucket and the secrets key (the backend URL names it).",
    )
    account_id: str = dial(
        "accountId",
        AccountId(),
        namespace=CONFIG_NAMESPACE,
        required=True,
        doc="The environment's AWS account: the deploy and preview roles live there.",
    )
    github_organization: str = dial(
        "githubOrganization",
        GitHubName("organization or user"),
        namespace=CONFIG_NAMESPACE,
        required=True,
        doc="Owner of the repository whose pipelines may assume the roles.",
    )
    github_repository: str = dial(
        "githubRepository",
        GitHubName("repository"),
        namespace=CONFIG_NAMESPACE,
        required=True,
        doc="The repository whose pipelines may assume the roles.",
    )
    team: str = dial(
        "team", TagValue(), namespace=CONFIG_NAMESPACE, required=True, doc="`Team` tag."
    )
    cost_center: str = dial(
        "costCenter",
        TagValue(),
        namespace=CONFIG_NAMESPACE,
        required=True,
        doc="`CostCenter` tag.",
    )
    pull_request_copies: bool = dial(
        "pullRequestCopies",
        Boolean(),
        namespace=CONFIG_NAMESPACE,
        everywhere=False,
        doc="Whether the deploy role may also manage the environment's pull-request copies "
        "(`<name>-pr-<number>`, deployed by .github/workflows/pr-environment.yml); otherwise it "
        "manages the environment's own names only.",
    )
    create_oidc_provider: bool = dial(
        "createOidcProvider",
        Boolean(),
        namespace=CONFIG_NAMESPACE,
        everywhere=True,
        doc="Create the account's GitHub OIDC provider; false where another environment's "
        "bootstrap in the same account already did.",
    )

    @property
    def state_bucket(self) -> str:
        return self.organisation.state_bucket(self.environment)

    @property
    def backend_url(self) -> str:
        """Exactly the `backend.url` of `stacks/<env>/Pulumi.yaml`."""
        return self.organisation.backend_url(self.environment, self.region)

    @property
    def kms_alias(self) -> str:
        return f"alias/{PROJECT}-pulumi-{self.environment}"

    @property
    def secrets_provider(self) -> str:
        """What `pulumi stack init <env> --secrets-provider` takes."""
        return f"awskms://{self.kms_alias}?region={self.region}"

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


_DIALS: Final = dials_of(BootstrapConfig)


def build_bootstrap_config(
    environment: str,
    raw: Mapping[str, Any],
    organisation: Organisation,
    environments: Sequence[str],
) -> BootstrapConfig:
    """Validate ``raw`` (stack-file keys, ``bootstrap:`` and ``aws:region``) for one stack."""
    raw = {key if ":" in key else f"{CONFIG_NAMESPACE}:{key}": value for key, value in raw.items()}
    values, problems = read_dials(_DIALS, raw, PROFILES[0])
    if environment not in environments:
        problems.insert(
            0,
            f"stack '{environment}' is not an environment: allowed are "
            f"{', '.join(environments)} (the directories of stacks/)",
        )
    if problems:
        raise ConfigError(f"the bootstrap of '{environment}'", problems)
    return BootstrapConfig(environment=environment, organisation=organisation, **values)


def bootstrap_settings_of(stack_config: Mapping[str, Any]) -> dict[str, Any]:
    """What the bootstrap reads of a stack's config: every ``bootstrap:`` key (a misspelt one is
    reported, not ignored) and its dials of other namespaces (``aws:region``)."""
    keys = {declared.config_key for declared in _DIALS.values()}
    return {
        key: value
        for key, value in stack_config.items()
        if key.startswith(f"{CONFIG_NAMESPACE}:") or key in keys
    }


def load_bootstrap_config() -> BootstrapConfig:
    """The selected stack's config; the stack name is the environment."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    project_dir = Path(pulumi.get_root_directory() or Path.cwd())
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return build_bootstrap_config(
        pulumi.get_stack(),
        bootstrap_settings_of(merged),
        find_organisation(project_dir),
        discover_environments(project_dir.parent / "stacks"),
    )
