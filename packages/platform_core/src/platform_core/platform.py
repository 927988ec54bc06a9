"""The whole environment as one component: the "reusable Stack class" of the design.

`TradingPlatform(name, config)` owns the environment's explicit AWS provider (R-4) and wires
the concern components together; each stack's `__main__.py` only loads its config, builds this
and exports `exports`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from platform_core.artifact import build_package_artifact
from platform_core.compute import FailureQueue, Processor, ProcessorArgs
from platform_core.config import EnvironmentConfig
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

__all__ = ["ARTIFACT_DIR", "EXPORT_NAMES", "TradingPlatform"]

PROCESSOR_PACKAGE = "processor"
# Built artifacts are cached beside the repository's other build outputs (git-ignored).
ARTIFACT_DIR = Path(__file__).resolve().parents[4] / "build" / "lambda"
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


class TradingPlatform(pulumi.ComponentResource):
    """One environment of the trading analytics platform, sized by its `EnvironmentConfig`."""

    exports: dict[str, Any]

    def __init__(
        self,
        name: str,
        config: EnvironmentConfig,
        opts: pulumi.ResourceOptions | None = None,
        artifact_dir: Path = ARTIFACT_DIR,
    ) -> None:
        super().__init__("platform:index:TradingPlatform", name, None, opts)
        names = config.names
        provider = aws.Provider(
            "aws",
            region=config.region,
            allowed_account_ids=list(config.allowed_account_ids) or None,
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(config.tags)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers=[provider])
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(provider=provider)
        ).account_id

        network = Network(
            "network",
            NetworkArgs(
                name=names.network,
                region=config.region,
                vpc_cidr=config.vpc_cidr,
                availability_zone_count=config.availability_zone_count,
                egress_mode=config.egress_mode,
                xray_endpoint=config.xray_tracing,
            ),
            opts=child,
        )
        table = AnalyticsTable(
            "analytics",
            AnalyticsTableArgs(
                table_name=names.table,
                billing_mode=config.dynamodb_billing_mode,
                autoscaling=config.dynamodb_autoscaling,
                on_demand_max_units=config.dynamodb_on_demand_max_units,
                point_in_time_recovery=config.point_in_time_recovery,
            ),
            opts=child,
        )
        ingest = SecureBucket(
            "ingest",
            SecureBucketArgs(
                bucket_name=names.ingest_bucket,
                versioning=config.s3_versioning,
                force_destroy=True,
            ),
            opts=child,
        )
        archive = SecureBucket(
            "archive",
            SecureBucketArgs(
                bucket_name=names.archive_bucket,
                versioning=config.s3_versioning,
                force_destroy=config.archive_force_destroy,
                glacier_after_days=config.archive_glacier_after_days,
            ),
            opts=child,
        )
        logs = FunctionLogGroup(
            "logs",
            FunctionLogGroupArgs(
                log_group_name=names.log_group, retention_days=config.log_retention_days
            ),
            opts=child,
        )
        failures = FailureQueue("failures", names.failure_queue, opts=child)
        role = ProcessorRole(
            "processor-role",
            ProcessorRoleArgs(
                role_name=names.role,
                log_group_arn=logs.log_group.arn,
                table_arn=table.table.arn,
                ingest_bucket_arn=ingest.bucket.arn,
                archive_bucket_arn=archive.bucket.arn,
                failure_queue_arn=failures.queue.arn,
                region=config.region,
                account_id=account_id,
                tracing=config.xray_tracing,
                permissions_boundary=account_id.apply(
                    lambda account: permissions_boundary_arn(account, config.environment)
                ),
            ),
            opts=child,
        )
        processor = Processor(
            "processor",
            ProcessorArgs(
                environment=config.environment,
                function_name=names.function,
                runtime=config.lambda_runtime,
                memory_mb=config.lambda_memory_mb,
                timeout_seconds=config.lambda_timeout_seconds,
                reserved_concurrency=config.reserved_concurrency,
                tracing=config.xray_tracing,
                max_retry_attempts=config.async_max_retry_attempts,
                max_event_age_seconds=config.async_max_event_age_seconds,
                artifact=build_package_artifact(PROCESSOR_PACKAGE, artifact_dir),
                role_arn=role.role.arn,
                log_group=logs.log_group,
                role_policy=role.policy,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.function_security_group.id,
                table_name=table.table.name,
                archive_bucket_name=archive.bucket.bucket,
                ingest_bucket=ingest.bucket,
                account_id=account_id,
                failure_queue_arn=failures.queue.arn,
            ),
            opts=child,
        )
        thresholds = config.alarm_thresholds
        alarms = None
        if thresholds is not None:
            alarms = Alarms(
                "alarms",
                AlarmsArgs(
                    topic_name=names.alarm_topic,
                    alarm_name_prefix=names.function,
                    thresholds=thresholds,
                    targets=AlarmTargets(
                        function_name=processor.function.name,
                        function_timeout_seconds=config.lambda_timeout_seconds,
                        table_name=table.table.name,
                        failure_queue_name=failures.queue.name,
                    ),
                ),
                opts=child,
            )

        self.exports = {
            "environment": config.environment,
            "region": config.region,
            "lambda_function_name": processor.function.name,
            "lambda_function_arn": processor.function.arn,
            "dynamodb_table_name": table.table.name,
            "s3_bucket_name": archive.bucket.bucket,
            "ingest_bucket_name": ingest.bucket.bucket,
            "vpc_id": network.vpc.id,
            "private_subnet_ids": network.private_subnet_ids,
            "log_group_name": logs.log_group.name,
            "failure_queue_url": failures.queue.url,
        }
        if alarms is not None:  # the topic operators subscribe to; only where alarms exist
            self.exports["alarm_topic_arn"] = alarms.topic.arn
        self.register_outputs(self.exports)
