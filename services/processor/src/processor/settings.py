"""Settings parsed once from the environment into a typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from processor.contract import (
    DEDUPLICATION_HORIZON_S,
    ENV_ARCHIVE_BUCKET,
    ENV_ENVIRONMENT,
    ENV_TABLE_NAME,
    FUNCTION_ENVIRONMENT,
)
from processor.errors import SettingsError

__all__ = ["Settings"]


class Settings(msgspec.Struct, frozen=True):
    """What the infrastructure hands the function (SPEC §5), plus fixed bookkeeping choices."""

    table_name: str
    archive_bucket: str
    environment: str
    #: How long batch-ledger and applied-marker items live (DynamoDB TTL): the whole window in
    #: which the same batch can arrive again, failure-queue redrives included.
    ledger_ttl_s: int = DEDUPLICATION_HORIZON_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``TABLE_NAME``, ``ARCHIVE_BUCKET``, ``ENVIRONMENT``; fail naming what is missing."""
        source = os.environ if env is None else env
        names = FUNCTION_ENVIRONMENT
        missing = [name for name in names if not source.get(name, "").strip()]
        if missing:
            raise SettingsError(
                f"missing environment variable(s) {', '.join(missing)}; "
                f"the function needs all of {', '.join(names)}"
            )
        return cls(
            table_name=source[ENV_TABLE_NAME].strip(),
            archive_bucket=source[ENV_ARCHIVE_BUCKET].strip(),
            environment=source[ENV_ENVIRONMENT].strip(),
        )
