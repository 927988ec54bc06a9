"""Logs and alarms: the function's log group, and per-environment alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_aws as aws

from platform_core.component import PlatformComponent
from platform_core.config import AlarmThresholds

__all__ = [
    "ALARM_KEYS",
    "AlarmTargets",
    "Alarms",
    "AlarmsArgs",
    "FunctionLogGroup",
    "FunctionLogGroupArgs",
]


#: Every alarm an environment may have, named `<function name>-<key>`: the pipeline roles'
#: policies name exactly these.
ALARM_KEYS: Final = (
    "errors", "throttles", "duration-p99", "failed-events", "table-read-throttles",
    "table-write-throttles", "database-cpu",
)  # fmt: skip


@dataclass(frozen=True)
class FunctionLogGroupArgs:
    log_group_name: str
    retention_days: int


class FunctionLogGroup(PlatformComponent):
    """`/aws/lambda/<function>`, created before the function so Lambda never makes its own
    (which would keep logs forever and escape Pulumi on destroy)."""

    log_group: aws.cloudwatch.LogGroup

    def __init__(
        self, name: str, args: FunctionLogGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:FunctionLogGroup", name, opts)
        self.log_group = aws.cloudwatch.LogGroup(
            self.child_name("log-group"),
            name=args.log_group_name,
            retention_in_days=args.retention_days,
            opts=self.child_options(),
        )
        self.register_outputs({"name": self.log_group.name, "arn": self.log_group.arn})


@dataclass(frozen=True)
class AlarmTargets:
    """What the alarms watch."""

    function_name: pulumi.Input[str]
    function_timeout_seconds: int
    table_name: pulumi.Input[str]
    failure_queue_name: pulumi.Input[str]
    #: The database cluster's identifier, where there is a database.
    database_cluster: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class AlarmsArgs:
    topic_name: str
    alarm_name_prefix: str
    thresholds: AlarmThresholds
    targets: AlarmTargets


@dataclass(frozen=True)
class _AlarmSpec:
    key: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, pulumi.Input[str]]
    threshold: float
    statistic: str = "Sum"
    extended_statistic: str | None = None


class Alarms(PlatformComponent):
    """Errors, throttles, slow runs, failed events, table throttling and (where there is a
    database) its CPU, into one SNS topic."""

    topic: aws.sns.Topic

    def __init__(
        self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:Alarms", name, opts)
        child = self.child_options()
        self.topic = aws.sns.Topic(self.child_name("topic"), name=args.topic_name, opts=child)
        for spec in self._specs(args):
            aws.cloudwatch.MetricAlarm(
                self.child_name(spec.key),
                name=f"{args.alarm_name_prefix}-{spec.key}",
                alarm_description=spec.description,
                namespace=spec.namespace,
                metric_name=spec.metric,
                dimensions=spec.dimensions,
                statistic=None if spec.extended_statistic else spec.statistic,
                extended_statistic=spec.extended_statistic,
                period=args.thresholds.period_seconds,
                evaluation_periods=args.thresholds.evaluation_periods,
                threshold=spec.threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                opts=child,
            )
        self.register_outputs({"topic_arn": self.topic.arn})

    @staticmethod
    def _specs(args: AlarmsArgs) -> list[_AlarmSpec]:
        limits, targets = args.thresholds, args.targets
        function = {"FunctionName": targets.function_name}
        table = {"TableName": targets.table_name}
        slow_ms = targets.function_timeout_seconds * 1000 * limits.duration_percent_of_timeout / 100
        database = []
        if targets.database_cluster is not None:
            # The cluster dimension gathers every instance's data points: Maximum is the
            # busiest instance, whether writer or reader.
            database.append(
                _AlarmSpec("database-cpu",
                           f"A database instance's CPU reached {limits.database_cpu_percent}%",
                           "AWS/RDS", "CPUUtilization",
                           {"DBClusterIdentifier": targets.database_cluster},
                           limits.database_cpu_percent, statistic="Maximum")
            )  # fmt: skip
        return [
            _AlarmSpec("errors", "The processor raised errors", "AWS/Lambda", "Errors",
                       function, limits.function_errors),
            _AlarmSpec("throttles", "Invocations were throttled", "AWS/Lambda", "Throttles",
                       function, limits.function_throttles),
            _AlarmSpec("duration-p99",
                       f"p99 duration reached {limits.duration_percent_of_timeout}% of the timeout",
                       "AWS/Lambda", "Duration", function, slow_ms, extended_statistic="p99"),
            _AlarmSpec("failed-events", "Events exhausted their retries (see the failure queue)",
                       "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                       {"QueueName": targets.failure_queue_name}, limits.failed_events,
                       statistic="Maximum"),
            _AlarmSpec("table-read-throttles", "Reads of the analytics table were throttled",
                       "AWS/DynamoDB", "ReadThrottleEvents", table, limits.table_throttle_events),
            _AlarmSpec("table-write-throttles", "Writes to the analytics table were throttled",
                       "AWS/DynamoDB", "WriteThrottleEvents", table, limits.table_throttle_events),
            *database,
        ]  # fmt: skip
