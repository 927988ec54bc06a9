"""The typed configuration of one environment: the one table of dials.

Every setting is one field declared with :func:`~platform_core.dials.dial` below: its
``platform:`` key in ``Pulumi.<env>.yaml``, what values it takes, its default per profile, what
it is for, whether environments may differ in it, and what it sets in the rendered stack.
Loading and validating values against this table is :mod:`platform_core.loading`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from platform_core.artifact import LAMBDA_PYTHON_VERSION
from platform_core.dials import (
    Creates,
    Dial,
    HalfOfProduction,
    SetsInput,
    dial,
    dials_of,
)
from platform_core.naming import ResourceNames
from platform_core.parsers import (
    AccountIds,
    Boolean,
    Choice,
    DbInstanceClass,
    EngineVersion,
    IntegerRange,
    Ipv4Network,
    OrNone,
    Region,
    RetentionDays,
    Suffix,
    TagValue,
)
from platform_core.tagging import mandatory_tags
from processor.contract import MAX_EVENT_AGE_S

__all__ = [
    "ALARM_THRESHOLDS",
    "DIALS",
    "LAMBDA_RUNTIME",
    "AlarmProfile",
    "AlarmThresholds",
    "AutoscalingRange",
    "BillingMode",
    "DatabaseEngine",
    "DatabaseSettings",
    "EgressMode",
    "EnvironmentConfig",
]

#: The runtime the artifact is built for (its wheels and bytecode).
LAMBDA_RUNTIME: Final = f"python{LAMBDA_PYTHON_VERSION}"


class BillingMode(StrEnum):
    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


class EgressMode(StrEnum):
    """How the function's subnets reach the internet; S3 and DynamoDB never need it."""

    NONE = "none"
    NAT_GATEWAY = "nat-gateway"
    NAT_INSTANCE = "nat-instance"


class DatabaseEngine(StrEnum):
    """The optional relational database: none, or an Aurora PostgreSQL cluster."""

    NONE = "none"
    AURORA_POSTGRESQL = "aurora-postgresql"


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
    #: Highest CPU utilisation of any database instance (where there is a database).
    database_cpu_percent: int


ALARM_THRESHOLDS: Mapping[AlarmProfile, AlarmThresholds] = {
    AlarmProfile.RELAXED: AlarmThresholds(
        period_seconds=300,
        evaluation_periods=3,
        function_errors=10,
        function_throttles=20,
        duration_percent_of_timeout=90,
        table_throttle_events=50,
        failed_events=10,
        database_cpu_percent=90,
    ),
    AlarmProfile.STRICT: AlarmThresholds(
        period_seconds=60,
        evaluation_periods=1,
        function_errors=1,
        function_throttles=1,
        duration_percent_of_timeout=75,
        table_throttle_events=1,
        failed_events=1,
        database_cpu_percent=80,
    ),
}

_PROVIDER = "pulumi:providers:aws"
_FUNCTION = "aws:lambda/function:Function"
_TABLE = "aws:dynamodb/table:Table"
_SCALING_TARGET = "aws:appautoscaling/target:Target"
_SCALING_POLICY = "aws:appautoscaling/policy:Policy"
_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
_INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
_DB_CLUSTER = "aws:rds/cluster:Cluster"
_DB_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
# Aurora PostgreSQL, chosen in README ("The optional database"), with its sources.
DATABASE_ENGINE_VERSION: Final = "17.6"


