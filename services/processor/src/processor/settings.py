"""Settings parsed once from the environment into a typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from processor.errors import SettingsError

__all__ = ["Settings"]

_DAY_S = 86_400


class Settings(msgspec.Struct, frozen=True):
    """What the infrastructure hands the function (SPEC §5), plus fixed bookkeeping choices."""

    table_name: str
    archive_bucket: str
    environment: str
    #: How long batch-ledger and applied-marker items live (DynamoDB TTL): longer than any
    #: redelivery window (Lambda async retries end after 6 h, S3 duplicates within minutes).
    ledger_ttl_s: int = 7 * _DAY_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``TABLE_NAME``, ``ARCHIVE_BUCKET``, ``ENVIRONMENT``; fail naming what is missing."""
        source = os.environ if env is None else env
        names = ("TABLE_NAME", "ARCHIVE_BUCKET", "ENVIRONMENT")
        missing = [name for name in names if not source.get(name, "").strip()]
        if missing:
            raise SettingsError(
                f"missing environment variable(s) {', '.join(missing)}; "
                f"the function needs all of {', '.join(names)}"
            )
        return cls(
            table_name=source["TABLE_NAME"].strip(),
            archive_bucket=source["ARCHIVE_BUCKET"].strip(),
            environment=source["ENVIRONMENT"].strip(),
        )
