"""Deliver an upload to the function as S3 would: an ObjectCreated event with a URL-encoded key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

__all__ = ["object_created_event"]


def object_created_event(
    *, bucket: str, key: str, size: int, etag: str, version_id: str | None, region: str
) -> dict[str, Any]:
    """The notification S3 sends for a PUT (event structure version 2.1)."""
    s3_object: dict[str, Any] = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag.strip('"'),
        "sequencer": "0062E99A88DC407460",
    }
    if version_id and version_id != "null":
        s3_object["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "ingest-notification",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": s3_object,
                },
            }
        ]
    }
