"""The optional relational database: an Aurora PostgreSQL cluster in the private subnets.

It exists only where `platform:database` asks for one. RDS generates the master user's password
and keeps it in a Secrets Manager secret that it rotates itself, so no password is ever in a
stack file or in Pulumi's state; the function is given the secret's ARN and may read that one
secret. Storage is encrypted. Outside production the cluster has no deletion protection and is
deleted without a final snapshot, so `pulumi destroy` always works and leaves nothing behind;
production's refuses deletion, and deleting it (once protection is turned off) leaves a final
snapshot. The two are separate settings, so turning the protection off keeps the snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from platform_core.component import PlatformComponent

if TYPE_CHECKING:
    from platform_core.offline import RenderedStack

__all__ = [
    "ENGINE",
    "MASTER_USERNAME",
    "Database",
    "DatabaseArgs",
    "final_snapshot_identifier",
    "not_emulated",
]

ENGINE = aws.rds.EngineType.AURORA_POSTGRESQL
#: The master user RDS creates; its password exists only in the secret RDS manages.
MASTER_USERNAME = "trading_admin"


def not_emulated(stack: RenderedStack) -> list[str]:
    """What `make demo` tells its user it leaves out of `stack`: the emulator has no RDS."""
    if not stack.of_type("aws:rds/cluster:Cluster"):
        return []
    return [
        "note: this environment has an Aurora PostgreSQL database (platform:database); it is "
        "not emulated locally, so the function runs here without it.\n"
    ]


def final_snapshot_identifier(cluster_identifier: str) -> str:
    """The snapshot a cluster leaves behind when it is deleted (where it takes one)."""
    return f"{cluster_identifier}-final"


def _master_user_secret_arn(secrets: Sequence[aws.rds.outputs.ClusterMasterUserSecret]) -> str:
    """The secret RDS created for the master user (`manage_master_user_password`)."""
    arn = secrets[0].secret_arn if secrets else None
    if not arn:
        raise ValueError("RDS reported no secret for the cluster's master user")
    return arn


@dataclass(frozen=True)
class DatabaseArgs:
    cluster_identifier: str
    #: One identifier per instance: the first is the writer, the others readers it fails over to.
    instance_identifiers: tuple[str, ...]
    engine_version: str
    instance_class: str
    backup_retention_days: int
    deletion_protection: bool
    final_snapshot: bool
    port: int
    #: The private subnets: the database has no address outside them.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The database's own security group (admitting the function only; see `network.py`).
    security_group_id: pulumi.Input[str]


class Database(PlatformComponent):
    """Subnet group, cluster and instances of one environment's Aurora PostgreSQL database."""

    cluster: aws.rds.Cluster
    instances: list[aws.rds.ClusterInstance]
    #: The writer's endpoint (a host name) and the ARN of the master user's secret.
    endpoint: pulumi.Output[str]
    secret_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:Database", name, opts)
        subnets = aws.rds.SubnetGroup(
            self.child_name("subnet-group"),
            name=args.cluster_identifier,
            description="The database's private subnets",
            subnet_ids=list(args.subnet_ids),
            opts=self.child_options(),
        )
        self.cluster = self._cluster(args, subnets)
        # One instance after the other: the first created becomes the writer, and a change
        # (a new class restarts an instance) never takes every instance down at once.
        self.instances = []
        for number, identifier in enumerate(args.instance_identifiers, start=1):
            after = self.instances[-1:]
            self.instances.append(self._instance(args, subnets, number, identifier, after))
        self.endpoint = self.cluster.endpoint
        self.secret_arn = self.cluster.master_user_secrets.apply(_master_user_secret_arn)
        self.register_outputs({"endpoint": self.endpoint, "secret_arn": self.secret_arn})

    def _cluster(self, args: DatabaseArgs, subnets: aws.rds.SubnetGroup) -> aws.rds.Cluster:
        return aws.rds.Cluster(
            self.child_name("cluster"),
            cluster_identifier=args.cluster_identifier,
            engine=ENGINE,
            engine_version=args.engine_version,
            # A new major version is a deliberate edit of `platform:databaseEngineVersion`.
            allow_major_version_upgrade=True,
            master_username=MASTER_USERNAME,
            manage_master_user_password=True,
            port=args.port,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[args.security_group_id],
            storage_encrypted=True,
            backup_retention_period=args.backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=not args.final_snapshot,
            final_snapshot_identifier=(
                final_snapshot_identifier(args.cluster_identifier) if args.final_snapshot else None
            ),
            # What a deploy changes takes effect now, not in a later maintenance window, so what
            # Pulumi reports is what runs.
            apply_immediately=True,
            opts=self.child_options(),
        )

    def _instance(
        self,
        args: DatabaseArgs,
        subnets: aws.rds.SubnetGroup,
        number: int,
        identifier: str,
        after: list[aws.rds.ClusterInstance],
    ) -> aws.rds.ClusterInstance:
        return aws.rds.ClusterInstance(
            self.child_name(f"instance-{number}"),
            identifier=identifier,
            cluster_identifier=self.cluster.id,
            engine=ENGINE,
            engine_version=self.cluster.engine_version,
            instance_class=args.instance_class,
            db_subnet_group_name=subnets.name,
            publicly_accessible=False,
            # The version is the stack's setting: an upgrade RDS applied by itself would leave
            # the stack asking for the older version, which RDS then refuses.
            auto_minor_version_upgrade=False,
            apply_immediately=True,
            opts=self.child_options(depends_on=after),
        )
