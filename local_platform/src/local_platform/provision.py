"""Create an environment's table, buckets and failure queue in the emulator from the real stack.

The stack program is rendered offline (`platform_core.offline`), and the registered inputs of
the table, the buckets and their configurations, and the failure queue are replayed as API
calls: the local copy is built from the very definitions `pulumi up` deploys, never from a
second hand-written copy. (The function's role is `local_platform.identities`.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from platform_core.offline import RegisteredResource, RenderedStack
from processor.contract import ENV_ARCHIVE_BUCKET

__all__ = ["LocalEnvironment", "provision"]


@dataclass(frozen=True)
class LocalEnvironment:
    """What the local run needs to know about the provisioned environment."""

    table_name: str
    ingest_bucket: str
    archive_bucket: str
    trigger_prefix: str
    trigger_events: tuple[str, ...]
    function_name: str
    function_environment: Mapping[str, str]
    failure_queue_url: str
    not_replayed: tuple[str, ...] = (
        "the buckets' TLS-only policies (the emulator serves plain HTTP on 127.0.0.1)",
    )


def _siblings(
    stack: RenderedStack, resource: RegisteredResource, type_: str
) -> list[Mapping[str, Any]]:
    return [r.inputs for r in stack.of_type(type_) if r.parent == resource.parent]


def _create_table(client: Any, table: Mapping[str, Any]) -> None:
    billing = table["billingMode"]
    arguments: dict[str, Any] = {
        "TableName": table["name"],
        "KeySchema": [
            {"AttributeName": table["hashKey"], "KeyType": "HASH"},
            {"AttributeName": table["rangeKey"], "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]
        ],
        "BillingMode": billing,
        "SSESpecification": {"Enabled": bool(table["serverSideEncryption"]["enabled"])},
    }
    if billing == "PROVISIONED":
        arguments["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(table["readCapacity"]),
            "WriteCapacityUnits": int(table["writeCapacity"]),
        }
    client.create_table(**arguments)
    client.get_waiter("table_exists").wait(TableName=table["name"])
    ttl = table.get("ttl") or {}
    if ttl.get("enabled"):
        client.update_time_to_live(
            TableName=table["name"],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]},
        )


def _create_bucket(client: Any, stack: RenderedStack, bucket: RegisteredResource) -> str:
    name = str(bucket.inputs["bucket"])
    region = client.meta.region_name
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    client.create_bucket(
        Bucket=name, **({"CreateBucketConfiguration": location} if location else {})
    )
    for block in _siblings(stack, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        keys = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
        client.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                key[0].upper() + key[1:]: bool(block[key]) for key in keys
            },
        )
    for encryption in _siblings(
        stack,
        bucket,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ):
        default = encryption["rules"][0]["applyServerSideEncryptionByDefault"]
        client.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": default["sseAlgorithm"]
                        }
                    }
                ]
            },
        )
    for versioning in _siblings(stack, bucket, "aws:s3/bucketVersioning:BucketVersioning"):
        if versioning["versioningConfiguration"]["status"] == "Enabled":
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    # The TLS-only bucket policy is not replayed: the emulator speaks plain HTTP on loopback and
    # cannot evaluate `aws:SecureTransport`, so it would refuse every request (the policy itself
    # is checked on the rendered stacks: tests/render/test_stacks.py).
    return name


def _create_queue(client: Any, queue: Mapping[str, Any]) -> str:
    attributes = {"MessageRetentionPeriod": str(int(queue["messageRetentionSeconds"]))}
    if queue.get("sqsManagedSseEnabled"):
        attributes["SqsManagedSseEnabled"] = "true"
    if queue.get("visibilityTimeoutSeconds") is not None:
        attributes["VisibilityTimeout"] = str(int(queue["visibilityTimeoutSeconds"]))
    return str(client.create_queue(QueueName=queue["name"], Attributes=attributes)["QueueUrl"])


def provision(stack: RenderedStack, client: Callable[[str], Any]) -> LocalEnvironment:
    """Replay the rendered table, buckets and failure queue; ``client(service)`` makes clients."""
    table = stack.one("aws:dynamodb/table:Table").inputs
    _create_table(client("dynamodb"), table)
    s3 = client("s3")
    for bucket in stack.of_type("aws:s3/bucket:Bucket"):
        _create_bucket(s3, stack, bucket)
    queue_url = _create_queue(client("sqs"), stack.one("aws:sqs/queue:Queue").inputs)
    notification = stack.one("aws:s3/bucketNotification:BucketNotification").inputs
    (trigger,) = notification["lambdaFunctions"]
    function = stack.one("aws:lambda/function:Function").inputs
    variables = function["environment"]["variables"]
    return LocalEnvironment(
        table_name=str(table["name"]),
        ingest_bucket=str(notification["bucket"]),
        archive_bucket=str(variables[ENV_ARCHIVE_BUCKET]),
        trigger_prefix=str(trigger.get("filterPrefix", "")),
        trigger_events=tuple(trigger["events"]),
        function_name=str(function["name"]),
        function_environment={key: str(value) for key, value in variables.items()},
        failure_queue_url=queue_url,
    )
