"""The cost model's arithmetic on a stack written out by hand, and its two input files.

The stack below is built resource by resource (no engine); every expected amount is worked out
by hand in the comments from the round prices and the workload next to it, not by the code.
A month is 730 hours, so 730 / 24 = 30.41667 days.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from platform_core.costs import CostInputError, load_inputs, stack_region
from platform_core.costs.inputs import RegionPrices, Usage, UsageFile, read_prices, read_usage
from platform_core.costs.pricing import (
    Estimate,
    LineItem,
    capacity_unit_hours,
    estimate,
    sampled_traces_per_day,
)
from platform_core.costs.report import money, quantity, unit_price
from platform_core.offline import RegisteredResource, RenderedStack
from tests.repository import REPO_ROOT

DAYS = 730 / 24
ROOT_URN = "urn:pulumi:t::p::platform:index:TradingPlatform::app"

PRICES: dict[str, Any] = {
    "lambda": {"source": "s", "requests_per_million": 0.20, "gb_second": {"arm64": 0.00001}},
    "dynamodb": {
        "source": "s",
        "write_request_units_per_million": 1.0,
        "read_request_units_per_million": 0.25,
        "write_capacity_unit_hour": 0.001,
        "read_capacity_unit_hour": 0.0002,
        "storage_gb_month": 0.25,
        "point_in_time_recovery_gb_month": 0.2,
    },
    "s3": {
        "source": "s",
        "storage_gb_month": {"STANDARD": 0.02, "GLACIER": 0.004},
        "put_requests_per_thousand": 0.005,
        "get_requests_per_thousand": 0.0004,
        "transition_requests_per_thousand": {"GLACIER": 0.03},
    },
    "cloudwatch": {
        "source": "s",
        "log_ingestion_gb": 0.5,
        "log_storage_gb_month": 0.03,
        "standard_alarm_month": 0.1,
        "high_resolution_alarm_month": 0.3,
    },
    "xray": {"source": "s", "traces_recorded_per_million": 5.0},
    "sqs": {"source": "s", "requests_per_million": 0.4},
    "vpc": {
        "source": "s",
        "nat_gateway_hour": 0.05,
        "nat_gateway_gb": 0.05,
        "interface_endpoint_hour": 0.01,
        "interface_endpoint_gb": 0.01,
        "public_ipv4_hour": 0.005,
    },
    "ec2": {"source": "s", "instance_hour": {"t4g.nano": 0.004}, "gp3_gb_month": 0.08},
    "data_transfer": {"source": "s", "internet_out_gb": 0.09},
    "rds": {
        "source": "s",
        "aurora_postgresql_instance_hour": {"db.r6g.large": 0.25},
        "aurora_storage_gb_month": 0.1,
        "aurora_io_requests_per_million": 0.2,
        "aurora_backup_gb_month": 0.02,
    },
    "secrets_manager": {"source": "s", "secret_month": 0.4},
}

# 100 invocations a day (40 files, 60 direct) of 1,000 trades each.
USAGE: dict[str, Any] = {
    "trades_per_day": 100_000,
    "objects_per_day": 40,
    "average_object_mb": 1,
    "direct_invocations_per_day": 60,
    "function_base_ms": 100,
    "function_ms_per_thousand_trades": 10,
    "bars_per_invocation": 10,
    "archived_bytes_per_trade": 200,
    "log_kb_per_invocation": 4,
    "failed_events_per_day": 2,
    "internet_gb_per_day": 1,
    "active_hours_per_day": 10,
    "table_stored_gb": 2,
    "ingest_stored_gb": 10,
    "archive_stored_gb": 50,
    "database_stored_gb": 100,
    "database_io_millions_per_day": 2,
    "database_changed_gb_per_day": 1,
}


def prices() -> RegionPrices:
    return msgspec.convert(PRICES, RegionPrices)


def usage(**changes: Any) -> Usage:
    return msgspec.convert({**USAGE, **changes}, Usage)


def resource(type_: str, local: str, state: dict[str, Any] | None = None, **inputs: Any):
    """A child of the platform component, `app-<local>` (its path: `app/<local>`)."""
    return RegisteredResource(
        urn=f"urn:pulumi:t::p::platform:index:TradingPlatform${type_}::app-{local}",
        type=type_, name=f"app-{local}", custom=True, parent=ROOT_URN, provider="",
        inputs=inputs, state=state or {}, dependencies=(), protect=False,
        retain_on_delete=False, ignore_changes=(),
    )  # fmt: skip


def stack(*resources: RegisteredResource) -> RenderedStack:
    root = RegisteredResource(
        urn=ROOT_URN, type="platform:index:TradingPlatform", name="app", custom=False,
        parent="", provider="", inputs={}, state={}, dependencies=(), protect=False,
        retain_on_delete=False, ignore_changes=(),
    )  # fmt: skip
    return RenderedStack(project="p", stack="t", resources=(root, *resources), outputs={})


FUNCTION = resource(
    "aws:lambda/function:Function", "function", name="fn", memorySize=1024.0,
    architectures=["arm64"], tracingConfig={"mode": "Active"},
    environment={"variables": {"ARCHIVE_BUCKET": "archive-bucket"}},
    loggingConfig={"logGroup": "/aws/lambda/fn"},
)  # fmt: skip
PLATFORM = stack(
    FUNCTION,
    resource("aws:dynamodb/table:Table", "table", name="bars", billingMode="PAY_PER_REQUEST",
             pointInTimeRecovery={"enabled": True}),
    resource("aws:s3/bucket:Bucket", "ingest", bucket="ingest-bucket"),
    resource("aws:s3/bucketNotification:BucketNotification", "trigger", bucket="ingest-bucket"),
    resource("aws:s3/bucket:Bucket", "archive", bucket="archive-bucket"),
    resource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle",
             bucket="archive-bucket",
             rules=[{"status": "Enabled", "transitions": [{"days": 30, "storageClass": "GLACIER"}]}]),
    resource("aws:cloudwatch/logGroup:LogGroup", "logs", name="/aws/lambda/fn",
             retentionInDays=14.0),
    resource("aws:cloudwatch/metricAlarm:MetricAlarm", "errors", period=60.0),
    resource("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", period=10.0),
    resource("aws:sqs/queue:Queue", "failures", name="q"),
    resource("aws:sqs/queue:Queue", "other", name="r"),
    resource("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "retries",
             destinationConfig={"onFailure": {"destination": "arn:aws:sqs:us-east-1:1:q"}}),
    resource("aws:ec2/vpcEndpoint:VpcEndpoint", "xray", vpcEndpointType="Interface",
             serviceName="com.amazonaws.us-east-1.xray", subnetIds=["a", "b"]),
    resource("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", vpcEndpointType="Gateway"),
    resource("aws:ec2/natGateway:NatGateway", "nat"),
    resource("aws:ec2/eip:Eip", "nat-address"),
    resource("aws:ec2/vpc:Vpc", "vpc"),
)  # fmt: skip


def monthly(result: Estimate) -> dict[tuple[str, str], float]:
    return {(item.resource, item.item): item.monthly for item in result.items}


def test_a_month_of_the_platform_worked_out_by_hand():
    result = estimate(PLATFORM, "t", usage(), prices(), "us-east-1")
    # 100 invocations a day: 3,041.667 a month, 0.11 s each (100 ms + 1,000 trades x 10 ms / 1000).
    expected = {
        # 3,041.667 / 1e6 x $0.20
        ("app/function", "requests"): 0.00060833,
        # 3,041.667 x 0.11 s x 1 GB = 334.583 GB-s x $0.00001
        ("app/function", "duration (arm64, 1024 MB)"): 0.00334583,
        # 100 a day are under the 36,000 one-a-second traces of 10 hours: all kept, x $5 / 1e6
        ("app/function", "traces recorded (default sampling)"): 0.01520833,
        # 100 x (2 ledger + 4 x 10 bars) = 4,200 write units a day: 127,750 a month x $1 / 1e6
        ("app/table", "on-demand writes"): 0.12775,
        # 100 x 10 = 1,000 read units a day: 30,416.67 a month x $0.25 / 1e6
        ("app/table", "on-demand reads"): 0.00760417,
        ("app/table", "storage"): 0.5,  # 2 GB x $0.25
        ("app/table", "point-in-time recovery"): 0.4,  # 2 GB x $0.20
        ("app/ingest", "STANDARD storage"): 0.2,  # 10 GB x $0.02
        # 40 a day: 1.2167 thousand a month x $0.005, x $0.0004
        ("app/ingest", "uploads (PUT)"): 0.00608333,
        ("app/ingest", "function reads (GET)"): 0.00048667,
        # Archive objects: 1,000 trades x 200 B = 200,000 B, above the 128 KB (131,072 B) floor.
        # New data: 100 x 200,000 B = 0.0186265 GB a day; 30 days of it stay in STANDARD:
        # 0.558794 GB x $0.02; the other 49.441206 GB are in GLACIER x $0.004.
        ("app/archive", "STANDARD storage"): 0.01117587,
        ("app/archive", "GLACIER storage"): 0.19776483,
        # Every object moves once: 3.041667 thousand a month x $0.03
        ("app/archive", "lifecycle transitions to GLACIER"): 0.09125,
        # 49.441206 GB / 200,000 B = 265,435.46 objects in GLACIER, each 32 KB more there
        # (8.100447 GB x $0.004) and 8 KB in STANDARD (2.025112 GB x $0.02)
        ("app/archive", "GLACIER index of archived objects (32 KB each)"): 0.03240179,
        ("app/archive", "STANDARD index of archived objects (8 KB each)"): 0.04050224,
        ("app/archive", "archive writes (PUT)"): 0.01520833,  # 3.041667 thousand x $0.005
        # 100 x 4 KB = 0.00038147 GB a day: 0.011603 GB a month x $0.50; 14 days kept x $0.03
        ("app/logs", "log ingestion"): 0.00580152,
        ("app/logs", "log storage (14 days kept)"): 0.00016022,
        ("app/errors", "alarm"): 0.1,
        ("app/fast", "high-resolution alarm"): 0.3,  # a 10-second period
        # 2 failed events a day x 3 requests x 30.41667 = 182.5 requests x $0.40 / 1e6
        ("app/failures", "requests (failed events)"): 0.000073,
        ("app/other", "requests (failed events)"): 0.0,  # not the functions' failure queue
        ("app/xray", "xray interface endpoint (2 zones)"): 14.6,  # 2 x 730 h x $0.01
        ("app/nat", "NAT gateway"): 36.5,  # 730 h x $0.05
        ("app/nat", "NAT gateway data processed"): 1.52083333,  # 30.41667 GB x $0.05
        ("app/nat", "out to the internet"): 2.7375,  # 30.41667 GB x $0.09
        ("app/nat-address", "public IPv4 address"): 3.65,  # 730 h x $0.005
    }
    assert monthly(result) == pytest.approx(expected, abs=5e-9)
    assert result.total == pytest.approx(sum(expected.values()), abs=1e-7)
    assert result.unpriced == ()
    # Nothing expires from either bucket: the archive gains 0.0186265 GB a day x 30.41667 =
    # 0.567 GB a month (in GLACIER, x $0.004 = $0.0023), the ingest bucket 40 x 1 MB a day =
    # 1.19 GB a month (x $0.02 = $0.024).
    assert result.notes == (
        "`app/archive`: nothing expires, so it grows by 0.567 GB a month in GLACIER: $0.00 a "
        "month more every month",
        "`app/ingest`: nothing expires, so it grows by 1.19 GB a month in STANDARD: $0.02 a "
        "month more every month",
    )


def test_a_bucket_whose_objects_expire_does_not_grow():
    expiring = resource(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "ingest-lifecycle",
        bucket="ingest-bucket", rules=[{"status": "Enabled", "expiration": {"days": 30}}],
    )  # fmt: skip
    result = estimate(stack(*PLATFORM.resources[1:], expiring), "t", usage(), prices(), "us-east-1")
    assert not [note for note in result.notes if note.startswith("`app/ingest`")]


def test_provisioned_capacity_follows_target_tracking_within_its_range():
    table = resource("aws:dynamodb/table:Table", "table", name="bars", billingMode="PROVISIONED",
                     readCapacity=5.0, writeCapacity=5.0)  # fmt: skip
    scaling = [
        item
        for dimension in ("Read", "Write")
        for item in (
            resource("aws:appautoscaling/target:Target", f"{dimension}-target",
                     resourceId="table/bars", scalableDimension=f"dynamodb:table:{dimension}CapacityUnits",
                     minCapacity=5.0, maxCapacity=100.0),
            resource("aws:appautoscaling/policy:Policy", f"{dimension}-policy",
                     resourceId="table/bars", scalableDimension=f"dynamodb:table:{dimension}CapacityUnits",
                     policyType="TargetTrackingScaling", serviceNamespace="dynamodb",
                     targetTrackingScalingPolicyConfiguration={"targetValue": 50.0}),
        )
    ]  # fmt: skip
    quiet = estimate(stack(table, *scaling), "t", usage(), prices(), "us-east-1")
    lines = monthly(quiet)
    # 4,200 write units over 10 hours is 0.117 a second: at 50 % that needs 1, so the minimum
    # of 5 holds all day: 5 x 24 h x 30.41667 = 3,650 unit-hours x $0.001 (reads x $0.0002).
    assert lines[("app/table", "provisioned write capacity")] == pytest.approx(3.65)
    assert lines[("app/table", "provisioned read capacity")] == pytest.approx(0.73)
    # DynamoDB's target tracking works through 4 alarms per policy that AWS creates: $0.40 each.
    assert lines[("app/Read-policy", "target-tracking alarms (created by AWS)")] == pytest.approx(
        0.4
    )
    busy = estimate(
        stack(table, *scaling), "t", usage(bars_per_invocation=1000), prices(), "us-east-1"
    )
    # 100 x (2 + 4,000) = 400,200 write units in 36,000 s = 11.117 a second: 23 units at 50 %
    # for 10 hours, 5 for 14: (230 + 70) x 30.41667 = 9,125 unit-hours x $0.001.
    assert monthly(busy)[("app/table", "provisioned write capacity")] == pytest.approx(9.125)
    assert busy.notes == ()


def test_demand_beyond_the_maximum_is_reported_as_throttled():
    hours, over = capacity_unit_hours(10 * 3600 * 200, 10, 5, 100, 70)
    # 200 units a second in 10 hours: capped at 100 for them, 5 for the other 14.
    assert hours == pytest.approx((100 * 10 + 5 * 14) * DAYS)
    assert over
    idle_hours, idle_over = capacity_unit_hours(0, 8, 5, 100, 70)
    assert idle_hours == pytest.approx(5 * 24 * DAYS)
    assert not idle_over


def test_x_ray_keeps_one_trace_a_second_of_the_active_hours_then_five_percent():
    assert sampled_traces_per_day(1000, 1) == 1000
    # 3,600 kept in one hour, then 5 % of the other 6,400
    assert sampled_traces_per_day(10_000, 1) == pytest.approx(3600 + 320)


def test_small_archive_objects_stay_in_standard_unless_the_rule_lets_them_go():
    small = usage(archived_bytes_per_trade=10)  # 10,000 B objects, under 128 KB
    result = estimate(PLATFORM, "t", small, prices(), "us-east-1")
    archive = {item for (path, item) in monthly(result) if path == "app/archive"}
    assert archive == {"STANDARD storage", "archive writes (PUT)"}
    assert monthly(result)[("app/archive", "STANDARD storage")] == pytest.approx(1.0)  # 50 x $0.02
    # 100 objects of 10,000 B a day: 0.000931 GB x 30.41667 = 0.0283 GB a month.
    assert result.notes[:2] == (
        "`app/archive`: archived objects average 9.8 KB, under the 128 KB its lifecycle rule "
        "moves, so they stay in STANDARD",
        "`app/archive`: nothing expires, so it grows by 0.0283 GB a month in STANDARD: $0.00 a "
        "month more every month",
    )
    lifecycle = resource(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle",
        bucket="archive-bucket", transitionDefaultMinimumObjectSize="varies_by_storage_class",
        rules=[{"status": "Enabled", "transitions": [{"days": 30, "storageClass": "GLACIER"}]}],
    )  # fmt: skip
    others = [r for r in PLATFORM.resources[1:] if r.name != "app-lifecycle"]
    moved = estimate(stack(*others, lifecycle), "t", small, prices(), "us-east-1")
    assert ("app/archive", "GLACIER storage") in monthly(moved)


def test_a_nat_instance_costs_its_hours_address_volume_and_traffic():
    instance = resource(
        "aws:ec2/instance:Instance", "nat-instance", instanceType="t4g.nano",
        associatePublicIpAddress=True, sourceDestCheck=False,
    )  # fmt: skip
    lines = monthly(estimate(stack(instance), "t", usage(), prices(), "us-east-1"))
    assert lines == pytest.approx({
        ("app/nat-instance", "t4g.nano instance"): 2.92,  # 730 h x $0.004
        ("app/nat-instance", "root volume (gp3)"): 0.64,  # the image's 8 GB x $0.08
        ("app/nat-instance", "public IPv4 address"): 3.65,  # 730 h x $0.005
        ("app/nat-instance", "out to the internet"): 2.7375,  # 30.41667 GB x $0.09
    })  # fmt: skip


def test_the_database_costs_its_instances_storage_io_backups_and_secret():
    cluster = resource(
        "aws:rds/cluster:Cluster", "cluster", engine="aurora-postgresql",
        backupRetentionPeriod=7.0, manageMasterUserPassword=True,
    )  # fmt: skip
    instances = [
        resource("aws:rds/clusterInstance:ClusterInstance", f"instance-{n}",
                 engine="aurora-postgresql", instanceClass="db.r6g.large")
        for n in (1, 2)
    ]  # fmt: skip
    lines = monthly(estimate(stack(cluster, *instances), "t", usage(), prices(), "us-east-1"))
    assert lines == pytest.approx({
        ("app/cluster", "Aurora storage"): 10.0,  # 100 GB x $0.10
        ("app/cluster", "Aurora storage I/O"): 12.1666667,  # 2 million a day x 30.41667 x $0.20
        ("app/cluster", "backups (7 days kept)"): 0.14,  # 1 GB a day x 7 days x $0.02
        ("app/cluster", "master password secret (kept by RDS)"): 0.4,
        ("app/instance-1", "db.r6g.large instance"): 182.5,  # 730 h x $0.25
        ("app/instance-2", "db.r6g.large instance"): 182.5,
    })  # fmt: skip


def test_a_database_of_another_engine_or_storage_type_is_not_priced_as_this_one():
    mysql = resource("aws:rds/cluster:Cluster", "mysql", engine="aurora-mysql")
    optimized = resource("aws:rds/cluster:Cluster", "optimized", engine="aurora-postgresql",
                         storageType="aurora-iopt1")  # fmt: skip
    result = estimate(stack(mysql, optimized), "t", usage(), prices(), "us-east-1")
    assert result.unpriced == (
        "aws:rds/cluster:Cluster app/mysql",
        "aws:rds/cluster:Cluster app/optimized",
    )
    assert result.notes == (
        "`app/mysql`: no price for database engine aurora-mysql in the price sheet",
        "`app/optimized`: no price for Aurora storage type aurora-iopt1 in the price sheet",
    )


def test_a_resource_type_nobody_priced_is_reported_not_ignored():
    result = estimate(
        stack(resource("aws:kinesis/stream:Stream", "feed"), resource("aws:ec2/instance:Instance",
              "big", instanceType="m7g.16xlarge")),
        "t", usage(), prices(), "us-east-1",
    )  # fmt: skip
    assert result.unpriced == (
        "aws:ec2/instance:Instance app/big",
        "aws:kinesis/stream:Stream app/feed",
    )
    assert result.notes == ("`app/big`: no EC2 instance price for m7g.16xlarge in the price sheet",)


def test_the_usage_of_an_environment_falls_back_on_the_one_it_takes_defaults_from():
    file = msgspec.convert(
        {"defaults": USAGE, "environments": {"staging": {"objects_per_day": 7}, "qa": {"trades_per_day": 5}}},
        UsageFile,
    )  # fmt: skip
    assert file.for_environment("staging").objects_per_day == 7
    qa = file.for_environment("qa", profile="staging")
    assert (qa.objects_per_day, qa.trades_per_day) == (7, 5)
    assert file.for_environment("dev", profile="dev").objects_per_day == 40


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text)
    return directory


def test_a_bad_usage_file_names_the_file_the_place_and_what_is_expected(tmp_path):
    defaults = "".join(f"  {key}: {value}\n" for key, value in USAGE.items())
    costs = write(
        tmp_path / "costs",
        "usage.yaml",
        f"defaults:\n{defaults}environments:\n  dev:\n    objects_per_day: -1\n",
    )
    with pytest.raises(
        CostInputError,
        match=r"costs/usage.yaml, environment dev: Expected `float` >= 0.0 - at `\$.objects_per_day`",
    ):
        read_usage(costs)
    write(costs, "usage.yaml", f"defaults:\n{defaults}  trades_per_week: 1\n")
    with pytest.raises(CostInputError, match="unknown field `trades_per_week`"):
        read_usage(costs)


def test_a_bad_price_sheet_or_a_region_it_lacks_is_an_error_naming_it(tmp_path):
    sheet = (REPO_ROOT / "costs" / "prices.yaml").read_text()
    costs = write(
        tmp_path / "costs",
        "prices.yaml",
        sheet.replace("public_ipv4_hour: 0.005", "public_ipv4_hour: free"),
    )
    with pytest.raises(
        CostInputError,
        match=r"costs/prices.yaml, region us-east-1: Expected `float`, got `str` - at `\$.vpc.public_ipv4_hour`",
    ):
        read_prices(costs)
    with pytest.raises(
        CostInputError, match="has no prices for region eu-west-1; it prices us-east-1"
    ):
        read_prices(REPO_ROOT / "costs").region("eu-west-1")
    with pytest.raises(CostInputError, match="is missing"):
        read_prices(tmp_path / "nowhere")


def test_the_committed_price_sheet_is_dated_and_names_a_source_for_every_service():
    inputs = load_inputs(REPO_ROOT)
    assert inputs.prices.currency == "USD"
    region = msgspec.to_builtins(inputs.prices.region("us-east-1"))
    assert all(entry["source"].startswith("https://aws.amazon.com/") for entry in region.values())
    # A few figures as AWS's pages state them for us-east-1 (checked by hand).
    assert region["lambda"]["gb_second"]["arm64"] == 0.0000133334
    assert region["dynamodb"]["write_request_units_per_million"] == 0.625
    assert region["vpc"]["nat_gateway_hour"] == 0.045


def test_the_region_is_the_providers():
    provider = RegisteredResource(
        urn="urn:pulumi:t::p::pulumi:providers:aws::aws", type="pulumi:providers:aws", name="aws",
        custom=True, parent="", provider="", inputs={"region": "eu-west-1"}, state={},
        dependencies=(), protect=False, retain_on_delete=False, ignore_changes=(),
    )  # fmt: skip
    assert stack_region(stack(provider)) == "eu-west-1"
    with pytest.raises(CostInputError, match="expected one AWS provider region, found"):
        stack_region(stack())


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "$0.00"), (0.004, "<$0.01"), (0.005, "$0.01"), (1234.5, "$1,234.50"), (-2.25, "-$2.25")],
)
def test_money(amount, text):
    assert money(amount) == text


def test_quantities_and_unit_prices_never_use_exponents():
    assert quantity(0.00009125) == "0.00009125"
    assert quantity(26770.4) == "26,770"
    assert quantity(3.0) == "3"
    assert quantity(334.583) == "334.6"
    assert unit_price(0.0000133334) == "$0.0000133334"
    assert unit_price(0.2) == "$0.20"


def test_a_line_item_is_its_quantity_times_its_price():
    assert LineItem("S3", "x", "p", 3, "GB", 0.5).monthly == 1.5
