"""Settings parsed once from the environment into a typed object, and the limits of one batch."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from processor.contract import (
    DEDUPLICATION_HORIZON_S,
    ENV_ARCHIVE_BUCKET,
    ENV_ENVIRONMENT,
    ENV_INGEST_BUCKET,
    ENV_TABLE_NAME,
    FUNCTION_ENVIRONMENT,
)
from processor.errors import SettingsError

__all__ = ["Limits", "Settings"]

_MIB = 1 << 20


class Limits(msgspec.Struct, frozen=True):
    """What one invocation may cost, whatever the sender sends (README, "Limits").

    Sized so that the worst case of each fits the function's 60 s timeout and the 64 MB memory
    budget with room to spare; tests pass smaller values to reach them cheaply.
    """

    #: Bytes of one S3 object once decompressed; past it the object is rejected as too large.
    max_object_bytes: int = 256 * _MIB
    #: Records of one object or direct batch (JSON Lines: lines, blank ones included; CSV: rows;
    #: JSON: array elements); past it the whole input is rejected as too large. 2**20: the set
    #: of trade ids then never passes 16 MB.
    max_records: int = 1 << 20
    #: Bytes of one record (a line, a row, an array element); a longer one is rejected alone.
    max_record_bytes: int = _MIB
    #: Nesting of one record (a flat trade object is 1); a deeper one is rejected alone.
    max_depth: int = 32
    #: Characters of JSON array elements that cannot be decoded, per object: they are skipped
    #: by a bracket-counting scan in Python, the one cost a sender could inflate per byte;
    #: past it the object is rejected whole.
    max_undecodable_bytes: int = 16 * _MIB
    #: Distinct bars one batch may touch: memory follows bars, so this bounds it.
    max_batch_bars: int = 10_000
    #: S3 notification records handled from one event (S3 sends one); the rest are refused.
    max_event_records: int = 10
    #: Bars listed in a response (direct invocation: Lambda's 6 MB payload limit).
    max_response_bars: int = 5_000
    #: Rejections listed in a response; every one of them is in the archive.
    max_reported_rejections: int = 1_000


class Settings(msgspec.Struct, frozen=True):
    """What the infrastructure hands the function, plus fixed bookkeeping choices."""

    table_name: str
    archive_bucket: str
    ingest_bucket: str
    environment: str
    #: How long batch-ledger and applied-marker items live (DynamoDB TTL): the whole window in
    #: which the same batch can arrive again, failure-queue redrives included.
    ledger_ttl_s: int = DEDUPLICATION_HORIZON_S
    limits: Limits = Limits()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the function's environment variables; fail naming what is missing."""
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
            ingest_bucket=source[ENV_INGEST_BUCKET].strip(),
            environment=source[ENV_ENVIRONMENT].strip(),
        )
