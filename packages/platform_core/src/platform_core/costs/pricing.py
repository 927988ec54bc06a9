"""A month of one environment, priced from what its program renders.

Every resource type the stack can register is either priced here (``PRICERS``: the function,
the table, the buckets, logs, alarms, queues, endpoints, NAT, instances and addresses) or listed
in ``FREE`` with the reason it costs nothing of its own; anything else is reported as unpriced,
so a new kind of resource cannot slip into the estimate unnoticed. What a resource costs follows
from its rendered inputs (memory, billing mode, capacity, retention, lifecycle, tracing, zones)
and the environment's workload (``costs/usage.yaml``); prices come from ``costs/prices.yaml``.
Free tiers are left out: an account's free tier is shared by every environment in it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from platform_core.consistency import resource_path
from platform_core.costs.inputs import RegionPrices, Usage
from platform_core.offline import RegisteredResource, RenderedStack
from processor.contract import ENV_ARCHIVE_BUCKET

__all__ = [
    "DAYS_PER_MONTH",
    "FREE",
    "HOURS_PER_MONTH",
    "PRICERS",
    "Estimate",
    "LineItem",
    "capacity_unit_hours",
    "estimate",
    "sampled_traces_per_day",
]

#: AWS prices a month as 730 hours.
HOURS_PER_MONTH: Final = 730.0
DAYS_PER_MONTH: Final = HOURS_PER_MONTH / 24
_KB_PER_GB: Final = 1024**2
_BYTES_PER_GB: Final = 1024**3
_MB_PER_GB: Final = 1024

# How the processor touches DynamoDB per invocation (services/processor README, "Exactly-once
# merge"): a ledger put and update (one write unit each, items under 1 KB); per bar, a strongly
# consistent read (one read unit, items under 4 KB) and two puts in a transaction (two write
# units each: transactional writes cost double).
_LEDGER_WRITE_UNITS: Final = 2
_WRITE_UNITS_PER_BAR: Final = 4
_READ_UNITS_PER_BAR: Final = 1
# Requests one failed event costs the failure queue: Lambda's send, an operator's receive and
# delete when redriving it.
_REQUESTS_PER_FAILED_EVENT: Final = 3
# X-Ray's default sampling rule: the first request each second, then 5 % of the rest.
_XRAY_RESERVOIR_PER_SECOND: Final = 1
_XRAY_FIXED_RATE: Final = 0.05
# S3 bills each object in GLACIER or DEEP_ARCHIVE 32 KB more at that class's rate and 8 KB at
# STANDARD's (the index that lets it be listed and restored).
_COLD_INDEX_KB: Final = 32
_STANDARD_INDEX_KB: Final = 8
_OVERHEAD_CLASSES: Final = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# Lifecycle rules skip objects under 128 KB unless told otherwise (AWS's default since 2024-09);
# `varies_by_storage_class` lets small objects go to GLACIER and DEEP_ARCHIVE.
_TRANSITION_MINIMUM_BYTES: Final = 128 * 1024
# The root volume a NAT instance gets from Amazon Linux 2023's image when none is given.
_DEFAULT_ROOT_VOLUME_GB: Final = 8
# Alarms Application Auto Scaling creates for one target-tracking policy (DynamoDB adds a pair
# on the provisioned capacity itself).
_TARGET_TRACKING_ALARMS: Final = {"dynamodb": 4}
_DEFAULT_TARGET_TRACKING_ALARMS: Final = 2
_HIGH_RESOLUTION_PERIOD_S: Final = 60


@dataclass(frozen=True)
class LineItem:
    """One thing paid for: ``quantity`` ``unit`` at ``unit_price`` dollars each, in a month."""

    service: str
    item: str
    resource: str
    quantity: float
    unit: str
    unit_price: float

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Estimate:
    """A month of one environment."""

    environment: str
    region: str
    items: tuple[LineItem, ...]
    #: Resources of a type neither priced nor known to be free (logical paths).
    unpriced: tuple[str, ...] = ()
    #: What the estimate had to assume or leave out, in words.
    notes: tuple[str, ...] = ()
    #: Why there is no estimate at all (the price sheet lacks the region); then no items.
    not_estimated: str | None = None

    @property
    def estimated(self) -> bool:
        return self.not_estimated is None

    @property
    def total(self) -> float:
        return sum(item.monthly for item in self.items)

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for item in self.items:
            totals[item.service] = totals.get(item.service, 0.0) + item.monthly
        return totals


@dataclass
class _Context:
    stack: RenderedStack
    usage: Usage
    prices: RegionPrices
    notes: list[str] = field(default_factory=list)

    def path(self, resource: RegisteredResource) -> str:
        return resource_path(self.stack, resource.urn).split(" ", 1)[1]

    @property
    def invocations_per_month(self) -> float:
        return self.usage.invocations_per_day * DAYS_PER_MONTH

    @property
    def trades_per_invocation(self) -> float:
        invocations = self.usage.invocations_per_day
        return self.usage.trades_per_day / invocations if invocations else 0.0


Pricer = Callable[[_Context, RegisteredResource], list[LineItem]]


def _dollars(amount: float) -> str:
    """Dollars to the cent (the report's own formatting lives in ``costs.report``)."""
    return f"${amount:,.2f}"


def _price(prices: Mapping[str, float], key: str, what: str) -> float:
    if key not in prices:
        raise LookupError(f"no {what} price for {key}")
    return prices[key]


def sampled_traces_per_day(invocations_per_day: float, active_hours: float) -> float:
    """Traces X-Ray's default rule records when the invocations arrive over ``active_hours``."""
    reservoir = _XRAY_RESERVOIR_PER_SECOND * 3600 * active_hours
    kept = min(invocations_per_day, reservoir)
    return kept + _XRAY_FIXED_RATE * max(0.0, invocations_per_day - reservoir)


def capacity_unit_hours(
    units_per_day: float,
    active_hours: float,
    minimum: float,
    maximum: float,
    target_percent: float,
) -> tuple[float, bool]:
    """Provisioned unit-hours a month under target tracking, and whether demand exceeds the
    maximum: the load's hours run at the capacity that keeps it at the target utilisation
    (within ``minimum``…``maximum``), the other hours at the minimum."""
    per_second = units_per_day / (active_hours * 3600)
    needed = math.ceil(per_second / (target_percent / 100)) if per_second else 0
    during = min(max(needed, minimum), maximum)
    hours_a_day = during * active_hours + minimum * (24 - active_hours)
    return hours_a_day * DAYS_PER_MONTH, per_second > maximum


def _function(context: _Context, function: RegisteredResource) -> list[LineItem]:
    usage, prices, path = context.usage, context.prices, context.path(function)
    architectures = function.inputs.get("architectures") or ["x86_64"]
    architecture = str(architectures[0])
    duration_price = _price(prices.lambda_.gb_second, architecture, "Lambda duration")
    memory_gb = float(function.inputs.get("memorySize", 128)) / 1024
    duration_s = (
        usage.function_base_ms
        + context.trades_per_invocation / 1000 * usage.function_ms_per_thousand_trades
    ) / 1000
    invocations = context.invocations_per_month
    items = [
        LineItem("Lambda", "requests", path, invocations / 1e6, "million requests",
                 prices.lambda_.requests_per_million),
        LineItem("Lambda", f"duration ({architecture}, {memory_gb * 1024:.0f} MB)", path,
                 invocations * duration_s * memory_gb, "GB-seconds", duration_price),
    ]  # fmt: skip
    if (function.inputs.get("tracingConfig") or {}).get("mode") == "Active":
        traces = sampled_traces_per_day(usage.invocations_per_day, usage.active_hours_per_day)
        items.append(
            LineItem("X-Ray", "traces recorded (default sampling)", path,
                     traces * DAYS_PER_MONTH / 1e6, "million traces",
                     prices.xray.traces_recorded_per_million)
        )  # fmt: skip
    return items


def _scaling(
    context: _Context, table_name: str, dimension: str
) -> tuple[float, float, float] | None:
    """(minimum, maximum, target %) of the table's target tracking on ``dimension``."""
    resource_id = f"table/{table_name}"
    targets = [
        target
        for target in context.stack.of_type("aws:appautoscaling/target:Target")
        if target.inputs.get("resourceId") == resource_id
        and target.inputs.get("scalableDimension") == dimension
    ]
    policies = [
        policy
        for policy in context.stack.of_type("aws:appautoscaling/policy:Policy")
        if policy.inputs.get("resourceId") == resource_id
        and policy.inputs.get("scalableDimension") == dimension
    ]
    if not targets or not policies:
        return None
    tracking = policies[0].inputs.get("targetTrackingScalingPolicyConfiguration") or {}
    return (
        float(targets[0].inputs["minCapacity"]),
        float(targets[0].inputs["maxCapacity"]),
        float(tracking.get("targetValue", 70)),
    )


def _provisioned(
    context: _Context, table: RegisteredResource, kind: str, units_per_day: float
) -> LineItem:
    name = str(table.inputs.get("name"))
    scaling = _scaling(context, name, f"dynamodb:table:{kind.capitalize()}CapacityUnits")
    if scaling is None:
        fixed = float(table.inputs.get(f"{kind}Capacity") or 0)
        unit_hours, over = fixed * 24 * DAYS_PER_MONTH, units_per_day / 86400 > fixed
    else:
        unit_hours, over = capacity_unit_hours(
            units_per_day, context.usage.active_hours_per_day, *scaling
        )
    if over:
        context.notes.append(
            f"`{context.path(table)}`: the assumed {kind}s exceed its provisioned maximum in the "
            "active hours; DynamoDB throttles what is beyond it"
        )
    dynamodb, read = context.prices.dynamodb, kind == "read"
    price = dynamodb.read_capacity_unit_hour if read else dynamodb.write_capacity_unit_hour
    unit = "RCU-hours" if read else "WCU-hours"
    return LineItem("DynamoDB", f"provisioned {kind} capacity", context.path(table), unit_hours,
                    unit, price)  # fmt: skip


def _table(context: _Context, table: RegisteredResource) -> list[LineItem]:
    usage, prices, path = context.usage, context.prices.dynamodb, context.path(table)
    invocations = usage.invocations_per_day
    writes = invocations * (_LEDGER_WRITE_UNITS + _WRITE_UNITS_PER_BAR * usage.bars_per_invocation)
    reads = invocations * _READ_UNITS_PER_BAR * usage.bars_per_invocation
    if table.inputs.get("billingMode") == "PROVISIONED":
        items = [
            _provisioned(context, table, "write", writes),
            _provisioned(context, table, "read", reads),
        ]
    else:
        items = [
            LineItem("DynamoDB", "on-demand writes", path, writes * DAYS_PER_MONTH / 1e6,
                     "million write request units", prices.write_request_units_per_million),
            LineItem("DynamoDB", "on-demand reads", path, reads * DAYS_PER_MONTH / 1e6,
                     "million read request units", prices.read_request_units_per_million),
        ]  # fmt: skip
    items.append(
        LineItem("DynamoDB", "storage", path, usage.table_stored_gb, "GB-months",
                 prices.storage_gb_month)
    )  # fmt: skip
    if (table.inputs.get("pointInTimeRecovery") or {}).get("enabled"):
        items.append(
            LineItem("DynamoDB", "point-in-time recovery", path, usage.table_stored_gb,
                     "GB-months", prices.point_in_time_recovery_gb_month)
        )  # fmt: skip
    return items


def _bucket_role(context: _Context, name: str) -> str | None:
    """`ingest` (it triggers the function) or `archive` (the function writes it), or None."""
    if any(
        notification.inputs.get("bucket") == name
        for notification in context.stack.of_type("aws:s3/bucketNotification:BucketNotification")
    ):
        return "ingest"
    for function in context.stack.of_type("aws:lambda/function:Function"):
        variables = (function.inputs.get("environment") or {}).get("variables") or {}
        if variables.get(ENV_ARCHIVE_BUCKET) == name:
            return "archive"
    return None


def _transition(context: _Context, name: str) -> tuple[int, str, float] | None:
    """(days, storage class, smallest object size in bytes it moves) of the bucket's first
    enabled lifecycle transition, or None."""
    for lifecycle in context.stack.of_type(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    ):
        if lifecycle.inputs.get("bucket") != name:
            continue
        default = lifecycle.inputs.get("transitionDefaultMinimumObjectSize")
        for rule in lifecycle.inputs.get("rules") or []:
            transitions = rule.get("transitions") or []
            if rule.get("status") != "Enabled" or not transitions:
                continue
            storage_class = str(transitions[0]["storageClass"])
            smallest = float(_TRANSITION_MINIMUM_BYTES)
            if default == "varies_by_storage_class" and storage_class in _OVERHEAD_CLASSES:
                smallest = 0.0
            custom = (rule.get("filter") or {}).get("objectSizeGreaterThan")
            if custom is not None:
                smallest = float(custom) + 1
            return int(transitions[0]["days"]), storage_class, smallest
    return None


def _expires(context: _Context, name: str) -> bool:
    """Whether an enabled lifecycle rule of the bucket deletes objects."""
    return any(
        rule.get("status") == "Enabled" and rule.get("expiration")
        for lifecycle in context.stack.of_type(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        )
        if lifecycle.inputs.get("bucket") == name
        for rule in lifecycle.inputs.get("rules") or []
    )


def _growth(context: _Context, path: str, gb_a_month: float, storage_class: str) -> None:
    """A bucket that keeps everything costs more every month: say by how much."""
    price = context.prices.s3.storage_gb_month.get(storage_class, 0.0)
    context.notes.append(
        f"`{path}`: nothing expires, so it grows by {gb_a_month:.3g} GB a month in "
        f"{storage_class}: {_dollars(gb_a_month * price)} a month more every month"
    )


def _archive_storage(context: _Context, name: str, path: str) -> list[LineItem]:
    usage, s3 = context.usage, context.prices.s3
    stored = usage.archive_stored_gb
    object_bytes = context.trades_per_invocation * usage.archived_bytes_per_trade
    daily_gb = usage.invocations_per_day * object_bytes / _BYTES_PER_GB
    transition = _transition(context, name)
    standard = LineItem("S3", "STANDARD storage", path, stored, "GB-months",
                        s3.storage_gb_month["STANDARD"])  # fmt: skip
    if transition is None or object_bytes < transition[2]:
        if transition is not None:
            context.notes.append(
                f"`{path}`: archived objects average {object_bytes / 1024:.1f} KB, under the "
                f"{transition[2] / 1024:.0f} KB its lifecycle rule moves, so they stay in STANDARD"
            )
        if not _expires(context, name):
            _growth(context, path, daily_gb * DAYS_PER_MONTH, "STANDARD")
        return [standard]
    days, storage_class, _ = transition
    if not _expires(context, name):
        _growth(context, path, daily_gb * DAYS_PER_MONTH, storage_class)
    recent = min(stored, daily_gb * days)
    cold = stored - recent
    cold_objects = cold * _BYTES_PER_GB / object_bytes if object_bytes else 0.0
    items = [
        LineItem("S3", "STANDARD storage", path, recent, "GB-months",
                 s3.storage_gb_month["STANDARD"]),
        LineItem("S3", f"{storage_class} storage", path, cold, "GB-months",
                 _price(s3.storage_gb_month, storage_class, "S3 storage")),
        LineItem("S3", f"lifecycle transitions to {storage_class}", path,
                 usage.invocations_per_day * DAYS_PER_MONTH / 1000, "thousand requests",
                 _price(s3.transition_requests_per_thousand, storage_class, "S3 transition")),
    ]  # fmt: skip
    if storage_class in _OVERHEAD_CLASSES:
        for target, kb in ((storage_class, _COLD_INDEX_KB), ("STANDARD", _STANDARD_INDEX_KB)):
            items.append(
                LineItem("S3", f"{target} index of archived objects ({kb} KB each)", path,
                         cold_objects * kb / _KB_PER_GB, "GB-months",
                         _price(s3.storage_gb_month, target, "S3 storage"))
            )  # fmt: skip
    return items


def _bucket(context: _Context, bucket: RegisteredResource) -> list[LineItem]:
    usage, s3, path = context.usage, context.prices.s3, context.path(bucket)
    name = str(bucket.inputs.get("bucket"))
    role = _bucket_role(context, name)
    thousands = DAYS_PER_MONTH / 1000
    if role == "ingest":
        if not _expires(context, name):
            monthly_gb = usage.objects_per_day * usage.average_object_mb / _MB_PER_GB
            _growth(context, path, monthly_gb * DAYS_PER_MONTH, "STANDARD")
        return [
            LineItem("S3", "STANDARD storage", path, usage.ingest_stored_gb, "GB-months",
                     s3.storage_gb_month["STANDARD"]),
            LineItem("S3", "uploads (PUT)", path, usage.objects_per_day * thousands,
                     "thousand requests", s3.put_requests_per_thousand),
            LineItem("S3", "function reads (GET)", path, usage.objects_per_day * thousands,
                     "thousand requests", s3.get_requests_per_thousand),
        ]  # fmt: skip
    if role == "archive":
        return [
            *_archive_storage(context, name, path),
            LineItem("S3", "archive writes (PUT)", path,
                     usage.invocations_per_day * thousands, "thousand requests",
                     s3.put_requests_per_thousand),
        ]  # fmt: skip
    context.notes.append(f"`{path}`: neither the ingest nor the archive bucket; not priced")
    return []


def _log_group(context: _Context, group: RegisteredResource) -> list[LineItem]:
    cloudwatch, path = context.prices.cloudwatch, context.path(group)
    name = group.inputs.get("name")
    written = any(
        (function.inputs.get("loggingConfig") or {}).get("logGroup") == name
        for function in context.stack.of_type("aws:lambda/function:Function")
    )
    daily_gb = (
        context.usage.invocations_per_day * context.usage.log_kb_per_invocation / _KB_PER_GB
        if written
        else 0.0
    )
    retention = group.inputs.get("retentionInDays")
    if not retention:
        context.notes.append(f"`{path}`: logs are kept forever; storage priced for a year of them")
        retention = 365
    return [
        LineItem("CloudWatch", "log ingestion", path, daily_gb * DAYS_PER_MONTH, "GB",
                 cloudwatch.log_ingestion_gb),
        LineItem("CloudWatch", f"log storage ({float(retention):.0f} days kept)", path,
                 daily_gb * float(retention), "GB-months", cloudwatch.log_storage_gb_month),
    ]  # fmt: skip


def _alarm(context: _Context, alarm: RegisteredResource) -> list[LineItem]:
    cloudwatch = context.prices.cloudwatch
    high = float(alarm.inputs.get("period", 60)) < _HIGH_RESOLUTION_PERIOD_S
    price = cloudwatch.high_resolution_alarm_month if high else cloudwatch.standard_alarm_month
    kind = "high-resolution alarm" if high else "alarm"
    return [LineItem("CloudWatch", kind, context.path(alarm), 1, "alarm-months", price)]


def _scaling_policy(context: _Context, policy: RegisteredResource) -> list[LineItem]:
    """Target tracking works through CloudWatch alarms that AWS creates, and bills, for it."""
    if policy.inputs.get("policyType") != "TargetTrackingScaling":
        return []
    namespace = str(policy.inputs.get("serviceNamespace", ""))
    count = _TARGET_TRACKING_ALARMS.get(namespace, _DEFAULT_TARGET_TRACKING_ALARMS)
    return [
        LineItem("CloudWatch", "target-tracking alarms (created by AWS)", context.path(policy),
                 count, "alarm-months", context.prices.cloudwatch.standard_alarm_month)
    ]  # fmt: skip


def _queue(context: _Context, queue: RegisteredResource) -> list[LineItem]:
    name = queue.inputs.get("name")
    destinations = [
        str(
            ((config.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get(
                "destination"
            )
        )
        for config in context.stack.of_type(
            "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
        )
    ]
    # A queue's ARN ends with its name: arn:aws:sqs:<region>:<account>:<name>.
    destination = bool(name) and any(arn.rsplit(":", 1)[-1] == name for arn in destinations)
    failed = context.usage.failed_events_per_day if destination else 0.0
    requests = failed * _REQUESTS_PER_FAILED_EVENT * DAYS_PER_MONTH
    return [
        LineItem("SQS", "requests (failed events)", context.path(queue), requests / 1e6,
                 "million requests", context.prices.sqs.requests_per_million)
    ]  # fmt: skip


def _endpoint(context: _Context, endpoint: RegisteredResource) -> list[LineItem]:
    """Interface endpoints are paid per hour in each zone; gateway endpoints are free."""
    if endpoint.inputs.get("vpcEndpointType") != "Interface":
        return []
    zones = len(endpoint.inputs.get("subnetIds") or []) or 1
    service = str(endpoint.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
    return [
        LineItem("VPC", f"{service} interface endpoint ({zones} zones)", context.path(endpoint),
                 zones * HOURS_PER_MONTH, "endpoint-hours",
                 context.prices.vpc.interface_endpoint_hour)
    ]  # fmt: skip


def _internet(context: _Context, path: str) -> LineItem:
    return LineItem("Data transfer", "out to the internet", path,
                    context.usage.internet_gb_per_day * DAYS_PER_MONTH, "GB",
                    context.prices.data_transfer.internet_out_gb)  # fmt: skip


def _nat_gateway(context: _Context, gateway: RegisteredResource) -> list[LineItem]:
    vpc, path = context.prices.vpc, context.path(gateway)
    return [
        LineItem("VPC", "NAT gateway", path, HOURS_PER_MONTH, "hours", vpc.nat_gateway_hour),
        LineItem("VPC", "NAT gateway data processed", path,
                 context.usage.internet_gb_per_day * DAYS_PER_MONTH, "GB", vpc.nat_gateway_gb),
        _internet(context, path),
    ]  # fmt: skip


def _address(context: _Context, address: RegisteredResource) -> list[LineItem]:
    return [
        LineItem("VPC", "public IPv4 address", context.path(address), HOURS_PER_MONTH, "hours",
                 context.prices.vpc.public_ipv4_hour)
    ]  # fmt: skip


def _instance(context: _Context, instance: RegisteredResource) -> list[LineItem]:
    ec2, path = context.prices.ec2, context.path(instance)
    instance_type = str(instance.inputs.get("instanceType"))
    hourly = _price(ec2.instance_hour, instance_type, "EC2 instance")
    volume = (instance.inputs.get("rootBlockDevice") or {}).get("volumeSize")
    items = [
        LineItem("EC2", f"{instance_type} instance", path, HOURS_PER_MONTH, "hours", hourly),
        LineItem("EC2", "root volume (gp3)", path, float(volume or _DEFAULT_ROOT_VOLUME_GB),
                 "GB-months", ec2.gp3_gb_month),
    ]  # fmt: skip
    if instance.inputs.get("associatePublicIpAddress"):
        items += _address(context, instance)
    if instance.inputs.get("sourceDestCheck") is False:  # a NAT instance: traffic passes through
        items.append(_internet(context, path))
    return items


_AURORA_POSTGRESQL: Final = "aurora-postgresql"
#: Aurora Standard: storage I/O billed per request (`aurora-iopt1` includes it, at other rates).
_AURORA_STANDARD_STORAGE: Final = ("", "aurora")


def _aurora_engine(resource: RegisteredResource) -> None:
    engine = str(resource.inputs.get("engine", ""))
    if engine != _AURORA_POSTGRESQL:
        raise LookupError(f"no price for database engine {engine}")


def _database_cluster(context: _Context, cluster: RegisteredResource) -> list[LineItem]:
    """Storage, its I/O and the backups beyond the cluster's size; RDS's secret, if it keeps one."""
    _aurora_engine(cluster)
    storage_type = str(cluster.inputs.get("storageType") or "")
    if storage_type not in _AURORA_STANDARD_STORAGE:
        raise LookupError(f"no price for Aurora storage type {storage_type}")
    usage, rds, path = context.usage, context.prices.rds, context.path(cluster)
    retention = float(cluster.inputs.get("backupRetentionPeriod") or 1)
    items = [
        LineItem("RDS", "Aurora storage", path, usage.database_stored_gb, "GB-months",
                 rds.aurora_storage_gb_month),
        LineItem("RDS", "Aurora storage I/O", path,
                 usage.database_io_millions_per_day * DAYS_PER_MONTH, "million requests",
                 rds.aurora_io_requests_per_million),
        # What the backups keep beyond the cluster's own size (free): the changes of the days
        # they are kept.
        LineItem("RDS", f"backups ({retention:.0f} days kept)", path,
                 usage.database_changed_gb_per_day * retention, "GB-months",
                 rds.aurora_backup_gb_month),
    ]  # fmt: skip
    if cluster.inputs.get("manageMasterUserPassword"):
        items.append(
            LineItem("Secrets Manager", "master password secret (kept by RDS)", path, 1,
                     "secret-months", context.prices.secrets_manager.secret_month)
        )  # fmt: skip
    return items


def _database_instance(context: _Context, instance: RegisteredResource) -> list[LineItem]:
    _aurora_engine(instance)
    instance_class = str(instance.inputs.get("instanceClass"))
    hourly = _price(
        context.prices.rds.aurora_postgresql_instance_hour, instance_class, "Aurora instance"
    )
    return [
        LineItem("RDS", f"{instance_class} instance", context.path(instance), HOURS_PER_MONTH,
                 "hours", hourly)
    ]  # fmt: skip


#: The priced resource types and how.
PRICERS: Final[Mapping[str, Pricer]] = {
    "aws:lambda/function:Function": _function,
    "aws:dynamodb/table:Table": _table,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:appautoscaling/policy:Policy": _scaling_policy,
    "aws:sqs/queue:Queue": _queue,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/eip:Eip": _address,
    "aws:ec2/instance:Instance": _instance,
    "aws:rds/cluster:Cluster": _database_cluster,
    "aws:rds/clusterInstance:ClusterInstance": _database_instance,
}

_CONFIGURES_BUCKET = "configures a bucket; its cost is the bucket's"
#: Resource types with no charge of their own, and why.
FREE: Final[Mapping[str, str]] = {
    "aws:ec2/vpc:Vpc": "no charge",
    "aws:ec2/subnet:Subnet": "no charge",
    "aws:ec2/routeTable:RouteTable": "no charge",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "no charge",
    "aws:ec2/route:Route": "no charge",
    "aws:ec2/securityGroup:SecurityGroup": "no charge",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "no charge",
    "aws:rds/subnetGroup:SubnetGroup": "no charge",
    "aws:ec2/internetGateway:InternetGateway": "no charge (its traffic is priced at the NAT)",
    "aws:iam/role:Role": "no charge",
    "aws:iam/rolePolicy:RolePolicy": "no charge",
    "aws:lambda/permission:Permission": "no charge",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "no charge",
    "aws:appautoscaling/target:Target": "no charge (the capacity it sets is priced with the table)",
    "aws:sns/topic:Topic": "alarm notifications: the first thousand e-mails a month are free",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _CONFIGURES_BUCKET,
    "aws:s3/bucketPolicy:BucketPolicy": _CONFIGURES_BUCKET,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _CONFIGURES_BUCKET,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "SSE-S3 encryption has no charge"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _CONFIGURES_BUCKET,
    "aws:s3/bucketNotification:BucketNotification": _CONFIGURES_BUCKET,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _CONFIGURES_BUCKET,
}


def _is_aws_resource(resource: RegisteredResource) -> bool:
    """Components and providers are Pulumi's, not AWS's."""
    return resource.custom and resource.type.startswith("aws:")


def estimate(
    rendered: RenderedStack, environment: str, usage: Usage, prices: RegionPrices, region: str
) -> Estimate:
    """The month of ``rendered`` with ``usage``, at ``prices`` (those of ``region``)."""
    context = _Context(rendered, usage, prices)
    items: list[LineItem] = []
    unpriced: list[str] = []
    for resource in rendered.resources:
        if not _is_aws_resource(resource) or resource.type in FREE:
            continue
        pricer = PRICERS.get(resource.type)
        if pricer is None:
            unpriced.append(f"{resource.type} {context.path(resource)}")
            continue
        try:
            items += pricer(context, resource)
        except LookupError as error:
            unpriced.append(f"{resource.type} {context.path(resource)}")
            context.notes.append(f"`{context.path(resource)}`: {error} in the price sheet")
    items.sort(key=lambda item: (item.service, item.resource, item.item))
    return Estimate(
        environment, region, tuple(items), tuple(sorted(unpriced)), tuple(sorted(context.notes))
    )
