"""Storage of one environment: the analytics table (the shared contract's keys) and the buckets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from platform_core.component import PlatformComponent
from platform_core.config import AutoscalingRange, BillingMode
from processor.contract import TABLE_PARTITION_KEY, TABLE_SORT_KEY, TABLE_TTL_ATTRIBUTE

__all__ = [
    "AnalyticsTable",
    "AnalyticsTableArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "tls_only_policy",
]

_CAPACITY_DIMENSIONS = {
    "read": ("dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
    "write": ("dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
}


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    """Deny every request that does not use TLS. A Deny of `s3:*` only ever takes rights away."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


@dataclass(frozen=True)
class SecureBucketArgs:
    bucket_name: str
    versioning: bool
    force_destroy: bool
    glacier_after_days: int | None = None


class SecureBucket(PlatformComponent):
    """A private bucket: owner-enforced, all four public-access blocks, SSE, TLS-only policy."""

    bucket: aws.s3.Bucket

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:SecureBucket", name, opts)
        child = self.child_options()
        self.bucket = aws.s3.Bucket(
            self.child_name("bucket"),
            bucket=args.bucket_name,
            force_destroy=args.force_destroy,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            self.child_name("ownership"),
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            self.child_name("public-access-block"),
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            self.child_name("encryption"),
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        # "Disabled" is the documented status for a bucket that has never been versioned.
        versioning = aws.s3.BucketVersioning(
            self.child_name("versioning"),
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled" if args.versioning else "Disabled"
            ),
            opts=child,
        )
        # The policy waits for the public-access block: S3 rejects policies set concurrently.
        aws.s3.BucketPolicy(
            self.child_name("tls-only-policy"),
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_policy(arn))),
            opts=self.child_options(depends_on=[public_access]),
        )
        if args.glacier_after_days is not None:
            self._glacier_lifecycle(args.glacier_after_days, versioning)
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})

    def _glacier_lifecycle(self, days: int, versioning: aws.s3.BucketVersioning) -> None:
        # Noncurrent-version rules need the versioning state settled first (provider docs).
        aws.s3.BucketLifecycleConfiguration(
            self.child_name("lifecycle"),
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="archive-to-glacier",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                            days=days, storage_class="GLACIER"
                        )
                    ],
                    noncurrent_version_transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionTransitionArgs(
                            noncurrent_days=days, storage_class="GLACIER"
                        )
                    ],
                )
            ],
            opts=self.child_options(depends_on=[versioning]),
        )


@dataclass(frozen=True)
class AnalyticsTableArgs:
    table_name: str
    billing_mode: BillingMode
    autoscaling: AutoscalingRange | None
    on_demand_max_units: int | None
    point_in_time_recovery: bool


class AnalyticsTable(PlatformComponent):
    """The bars table: `pk`/`sk` strings, encrypted, TTL for bookkeeping items, optional PITR.

    Provisioned tables get target-tracking autoscaling; the table then ignores drift in its
    capacity, which autoscaling owns, so `pulumi up` never resets a scaled-up table.
    """

    table: aws.dynamodb.Table

    def __init__(
        self, name: str, args: AnalyticsTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:AnalyticsTable", name, opts)
        provisioned = args.billing_mode is BillingMode.PROVISIONED and args.autoscaling is not None
        capacity = args.autoscaling.min_units if provisioned and args.autoscaling else None
        on_demand = (
            aws.dynamodb.TableOnDemandThroughputArgs(
                max_read_request_units=args.on_demand_max_units,
                max_write_request_units=args.on_demand_max_units,
            )
            if args.on_demand_max_units is not None
            else None
        )
        self.table = aws.dynamodb.Table(
            self.child_name("table"),
            name=args.table_name,
            billing_mode=args.billing_mode.value,
            hash_key=TABLE_PARTITION_KEY,
            range_key=TABLE_SORT_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=TABLE_PARTITION_KEY, type="S"),
                aws.dynamodb.TableAttributeArgs(name=TABLE_SORT_KEY, type="S"),
            ],
            read_capacity=capacity,
            write_capacity=capacity,
            on_demand_throughput=on_demand,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=args.point_in_time_recovery
            ),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=TABLE_TTL_ATTRIBUTE, enabled=True),
            deletion_protection_enabled=False,
            opts=self.child_options(
                ignore_changes=["readCapacity", "writeCapacity"] if provisioned else None
            ),
        )
        if provisioned and args.autoscaling is not None:
            self._autoscaling(args.table_name, args.autoscaling)
        self.register_outputs({"name": self.table.name, "arn": self.table.arn})

    def _autoscaling(self, table_name: str, scaling: AutoscalingRange) -> None:
        for dimension, (scalable_dimension, metric) in _CAPACITY_DIMENSIONS.items():
            target = aws.appautoscaling.Target(
                self.child_name(f"{dimension}-capacity-target"),
                service_namespace="dynamodb",
                resource_id=self.table.name.apply(lambda name: f"table/{name}"),
                scalable_dimension=scalable_dimension,
                min_capacity=scaling.min_units,
                max_capacity=scaling.max_units,
                opts=self.child_options(),
            )
            aws.appautoscaling.Policy(
                self.child_name(f"{dimension}-capacity-policy"),
                name=f"{table_name}-{dimension}-capacity",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration={
                    "predefined_metric_specification": {"predefined_metric_type": metric},
                    "target_value": float(scaling.target_utilization_percent),
                },
                opts=self.child_options(),
            )