@dataclass(frozen=True)
class DatabaseSettings:
    """The database's dials, together: what the `Database` component is built from."""

    engine: DatabaseEngine
    engine_version: str
    instance_class: str
    instance_count: int
    backup_retention_days: int
    deletion_protection: bool
    final_snapshot: bool


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between environments, validated (see `loading.build_config`)."""

    environment: str
    #: The column of defaults this environment took: its own name, or `platform:defaults`.
    profile: str
    names: ResourceNames

    region: str = dial(
        "region",
        Region(),
        namespace="aws",
        everywhere="us-east-1",
        may_differ=True,
        doc="AWS region of every resource of the environment.",
        affects=(SetsInput(_PROVIDER, "region"),),
    )
    project: str = dial(
        "project",
        TagValue(),
        everywhere="trading-analytics",
        doc="`Project` tag on every resource.",
        affects=(SetsInput(_PROVIDER, "defaultTags.tags.Project"),),
    )
    team: str = dial(
        "team",
        TagValue(),
        required=True,
        doc="`Team` tag on every resource.",
        affects=(SetsInput(_PROVIDER, "defaultTags.tags.Team"),),
    )
    cost_center: str = dial(
        "costCenter",
        TagValue(),
        required=True,
        may_differ=True,
        doc="`CostCenter` tag on every resource: each environment is billed separately.",
        affects=(SetsInput(_PROVIDER, "defaultTags.tags.CostCenter"),),
    )
    environment_suffix: str | None = dial(
        "environmentSuffix",
        Suffix(),
        everywhere=None,
        doc="Appended to every physical name, so several copies of an environment can coexist "
        "(stack `<env>-<suffix>`, e.g. one per pull request).",
    )
    allowed_account_ids: tuple[str, ...] = dial(
        "allowedAccountIds",
        AccountIds(),
        everywhere=(),
        may_differ=True,
        doc="The AWS accounts this environment may be deployed to; a deploy with other "
        "credentials stops before it changes anything.",
        affects=(SetsInput(_PROVIDER, "allowedAccountIds*"),),
    )
    lambda_memory_mb: int = dial(
        "lambdaMemoryMb",
        IntegerRange(128, 10240, "MB"),
        dev=512,
        staging=1024,
        production=2048,
        may_differ=True,
        doc="Memory of the function (its CPU share grows with it).",
        affects=(SetsInput(_FUNCTION, "memorySize"),),
    )
    lambda_timeout_seconds: int = dial(
        "lambdaTimeoutSeconds",
        IntegerRange(1, 900, "seconds"),
        everywhere=60,
        doc="Longest run of one invocation.",
        affects=(SetsInput(_FUNCTION, "timeout"),),
    )
    reserved_concurrency: int | None = dial(
        "reservedConcurrency",
        OrNone(IntegerRange(1, 10000)),
        dev=None,
        staging=HalfOfProduction("reservedConcurrency"),
        production=100,
        may_differ=True,
        doc="Concurrent executions reserved for the function; `none` uses the account's "
        "unreserved pool (needed in small accounts).",
        affects=(SetsInput(_FUNCTION, "reservedConcurrentExecutions"),),
    )
    xray_tracing: bool = dial(
        "xrayTracing",
        Boolean(),
        dev=False,
        staging=True,
        production=True,
        may_differ=True,
        doc="X-Ray active tracing of the function (adds a VPC endpoint when there is no NAT).",
        affects=(
            SetsInput(_FUNCTION, "tracingConfig.mode"),
            SetsInput("aws:iam/rolePolicy:RolePolicy", "policy.Statement[UploadTraces]*"),
            Creates("aws:ec2/vpcEndpoint:VpcEndpoint", "xray-endpoint"),
            Creates(_SECURITY_GROUP, "xray-endpoint-security-group"),
        ),
    )
    log_retention_days: int = dial(
        "logRetentionDays",
        RetentionDays(),
        dev=7,
        staging=30,
        production=90,
        may_differ=True,
        doc="How long the function's logs are kept.",
        affects=(SetsInput("aws:cloudwatch/logGroup:LogGroup", "retentionInDays"),),
    )
    dynamodb_billing_mode: BillingMode = dial(
        "dynamodbBillingMode",
        Choice(BillingMode),
        dev=BillingMode.PAY_PER_REQUEST,
        staging=BillingMode.PAY_PER_REQUEST,
        production=BillingMode.PROVISIONED,
        may_differ=True,
        doc="On-demand, or provisioned capacity with target-tracking autoscaling.",
        affects=(
            SetsInput(_TABLE, "billingMode"),
            Creates(_SCALING_TARGET),
            Creates(_SCALING_POLICY),
        ),
    )
    dynamodb_min_capacity: int = dial(
        "dynamodbMinCapacity",
        IntegerRange(1, 40000, "capacity units"),
        everywhere=5,
        may_differ=True,
        doc="Autoscaling minimum of read and write capacity (provisioned only).",
        affects=(
            SetsInput(_TABLE, "readCapacity"),
            SetsInput(_TABLE, "writeCapacity"),
            SetsInput(_SCALING_TARGET, "minCapacity"),
        ),
    )
    dynamodb_max_capacity: int = dial(
        "dynamodbMaxCapacity",
        IntegerRange(1, 40000, "capacity units"),
        everywhere=100,
        may_differ=True,
        doc="Autoscaling maximum of read and write capacity (provisioned only); staging's "
        "on-demand ceiling defaults to half of production's.",
        affects=(SetsInput(_SCALING_TARGET, "maxCapacity"),),
    )
    dynamodb_target_utilization: int = dial(
        "dynamodbTargetUtilization",
        IntegerRange(20, 90, "percent"),
        everywhere=70,
        may_differ=True,
        doc="Utilisation autoscaling steers towards (provisioned only).",
        affects=(SetsInput(_SCALING_POLICY, "targetTrackingScalingPolicyConfiguration*"),),
    )
    dynamodb_on_demand_max_units: int | None = dial(
        "dynamodbOnDemandMaxUnits",
        OrNone(IntegerRange(1, 40000, "request units per second")),
        dev=None,
        staging=HalfOfProduction("dynamodbMaxCapacity"),
        production=None,
        may_differ=True,
        doc="Ceiling of an on-demand table's reads and writes per second (on-demand only).",
        affects=(SetsInput(_TABLE, "onDemandThroughput*"),),
    )
    point_in_time_recovery: bool = dial(
        "pointInTimeRecovery",
        Boolean(),
        dev=False,
        staging=False,
        production=True,
        may_differ=True,
        doc="Continuous backups of the table (restore to any second of the last 35 days).",
        affects=(SetsInput(_TABLE, "pointInTimeRecovery.enabled"),),
    )
    s3_versioning: bool = dial(
        "s3Versioning",
        Boolean(),
        dev=False,
        staging=False,
        production=True,
        may_differ=True,
        doc="Object versioning on every bucket.",
        affects=(
            SetsInput("aws:s3/bucketVersioning:BucketVersioning", "versioningConfiguration.status"),
        ),
    )
    archive_glacier_after_days: int | None = dial(
        "archiveGlacierAfterDays",
        OrNone(IntegerRange(1, 36500, "days")),
        dev=None,
        staging=None,
        production=90,
        may_differ=True,
        doc="Archived objects move to Glacier after this many days; `none` keeps them in S3 "
        "Standard.",
        affects=(Creates("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),),
    )
    buckets_force_destroy: bool = dial(
        "bucketsForceDestroy",
        Boolean(),
        dev=True,
        staging=True,
        production=False,
        may_differ=True,
        doc="Whether destroying the stack may delete the non-empty ingest and archive buckets; "
        "production's must be emptied by hand first, so no market data (archived, or uploaded "
        "and not processed yet) is lost by accident.",
        affects=(SetsInput("aws:s3/bucket:Bucket", "forceDestroy"),),
    )
    alarm_profile: AlarmProfile = dial(
        "alarmProfile",
        Choice(AlarmProfile),
        dev=AlarmProfile.NONE,
        staging=AlarmProfile.RELAXED,
        production=AlarmProfile.STRICT,
        may_differ=True,
        doc="CloudWatch alarms and their topic: none, relaxed or strict thresholds.",
        affects=(
            Creates("platform:index:Alarms"),
            Creates("aws:sns/topic:Topic"),
            Creates(_ALARM),
            SetsInput(_ALARM, "threshold"),
            SetsInput(_ALARM, "period"),
            SetsInput(_ALARM, "evaluationPeriods"),
        ),
    )
    vpc_cidr: ipaddress.IPv4Network = dial(
        "vpcCidr",
        Ipv4Network(16, 24),
        dev=ipaddress.IPv4Network("10.2.0.0/16"),
        staging=ipaddress.IPv4Network("10.1.0.0/16"),
        production=ipaddress.IPv4Network("10.0.0.0/16"),
        may_differ=True,
        doc="Address range of the environment's VPC (distinct per environment, so they can "
        "be peered).",
        affects=(
            SetsInput("aws:ec2/vpc:Vpc", "cidrBlock"),
            SetsInput("aws:ec2/subnet:Subnet", "cidrBlock"),
        ),
    )
    availability_zone_count: int = dial(
        "availabilityZoneCount",
        IntegerRange(2, 6),
        everywhere=2,
        doc="Availability zones with a private subnet for the function.",
    )
    egress_mode: EgressMode = dial(
        "egressMode",
        Choice(EgressMode),
        everywhere=EgressMode.NONE,
        may_differ=True,
        doc="Internet egress of the function's subnets: none (S3 and DynamoDB use gateway "
        "endpoints), a NAT gateway, or a cheaper NAT instance.",
        affects=(
            Creates("aws:ec2/internetGateway:InternetGateway"),
            Creates("aws:ec2/eip:Eip"),
            Creates("aws:ec2/natGateway:NatGateway"),
            Creates("aws:ec2/instance:Instance"),
            Creates("aws:ec2/route:Route"),
            Creates(_SECURITY_GROUP, "nat-instance-security-group"),
            Creates("aws:ec2/routeTable:RouteTable", "public-routes"),
        ),
    )
    async_max_retry_attempts: int = dial(
        "asyncMaxRetryAttempts",
        IntegerRange(0, 2),
        everywhere=2,
        doc="Retries of a failed asynchronous invocation before it goes to the failure queue.",
        affects=(SetsInput(_INVOKE_CONFIG, "maximumRetryAttempts"),),
    )
    async_max_event_age_seconds: int = dial(
        "asyncMaxEventAgeSeconds",
        IntegerRange(60, MAX_EVENT_AGE_S, "seconds"),
        everywhere=3600,
        doc="How long an asynchronous event may wait for its retries before it goes to the "
        "failure queue.",
        affects=(SetsInput(_INVOKE_CONFIG, "maximumEventAgeInSeconds"),),
    )

    database: DatabaseEngine = dial(
        "database",
        Choice(DatabaseEngine),
        everywhere=DatabaseEngine.NONE,
        may_differ=True,
        doc="An optional relational database for the function: none, or an Aurora PostgreSQL "
        "cluster in the private subnets whose endpoint and credentials' secret the function "
        "gets.",
        affects=(
            Creates("platform:index:Database"),
            Creates(_DB_CLUSTER),
            Creates("aws:rds/subnetGroup:SubnetGroup"),
            Creates(_DB_INSTANCE, "instance-1"),
            Creates(_SECURITY_GROUP, "database-security-group"),
            Creates("aws:ec2/securityGroupRule:SecurityGroupRule", "database-from-function"),
            Creates("aws:ec2/vpcEndpoint:VpcEndpoint", "secretsmanager-endpoint"),
            Creates(_SECURITY_GROUP, "secretsmanager-endpoint-security-group"),
            SetsInput(_SECURITY_GROUP, "egress*"),
            SetsInput(_FUNCTION, "environment.variables.DATABASE_*"),
            SetsInput("aws:iam/rolePolicy:RolePolicy", "policy.Statement[ReadDatabaseSecret]*"),
        ),
    )
    database_engine_version: str = dial(
        "databaseEngineVersion",
        EngineVersion(),
        everywhere=DATABASE_ENGINE_VERSION,
        may_differ=True,
        doc="Aurora PostgreSQL version of the database (quote it in YAML). Environments may "
        "differ while an upgrade moves through them; RDS applies no minor upgrade by itself.",
        affects=(SetsInput(_DB_CLUSTER, "engineVersion"), SetsInput(_DB_INSTANCE, "engineVersion")),
    )
    database_instance_count: int = dial(
        "databaseInstanceCount",
        IntegerRange(1, 16, "instances"),
        dev=1,
        staging=1,
        production=2,
        may_differ=True,
        doc="Instances of the database: one writer, the rest readers it fails over to.",
        affects=(Creates(_DB_INSTANCE),),
    )
    database_instance_class: str = dial(
        "databaseInstanceClass",
        DbInstanceClass(),
        dev="db.t4g.medium",
        staging="db.r6g.large",
        production="db.r6g.xlarge",
        may_differ=True,
        doc="Instance class of every database instance: the Graviton counterparts of "
        'db.t3.medium, db.r5.large and db.r5.xlarge (see "The optional database").',
        affects=(SetsInput(_DB_INSTANCE, "instanceClass"),),
    )
    database_backup_retention_days: int = dial(
        "databaseBackupRetentionDays",
        IntegerRange(1, 35, "days"),
        dev=1,
        staging=7,
        production=30,
        may_differ=True,
        doc="Days of automated database backups (point-in-time restore within them).",
        affects=(SetsInput(_DB_CLUSTER, "backupRetentionPeriod"),),
    )
    database_deletion_protection: bool = dial(
        "databaseDeletionProtection",
        Boolean(),
        dev=False,
        staging=False,
        production=True,
        may_differ=True,
        doc="Whether AWS refuses to delete the database (turn it off, deploy, then destroy); "
        "off, the environment stays destroyable.",
        affects=(SetsInput(_DB_CLUSTER, "deletionProtection"),),
    )
    database_final_snapshot: bool = dial(
        "databaseFinalSnapshot",
        Boolean(),
        dev=False,
        staging=False,
        production=True,
        may_differ=True,
        doc="Whether deleting the database first takes a final snapshot of it (kept after the "
        "environment is destroyed).",
        affects=(
            SetsInput(_DB_CLUSTER, "skipFinalSnapshot"),
            SetsInput(_DB_CLUSTER, "finalSnapshotIdentifier"),
        ),
    )

    @property
    def tags(self) -> Mapping[str, str]:
        return mandatory_tags(self.environment, self.project, self.team, self.cost_center)

    @property
    def alarm_thresholds(self) -> AlarmThresholds | None:
        return ALARM_THRESHOLDS.get(self.alarm_profile)

    @property
    def dynamodb_autoscaling(self) -> AutoscalingRange | None:
        """The provisioned table's autoscaling range; None for an on-demand table."""
        if self.dynamodb_billing_mode is not BillingMode.PROVISIONED:
            return None
        return AutoscalingRange(
            self.dynamodb_min_capacity,
            self.dynamodb_max_capacity,
            self.dynamodb_target_utilization,
        )

    @property
    def lambda_runtime(self) -> str:
        return LAMBDA_RUNTIME

    @property
    def database_settings(self) -> DatabaseSettings | None:
        """The database's settings; None where there is no database."""
        if self.database is DatabaseEngine.NONE:
            return None
        return DatabaseSettings(
            self.database,
            self.database_engine_version,
            self.database_instance_class,
            self.database_instance_count,
            self.database_backup_retention_days,
            self.database_deletion_protection,
            self.database_final_snapshot,
        )


#: The dials by field name, in the table's order.
DIALS: Final[Mapping[str, Dial]] = dials_of(EnvironmentConfig)
