"""R-15: the environments are one design with different dials.

`inventory` flattens a rendered stack into `resource path -> {input key: value}` with the
environment's own name masked, so the three environments compare key by key; `compare` lists
every difference and attributes each to the §2 dial (config key) that explains it, or to none.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from platform_core.offline import RenderedStack

__all__ = [
    "DIAL_INPUTS",
    "DIAL_RESOURCES",
    "SPEC_DIALS",
    "Difference",
    "compare",
    "inventory",
    "resource_path",
]

ENV_MASK = "<env>"

# The dials the environments may differ in, by config key: the rows of SPEC §2, plus the few
# per-environment values SPEC sets elsewhere. Any other setting (timeouts,
# retries, ...) is meant to be the same everywhere, so a difference in it is reported as a fault.
SPEC_DIALS: Mapping[str, str] = {
    "lambdaMemoryMb": "§2 Lambda memory (MB)",
    "dynamodbBillingMode": "§2 DynamoDB billing",
    "dynamodbMinCapacity": "§2 Capacity: DynamoDB ceiling (autoscaling minimum)",
    "dynamodbOnDemandMaxUnits": "§2 Capacity: DynamoDB ceiling (on-demand cap)",
    "pointInTimeRecovery": "§2 DynamoDB point-in-time recovery",
    "s3Versioning": "§2 S3 versioning",
    "archiveGlacierAfterDays": "§2 S3 archive lifecycle",
    "logRetentionDays": "§2 CloudWatch log retention (days)",
    "xrayTracing": "§2 X-Ray tracing",
    "alarmProfile": "§2 CloudWatch alarms",
    "vpcCidr": "§2 VPC CIDR",
    "aws:region": "§2 Region",
    "reservedConcurrency": "§2 Capacity: Lambda reserved concurrency",
    "archiveForceDestroy": "R-13 production archive bucket is not force-destroyed",
    "costCenter": "R-11 CostCenter tag from config",
    "allowedAccountIds": "R-4 each environment's own AWS account",
    "egressMode": "R-6 egress mode (none / NAT gateway / NAT instance)",
}

# Inputs whose values come from a dial; `*` matches one flattened key segment or more.
DIAL_INPUTS: Mapping[str, Mapping[str, str]] = {
    "pulumi:providers:aws": {
        "defaultTags.tags.CostCenter": "costCenter",
        "region": "aws:region",
        "allowedAccountIds*": "allowedAccountIds",
    },
    "aws:lambda/function:Function": {
        "memorySize": "lambdaMemoryMb",
        "timeout": "lambdaTimeoutSeconds",
        "reservedConcurrentExecutions": "reservedConcurrency",
        "tracingConfig.mode": "xrayTracing",
    },
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
        "maximumRetryAttempts": "asyncMaxRetryAttempts",
        "maximumEventAgeInSeconds": "asyncMaxEventAgeSeconds",
    },
    "aws:cloudwatch/logGroup:LogGroup": {"retentionInDays": "logRetentionDays"},
    "aws:dynamodb/table:Table": {
        "billingMode": "dynamodbBillingMode",
        "readCapacity": "dynamodbMinCapacity",
        "writeCapacity": "dynamodbMinCapacity",
        "onDemandThroughput*": "dynamodbOnDemandMaxUnits",
        "pointInTimeRecovery.enabled": "pointInTimeRecovery",
    },
    "aws:s3/bucketVersioning:BucketVersioning": {"versioningConfiguration.status": "s3Versioning"},
    "aws:s3/bucket:Bucket": {"forceDestroy": "archiveForceDestroy"},
    "aws:ec2/vpc:Vpc": {"cidrBlock": "vpcCidr"},
    "aws:ec2/subnet:Subnet": {"cidrBlock": "vpcCidr"},
    "aws:iam/rolePolicy:RolePolicy": {"policy.Statement[8]*": "xrayTracing"},
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        "threshold": "alarmProfile",
        "period": "alarmProfile",
        "evaluationPeriods": "alarmProfile",
    },
}
# Resources that exist only for some values of a dial: (type, logical name or "*").
DIAL_RESOURCES: Mapping[tuple[str, str], str] = {
    ("platform:index:Alarms", "*"): "alarmProfile",
    ("aws:sns/topic:Topic", "*"): "alarmProfile",
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "*"): "alarmProfile",
    ("aws:appautoscaling/target:Target", "*"): "dynamodbBillingMode",
    ("aws:appautoscaling/policy:Policy", "*"): "dynamodbBillingMode",
    (
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "*",
    ): "archiveGlacierAfterDays",
    ("aws:ec2/vpcEndpoint:VpcEndpoint", "xray-endpoint"): "xrayTracing",
    ("aws:ec2/securityGroup:SecurityGroup", "xray-endpoint-security-group"): "xrayTracing",
    ("aws:ec2/internetGateway:InternetGateway", "*"): "egressMode",
    ("aws:ec2/eip:Eip", "*"): "egressMode",
    ("aws:ec2/natGateway:NatGateway", "*"): "egressMode",
    ("aws:ec2/instance:Instance", "*"): "egressMode",
    ("aws:ec2/route:Route", "*"): "egressMode",
    ("aws:ec2/securityGroup:SecurityGroup", "nat-instance-security-group"): "egressMode",
    ("aws:ec2/routeTable:RouteTable", "public-routes"): "egressMode",
}


@dataclass(frozen=True)
class Difference:
    """One input (or a whole resource, `key == ""`) that is not the same in every environment."""

    path: str
    key: str
    values: Mapping[str, str]
    dial: str | None


def resource_path(rendered: RenderedStack, urn: str) -> str:
    """`Component/child` chain of logical names, the same in every environment."""
    names = []
    current = next((r for r in rendered.resources if r.urn == urn), None)
    while current is not None:
        names.append(current.name)
        current = next((r for r in rendered.resources if r.urn == current.parent), None)
    resource = rendered.by_urn(urn)
    return f"{resource.type} {'/'.join(reversed(names))}"


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, str) and value[:1] in "{[":
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, Mapping):
        for key in sorted(value):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, pulumi.asset.FileArchive | pulumi.asset.FileAsset):
        out[prefix] = f"{type(value).__name__}({value.path})"
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}[{index}]", out)
    else:
        out[prefix] = json.dumps(value, sort_keys=True, default=str)


def _mask(text: str, environment: str) -> str:
    return re.sub(rf"(?<![a-z]){re.escape(environment)}(?![a-z])", ENV_MASK, text)


def inventory(rendered: RenderedStack, environment: str) -> dict[str, dict[str, str]]:
    """Every resource's flattened inputs, with the environment's name masked."""
    result: dict[str, dict[str, str]] = {}
    for resource in rendered.resources:
        flat: dict[str, str] = {}
        _flatten(dict(resource.inputs), "", flat)
        result[resource_path(rendered, resource.urn)] = {
            key: _mask(value, environment) for key, value in flat.items()
        }
    return result


def _matches(pattern: str, key: str) -> bool:
    if pattern.endswith("*"):
        return key.startswith(pattern[:-1])
    return key == pattern


def _input_dial(type_: str, key: str) -> str | None:
    for pattern, dial in DIAL_INPUTS.get(type_, {}).items():
        if _matches(pattern, key):
            return dial
    return None


def _resource_dial(type_: str, name: str) -> str | None:
    return DIAL_RESOURCES.get((type_, name)) or DIAL_RESOURCES.get((type_, "*"))


def compare(inventories: Mapping[str, Mapping[str, Mapping[str, str]]]) -> list[Difference]:
    """Every difference between the environments' inventories, each with its dial (or None)."""
    environments: Sequence[str] = list(inventories)
    paths = sorted({path for inv in inventories.values() for path in inv})
    differences: list[Difference] = []
    for path in paths:
        type_, logical = path.split(" ", 1)
        name = logical.rsplit("/", 1)[-1]
        present = {env: "yes" if path in inventories[env] else "no" for env in environments}
        if len(set(present.values())) > 1:
            differences.append(Difference(path, "", present, _resource_dial(type_, name)))
            continue
        keys = sorted({key for env in environments for key in inventories[env][path]})
        for key in keys:
            values = {env: inventories[env][path].get(key, "-") for env in environments}
            if len(set(values.values())) > 1:
                differences.append(Difference(path, key, values, _input_dial(type_, key)))
    return differences
