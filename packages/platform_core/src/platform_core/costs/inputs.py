"""The two committed inputs of the cost estimate: the price sheet and the usage file.

``costs/prices.yaml`` holds AWS's list prices per region with their sources and the date they
were checked; ``costs/usage.yaml`` the workload each environment is sized for. Both are read as
the Pulumi CLI reads YAML (1.2) and validated field by field: a wrong or unknown entry is an
error naming the file, where in it, and what is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final

import msgspec

from platform_core.errors import PlatformError
from platform_core.stack_files import read_yaml

__all__ = [
    "COSTS_DIR_NAME",
    "PRICES_FILE",
    "USAGE_FIGURES",
    "USAGE_FILE",
    "CostInputError",
    "Prices",
    "RegionPrices",
    "Usage",
    "UsageFile",
    "read_prices",
    "read_usage",
]

COSTS_DIR_NAME: Final = "costs"
PRICES_FILE: Final = "prices.yaml"
USAGE_FILE: Final = "usage.yaml"

#: Dollars: never negative.
Price = Annotated[float, msgspec.Meta(ge=0)]
Amount = Annotated[float, msgspec.Meta(ge=0)]


class CostInputError(PlatformError):
    """The price sheet or the usage file is missing or malformed."""


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    """A mapping of the file: every key known, every value of its type."""


class LambdaPrices(_Strict):
    source: str
    requests_per_million: Price
    #: Per GB-second of duration, by architecture (`arm64`, `x86_64`).
    gb_second: dict[str, Price]


class DynamoDbPrices(_Strict):
    source: str
    write_request_units_per_million: Price
    read_request_units_per_million: Price
    write_capacity_unit_hour: Price
    read_capacity_unit_hour: Price
    storage_gb_month: Price
    point_in_time_recovery_gb_month: Price


class S3Prices(_Strict):
    source: str
    #: By storage class, as a lifecycle rule names it (`STANDARD` is where objects start).
    storage_gb_month: dict[str, Price]
    put_requests_per_thousand: Price
    get_requests_per_thousand: Price
    transition_requests_per_thousand: dict[str, Price]


class CloudWatchPrices(_Strict):
    source: str
    log_ingestion_gb: Price
    log_storage_gb_month: Price
    standard_alarm_month: Price
    high_resolution_alarm_month: Price


class XrayPrices(_Strict):
    source: str
    traces_recorded_per_million: Price


class SqsPrices(_Strict):
    source: str
    requests_per_million: Price


class VpcPrices(_Strict):
    source: str
    nat_gateway_hour: Price
    nat_gateway_gb: Price
    interface_endpoint_hour: Price
    interface_endpoint_gb: Price
    public_ipv4_hour: Price


class Ec2Prices(_Strict):
    source: str
    instance_hour: dict[str, Price]
    gp3_gb_month: Price


class DataTransferPrices(_Strict):
    source: str
    internet_out_gb: Price


class RdsPrices(_Strict):
    source: str
    aurora_postgresql_instance_hour: dict[str, Price]
    aurora_storage_gb_month: Price
    aurora_io_requests_per_million: Price
    aurora_backup_gb_month: Price


class SecretsManagerPrices(_Strict):
    source: str
    secret_month: Price


class RegionPrices(_Strict):
    """Every price of one region."""

    # Field names follow the file; `lambda` is a Python keyword.
    lambda_: LambdaPrices = msgspec.field(name="lambda")
    dynamodb: DynamoDbPrices
    s3: S3Prices
    cloudwatch: CloudWatchPrices
    xray: XrayPrices
    sqs: SqsPrices
    vpc: VpcPrices
    ec2: Ec2Prices
    data_transfer: DataTransferPrices
    rds: RdsPrices
    secrets_manager: SecretsManagerPrices


class _Sheet(_Strict):
    checked_on: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    currency: str
    #: Each region is validated on its own, so an error names it.
    regions: dict[str, dict[str, Any]]


class Prices(msgspec.Struct, frozen=True):
    """The price sheet: when it was checked, and the prices of each region."""

    checked_on: str
    currency: str
    regions: dict[str, RegionPrices]

    def region(self, name: str) -> RegionPrices:
        if name not in self.regions:
            raise CostInputError(
                f"{COSTS_DIR_NAME}/{PRICES_FILE} has no prices for region {name}; it prices "
                f"{', '.join(sorted(self.regions))}: add {name} with that region's prices"
            )
        return self.regions[name]


#: What each figure of the usage file means, as docs/costs.md shows it.
USAGE_FIGURES: Final = {
    "trades_per_day": "trades a day, by every path",
    "objects_per_day": "files uploaded under `incoming/` a day (one invocation each)",
    "average_object_mb": "average uploaded file, MB",
    "direct_invocations_per_day": "direct invocations a day",
    "function_base_ms": "billed duration of an invocation: fixed part, ms",
    "function_ms_per_thousand_trades": "billed duration: ms per thousand trades in it",
    "bars_per_invocation": "one-minute bars an invocation writes",
    "archived_bytes_per_trade": "archive bytes per accepted trade (gzip JSON Lines)",
    "log_kb_per_invocation": "log lines per invocation, KB",
    "failed_events_per_day": "events reaching the failure queue a day",
    "internet_gb_per_day": "traffic to the internet (through NAT, if any), GB a day",
    "active_hours_per_day": "hours a day the load arrives in",
    "table_stored_gb": "table size, GB",
    "ingest_stored_gb": "ingest bucket, GB stored",
    "archive_stored_gb": "archive bucket, GB stored",
    "database_stored_gb": "database size, GB (where there is one)",
    "database_io_millions_per_day": "database storage I/O requests, millions a day",
    "database_changed_gb_per_day": "database data changed a day, GB (kept by its backups)",
}


class Usage(_Strict):
    """The workload of one environment (``USAGE_FIGURES`` says what each figure means)."""

    trades_per_day: Amount
    objects_per_day: Amount
    average_object_mb: Amount
    direct_invocations_per_day: Amount
    function_base_ms: Amount
    function_ms_per_thousand_trades: Amount
    bars_per_invocation: Amount
    archived_bytes_per_trade: Amount
    log_kb_per_invocation: Amount
    failed_events_per_day: Amount
    internet_gb_per_day: Amount
    active_hours_per_day: Annotated[float, msgspec.Meta(gt=0, le=24)]
    table_stored_gb: Amount
    ingest_stored_gb: Amount
    archive_stored_gb: Amount
    database_stored_gb: Amount
    database_io_millions_per_day: Amount
    database_changed_gb_per_day: Amount

    @property
    def invocations_per_day(self) -> float:
        return self.objects_per_day + self.direct_invocations_per_day


class UsageFile(_Strict):
    """``defaults`` (every figure) and, per environment, the figures that differ."""

    defaults: Usage
    environments: dict[str, dict[str, Any]] = {}

    def for_environment(self, environment: str, profile: str | None = None) -> Usage:
        """``defaults``, then the entry of the environment whose defaults ``environment`` takes
        (its ``platform:defaults``), then its own entry."""
        merged = msgspec.to_builtins(self.defaults)
        for name in dict.fromkeys([profile or environment, environment]):
            merged.update(self.environments.get(name) or {})
        usage: Usage = _convert(merged, Usage, f"{USAGE_FILE}, environment {environment}")
        return usage


def _convert(data: Any, type_: type[Any], source: str) -> Any:
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as error:
        raise CostInputError(f"{COSTS_DIR_NAME}/{source}: {error}") from None


def _read(directory: Path, name: str) -> Mapping[str, Any]:
    path = directory / name
    if not path.is_file():
        raise CostInputError(f"{path} is missing: the cost estimate needs it")
    return read_yaml(path)


def read_prices(directory: Path) -> Prices:
    """``<directory>/prices.yaml``, validated."""
    sheet: _Sheet = _convert(_read(directory, PRICES_FILE), _Sheet, PRICES_FILE)
    regions = {
        name: _convert(entries, RegionPrices, f"{PRICES_FILE}, region {name}")
        for name, entries in sheet.regions.items()
    }
    return Prices(sheet.checked_on, sheet.currency, regions)


def read_usage(directory: Path) -> UsageFile:
    """``<directory>/usage.yaml``, validated (each environment's overrides too)."""
    usage: UsageFile = _convert(_read(directory, USAGE_FILE), UsageFile, USAGE_FILE)
    for environment in usage.environments:
        usage.for_environment(environment)
    return usage
