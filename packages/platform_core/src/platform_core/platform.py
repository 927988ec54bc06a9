"""The whole environment as one component: the reusable stack.

`TradingPlatform(name, config)` owns the environment's explicit AWS provider and wires the
concern components together, one named step each; each stack's `__main__.py` only loads its
config, builds this and exports `exports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from platform_core.artifact import ARTIFACT_DIR, build_package_artifact
from platform_core.component import PlatformComponent
from platform_core.compute import DatabaseConnection, FailureQueue, Processor, ProcessorArgs
from platform_core.config import EnvironmentConfig
from platform_core.database import Database, DatabaseArgs
from platform_core.iam import ProcessorRole, ProcessorRoleArgs, permissions_boundary_arn
from platform_core.network import Network, NetworkArgs
from platform_core.observability import (
    Alarms,
    AlarmsArgs,
    AlarmTargets,
    FunctionLogGroup,
    FunctionLogGroupArgs,
)
from platform_core.storage import AnalyticsTable, AnalyticsTableArgs, SecureBucket, SecureBucketArgs
from processor.contract import DATABASE_PORT

__all__ = ["ARTIFACT_DIR", "EXPORT_NAMES", "TradingPlatform"]

PROCESSOR_PACKAGE = "processor"
EXPORT_NAMES = (
    "environment",
    "region",
    "lambda_function_name",
    "lambda_function_arn",
    "dynamodb_table_name",
    "s3_bucket_name",
    "ingest_bucket_name",
    "vpc_id",
    "private_subnet_ids",
    "log_group_name",
    "failure_queue_url",
)


@dataclass(frozen=True)
class _Storage:
    table: AnalyticsTable
    ingest: SecureBucket
    archive: SecureBucket


class TradingPlatform(PlatformComponent):
    """One environment of the trading analytics platform, sized by its `EnvironmentConfig`."""

    exports: dict[str, Any]

    def __init__(
        self,
        name: str,
        config: EnvironmentConfig,
        opts: pulumi.ResourceOptions | None = None,
        artifact_dir: Path = ARTIFACT_DIR,
    ) -> None:
        super().__init__("platform:index:TradingPlatform", name, opts)
        self._env_config = config
        provider = self._aws_provider()
        # Every child (and its children) deploys through this environment's own provider.
        self._env_options = self.child_options(providers=[provider])
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(provider=provider)
        ).account_id
        network = self._network()
        storage = self._storage()
        database = self._database(network)
        logs = FunctionLogGroup(
            self.child_name("logs"),
            FunctionLogGroupArgs(config.names.log_group, config.log_retention_days),
            opts=self._env_options,
        )
        failures = FailureQueue(
            self.child_name("failures"), config.names.failure_queue, self._env_options
        )
        role = self._role(storage, logs, failures, account_id, database)
        processor = self._processor(
            network, storage, logs, failures, role, account_id, artifact_dir, database
        )
        alarms = self._alarms(processor, storage, failures, database)
        self.exports = {
            "environment": config.environment,
            "region": config.region,
            "lambda_function_name": processor.function.name,
            "lambda_function_arn": processor.function.arn,
            "dynamodb_table_name": storage.table.table.name,
            "s3_bucket_name": storage.archive.bucket.bucket,
            "ingest_bucket_name": storage.ingest.bucket.bucket,
            "vpc_id": network.vpc.id,
            "private_subnet_ids": network.private_subnet_ids,
            "log_group_name": logs.log_group.name,
            "failure_queue_url": failures.queue.url,
        }
        if alarms is not None:  # the topic operators subscribe to; only where alarms exist
            self.exports["alarm_topic_arn"] = alarms.topic.arn
        if database is not None:
            self.exports["database_endpoint"] = database.endpoint
            self.exports["database_secret_arn"] = database.secret_arn
        self.register_outputs(self.exports)

    def _aws_provider(self) -> aws.Provider:
        """Explicit, so a stack never deploys with ambient defaults: its region, its accounts
        (a deploy with other credentials stops before it changes anything), its tags."""
        config = self._env_config
        return aws.Provider(
            self.child_name("aws"),
            region=config.region,
            allowed_account_ids=list(config.allowed_account_ids) or None,
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(config.tags)),
            opts=self.child_options(),
        )

    def _network(self) -> Network:
        config = self._env_config
        return Network(
            self.child_name("network"),
            NetworkArgs(
                name=config.names.network,
                region=config.region,
                vpc_cidr=config.vpc_cidr,
                availability_zone_count=config.availability_zone_count,
                egress_mode=config.egress_mode,
                xray_endpoint=config.xray_tracing,
                database_port=DATABASE_PORT if config.database_settings is not None else None,
            ),
            opts=self._env_options,
        )

    def _storage(self) -> _Storage:
        config, names = self._env_config, self._env_config.names
        table = AnalyticsTable(
            self.child_name("analytics"),
            AnalyticsTableArgs(
                table_name=names.table,
                billing_mode=config.dynamodb_billing_mode,
                autoscaling=config.dynamodb_autoscaling,
                on_demand_max_units=config.dynamodb_on_demand_max_units,
                point_in_time_recovery=config.point_in_time_recovery,
            ),
            opts=self._env_options,
        )
        ingest = SecureBucket(
            self.child_name("ingest"),
            SecureBucketArgs(
                bucket_name=names.ingest_bucket,
                versioning=config.s3_versioning,
                # Like the archive: uploads not processed yet, or whose events wait in the
                # failure queue for a redrive, exist nowhere else.
                force_destroy=config.buckets_force_destroy,
            ),
            opts=self._env_options,
        )
        archive = SecureBucket(
            self.child_name("archive"),
            SecureBucketArgs(
                bucket_name=names.archive_bucket,
                versioning=config.s3_versioning,
                force_destroy=config.buckets_force_destroy,
                glacier_after_days=config.archive_glacier_after_days,
            ),
            opts=self._env_options,
        )
        return _Storage(table, ingest, archive)

    def _database(self, network: Network) -> Database | None:
        config = self._env_config
        settings = config.database_settings
        if settings is None or network.database_security_group is None:
            return None
        names = config.names
        return Database(
            self.child_name("database"),
            DatabaseArgs(
                cluster_identifier=names.database,
                instance_identifiers=tuple(
                    names.database_instance(number)
                    for number in range(1, settings.instance_count + 1)
                ),
                engine_version=settings.engine_version,
                instance_class=settings.instance_class,
                backup_retention_days=settings.backup_retention_days,
                deletion_protection=settings.deletion_protection,
                final_snapshot=settings.final_snapshot,
                port=DATABASE_PORT,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.database_security_group.id,
            ),
            opts=self._env_options,
        )

    def _role(
        self,
        storage: _Storage,
        logs: FunctionLogGroup,
        failures: FailureQueue,
        account_id: pulumi.Output[str],
        database: Database | None,
    ) -> ProcessorRole:
        environment = self._env_config.environment
        return ProcessorRole(
            self.child_name("processor-role"),
            ProcessorRoleArgs(
                role_name=self._env_config.names.role,
                log_group_arn=logs.log_group.arn,
                table_arn=storage.table.table.arn,
                ingest_bucket_arn=storage.ingest.bucket.arn,
                archive_bucket_arn=storage.archive.bucket.arn,
                failure_queue_arn=failures.queue.arn,
                region=self._env_config.region,
                account_id=account_id,
                tracing=self._env_config.xray_tracing,
                permissions_boundary=account_id.apply(
                    lambda account: permissions_boundary_arn(account, environment)
                ),
                database_secret_arn=database.secret_arn if database is not None else None,
            ),
            opts=self._env_options,
        )

    def _processor(
        self,
        network: Network,
        storage: _Storage,
        logs: FunctionLogGroup,
        failures: FailureQueue,
        role: ProcessorRole,
        account_id: pulumi.Output[str],
        artifact_dir: Path,
        database: Database | None,
    ) -> Processor:
        config = self._env_config
        artifact = build_package_artifact(PROCESSOR_PACKAGE, artifact_dir)
        if artifact.without_bytecode:  # still correct, only slower to start
            pulumi.log.warn(
                f"the function ships {len(artifact.without_bytecode)} module(s) without "
                f"bytecode compiled from their current source, which each cold start compiles: "
                f"{', '.join(artifact.without_bytecode)}. Run `make bytecode` and commit "
                "services/processor/bytecode",
                self,
            )
        return Processor(
            self.child_name("processor"),
            ProcessorArgs(
                environment=config.environment,
                function_name=config.names.function,
                runtime=config.lambda_runtime,
                memory_mb=config.lambda_memory_mb,
                timeout_seconds=config.lambda_timeout_seconds,
                reserved_concurrency=config.reserved_concurrency,
                tracing=config.xray_tracing,
                max_retry_attempts=config.async_max_retry_attempts,
                max_event_age_seconds=config.async_max_event_age_seconds,
                artifact=artifact,
                role_arn=role.role.arn,
                log_group=logs.log_group,
                role_policy=role.policy,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.function_security_group.id,
                table_name=storage.table.table.name,
                archive_bucket_name=storage.archive.bucket.bucket,
                ingest_bucket=storage.ingest.bucket,
                account_id=account_id,
                failure_queue_arn=failures.queue.arn,
                database=(
                    DatabaseConnection(database.endpoint, database.secret_arn)
                    if database is not None
                    else None
                ),
            ),
            opts=self._env_options,
        )

    def _alarms(
        self,
        processor: Processor,
        storage: _Storage,
        failures: FailureQueue,
        database: Database | None,
    ) -> Alarms | None:
        config = self._env_config
        thresholds = config.alarm_thresholds
        if thresholds is None:
            return None
        return Alarms(
            self.child_name("alarms"),
            AlarmsArgs(
                topic_name=config.names.alarm_topic,
                alarm_name_prefix=config.names.function,
                thresholds=thresholds,
                targets=AlarmTargets(
                    function_name=processor.function.name,
                    function_timeout_seconds=config.lambda_timeout_seconds,
                    table_name=storage.table.table.name,
                    failure_queue_name=failures.queue.name,
                    database_cluster=database.cluster.id if database is not None else None,
                ),
            ),
            opts=self._env_options,
        )
