"""The bootstrap's components: the state backend (bucket + secrets key), the permissions
boundary of the environment's workload roles, and the two CI roles.

The state bucket is a `platform_core.storage.SecureBucket` (all four public-access blocks,
default encryption, TLS-only policy, owner-enforced), versioned so an overwritten checkpoint can
be recovered, and never force-destroyed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from platform_core.iam import (
    permissions_boundary_arn,
    permissions_boundary_name,
    workload_boundary_policy,
)
from platform_core.storage import SecureBucket, SecureBucketArgs
from trading_bootstrap.config import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, BootstrapConfig
from trading_bootstrap.policies import (
    DeployScope,
    deploy_database_policy,
    deploy_policy,
    deploy_resources_policy,
    github_trust_policy,
    kms_key_policy,
    preview_policy,
)

__all__ = [
    "STATE_LAYOUT",
    "EnvironmentBootstrap",
    "PipelineRole",
    "PipelineRoleArgs",
    "StateBackend",
    "StateBackendArgs",
]


# Pulumi's marker of a state bucket's layout (`.pulumi/meta.yaml`, version 1: stacks scoped by
# project). The CLI writes it on its first login to an empty bucket; written here, the
# preview role, which may only take locks, can log in to the bucket before the first deploy.
STATE_LAYOUT = (".pulumi/meta.yaml", "version: 1\n")


@dataclass(frozen=True)
class StateBackendArgs:
    config: BootstrapConfig


class StateBackend(pulumi.ComponentResource):
    """The environment's Pulumi state bucket and the KMS key of its secrets provider."""

    bucket: aws.s3.Bucket
    key: aws.kms.Key
    key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bootstrap:index:StateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        config = args.config
        state = SecureBucket(
            "state",
            SecureBucketArgs(bucket_name=config.state_bucket, versioning=True, force_destroy=False),
            opts=child,
        )
        self.bucket = state.bucket
        key, body = STATE_LAYOUT
        aws.s3.BucketObjectv2(
            "state-layout",
            bucket=self.bucket.id,
            key=key,
            content=body,
            content_type="application/yaml",
            opts=child,
        )
        self.key = aws.kms.Key(
            "secrets-key",
            description=f"Pulumi secrets provider of the {config.environment} stack",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(kms_key_policy(config)),
            opts=child,
        )
        # A key's id is its key id, so its ARN is known from config and id alone.
        self.key_arn = pulumi.Output.concat(
            f"arn:aws:kms:{config.region}:{config.account_id}:key/", self.key.id
        )
        aws.kms.Alias(
            "secrets-key-alias", name=config.kms_alias, target_key_id=self.key.id, opts=child
        )
        self.register_outputs({"bucket": self.bucket.bucket, "key_arn": self.key_arn})


@dataclass(frozen=True)
class PipelineRoleArgs:
    role_name: str
    description: str
    trust_policy: dict[str, Any]
    permissions: pulumi.Input[str]
    # What the trust policy names must exist first (IAM rejects an unknown federated principal).
    trusted_after: tuple[pulumi.Resource, ...] = ()
    #: Managed policies of the role's own, by part of their name (`<role>-<part>`): what does
    #: not fit into a role's inline policies (IAM allows 10,240 characters of them in all).
    managed_policies: tuple[tuple[str, dict[str, Any]], ...] = ()


class PipelineRole(pulumi.ComponentResource):
    """A role for GitHub Actions jobs, with one inline policy (and possibly managed policies of
    its own); sessions last at most an hour.

    Children are named after the component, since URNs must be unique per type in a stack.
    """

    role: aws.iam.Role

    def __init__(
        self, name: str, args: PipelineRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bootstrap:index:PipelineRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=args.description,
            assume_role_policy=json.dumps(args.trust_policy),
            max_session_duration=3600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.trusted_after)),
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            name="pipeline",
            role=self.role.id,
            policy=args.permissions,
            opts=child,
        )
        for part, document in args.managed_policies:
            policy = aws.iam.Policy(
                f"{name}-{part}-policy",
                name=f"{args.role_name}-{part}",
                description=f"{args.description}: {part}",
                policy=json.dumps(document),
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-{part}-attachment", role=self.role.name, policy_arn=policy.arn, opts=child
            )
        self.register_outputs({"arn": self.role.arn})


class EnvironmentBootstrap(pulumi.ComponentResource):
    """Everything one environment's stack and pipeline need before the first `pulumi up`."""

    exports: dict[str, Any]

    def __init__(
        self, name: str, config: BootstrapConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bootstrap:index:EnvironmentBootstrap", name, None, opts)
        provider = aws.Provider(
            "aws",
            region=config.region,
            allowed_account_ids=[config.account_id],
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(config.tags)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers=[provider])
        backend = StateBackend("state-backend", StateBackendArgs(config), opts=child)
        aws.iam.Policy(
            "workload-boundary",
            name=permissions_boundary_name(config.environment),
            description=(
                f"The most any role of the {config.environment} stacks may do; the deploy "
                "role can create or change a role only with this boundary attached"
            ),
            policy=json.dumps(
                workload_boundary_policy(
                    config.environment, config.region, config.account_id, config.organisation
                )
            ),
            opts=child,
        )
        trusted_after: tuple[pulumi.Resource, ...] = ()
        if config.create_oidc_provider:
            trusted_after = (
                aws.iam.OpenIdConnectProvider(
                    "github-oidc",
                    url=f"https://{GITHUB_OIDC_HOST}",
                    client_id_lists=[GITHUB_OIDC_AUDIENCE],
                    opts=child,
                ),
            )

        def scoped(document: Any) -> pulumi.Output[str]:
            return pulumi.Output.all(backend.bucket.arn, backend.key_arn).apply(
                lambda arns: json.dumps(document(DeployScope(config, arns[0], arns[1])))
            )

        roles = {
            "preview": PipelineRoleArgs(
                role_name=config.preview_role_name,
                description=f"Pull-request previews of {config.environment} (GitHub Actions)",
                trust_policy=github_trust_policy(config, config.preview_github_environment),
                permissions=scoped(preview_policy),
                trusted_after=trusted_after,
            ),
            "deploy": PipelineRoleArgs(
                role_name=config.deploy_role_name,
                description=f"Deployments of {config.environment} (GitHub Actions)",
                trust_policy=github_trust_policy(config, config.deploy_github_environment),
                permissions=scoped(deploy_policy),
                trusted_after=trusted_after,
                managed_policies=(
                    ("resources", deploy_resources_policy(config)),
                    ("database", deploy_database_policy(config)),
                ),
            ),
        }
        arns = {kind: PipelineRole(kind, args, opts=child).role.arn for kind, args in roles.items()}
        self.exports = {
            "environment": config.environment,
            "backend_url": config.backend_url,
            "state_bucket_name": backend.bucket.bucket,
            "secrets_provider": config.secrets_provider,
            "kms_key_arn": backend.key_arn,
            "preview_role_arn": arns["preview"],
            "deploy_role_arn": arns["deploy"],
            # The stacks reference the boundary by this ARN, derived from the same name.
            "permissions_boundary_arn": permissions_boundary_arn(
                config.account_id, config.environment
            ),
            "github_environments": [
                config.preview_github_environment,
                config.deploy_github_environment,
            ],
        }
        self.register_outputs(self.exports)
