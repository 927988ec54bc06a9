"""The processor function: arm64, in the private subnets, logging as JSON into its own log group,
failing over to a queue after bounded retries, and triggered by uploads under `incoming/`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from platform_core.artifact import LambdaArtifact
from platform_core.component import PlatformComponent
from processor.contract import (
    ENV_ARCHIVE_BUCKET,
    ENV_DATABASE_ENDPOINT,
    ENV_DATABASE_SECRET_ARN,
    ENV_ENVIRONMENT,
    ENV_INGEST_BUCKET,
    ENV_TABLE_NAME,
    FAILURE_QUEUE_RETENTION_S,
    HANDLER,
    INGEST_PREFIX,
)

__all__ = ["DatabaseConnection", "FailureQueue", "Processor", "ProcessorArgs"]

ARCHITECTURE = "arm64"


@dataclass(frozen=True)
class DatabaseConnection:
    """Where the function finds the database: its endpoint and its credentials' secret."""

    endpoint: pulumi.Input[str]
    secret_arn: pulumi.Input[str]


@dataclass(frozen=True)
class ProcessorArgs:
    environment: str
    function_name: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int | None
    tracing: bool
    max_retry_attempts: int
    max_event_age_seconds: int
    artifact: LambdaArtifact
    role_arn: pulumi.Input[str]
    log_group: aws.cloudwatch.LogGroup
    role_policy: aws.iam.RolePolicy
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    table_name: pulumi.Input[str]
    archive_bucket_name: pulumi.Input[str]
    ingest_bucket: aws.s3.Bucket
    account_id: pulumi.Input[str]
    failure_queue_arn: pulumi.Input[str]
    database: DatabaseConnection | None = None


class FailureQueue(PlatformComponent):
    """Where asynchronous events land after their last retry (Lambda's on-failure destination).

    It keeps them as long as SQS allows, for operators to inspect and redrive; the processor's
    deduplication remembers a batch for longer than that (the shared contract ties the two).
    """

    queue: aws.sqs.Queue

    def __init__(self, name: str, queue_name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__("platform:index:FailureQueue", name, opts)
        self.queue = aws.sqs.Queue(
            self.child_name("queue"),
            name=queue_name,
            message_retention_seconds=FAILURE_QUEUE_RETENTION_S,
            sqs_managed_sse_enabled=True,
            opts=self.child_options(),
        )
        self.register_outputs({"arn": self.queue.arn, "url": self.queue.url})


class Processor(PlatformComponent):
    """The market-data processor, its retry policy and its S3 trigger."""

    function: aws.lambda_.Function

    def __init__(
        self,
        name: str,
        args: ProcessorArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:index:Processor", name, opts)
        self.function = self._function(args)
        self._retry_policy(args)
        self._s3_trigger(args)
        self.register_outputs({"name": self.function.name, "arn": self.function.arn})

    def _function(self, args: ProcessorArgs) -> aws.lambda_.Function:
        return aws.lambda_.Function(
            self.child_name("function"),
            name=args.function_name,
            description=f"Market-data processor ({args.environment})",
            role=args.role_arn,
            runtime=args.runtime,
            handler=HANDLER,
            architectures=[ARCHITECTURE],
            code=pulumi.FileArchive(str(Path(args.artifact.path).resolve())),
            code_sha256=args.artifact.sha256_base64,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=(
                args.reserved_concurrency if args.reserved_concurrency is not None else -1
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=self._variables(args)),
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(args.subnet_ids), security_group_ids=[args.security_group_id]
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(
                mode="Active" if args.tracing else "PassThrough"
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=args.log_group.name,
                application_log_level="INFO",
                system_log_level="WARN",
            ),
            # The log group and the role's permissions exist before the first invocation.
            opts=self.child_options(depends_on=[args.log_group, args.role_policy]),
        )

    @staticmethod
    def _variables(args: ProcessorArgs) -> dict[str, pulumi.Input[str]]:
        variables: dict[str, pulumi.Input[str]] = {
            ENV_TABLE_NAME: args.table_name,
            ENV_ARCHIVE_BUCKET: args.archive_bucket_name,
            ENV_INGEST_BUCKET: args.ingest_bucket.id,
            ENV_ENVIRONMENT: args.environment,
        }
        if args.database is not None:
            variables[ENV_DATABASE_ENDPOINT] = args.database.endpoint
            variables[ENV_DATABASE_SECRET_ARN] = args.database.secret_arn
        return variables

    def _retry_policy(self, args: ProcessorArgs) -> None:
        """Bounded retries of asynchronous events, then the failure queue."""
        aws.lambda_.FunctionEventInvokeConfig(
            self.child_name("async-invoke-config"),
            function_name=self.function.name,
            maximum_retry_attempts=args.max_retry_attempts,
            maximum_event_age_in_seconds=args.max_event_age_seconds,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=args.failure_queue_arn
                )
            ),
            opts=self.child_options(),
        )

    def _s3_trigger(self, args: ProcessorArgs) -> None:
        """Uploads under the ingest prefix invoke the function (S3 may call it, nothing else)."""
        permission = aws.lambda_.Permission(
            self.child_name("ingest-invoke-permission"),
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="s3.amazonaws.com",
            source_arn=args.ingest_bucket.arn,
            source_account=args.account_id,
            opts=self.child_options(),
        )
        aws.s3.BucketNotification(
            self.child_name("ingest-notification"),
            bucket=args.ingest_bucket.id,
            lambda_functions=[
                aws.s3.BucketNotificationLambdaFunctionArgs(
                    lambda_function_arn=self.function.arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=INGEST_PREFIX,
                )
            ],
            opts=self.child_options(depends_on=[permission]),
        )
