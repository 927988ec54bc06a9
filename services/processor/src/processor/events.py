"""Lambda events into typed batch sources: a direct invocation, or S3 notification records.

Nothing the sender controls raises here. An event that is neither kind, and a notification
record that cannot be used (malformed, another bucket, outside ``incoming/``, no eTag), become
a ``Refusal`` with the reason; the other records of the same event go on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal
from urllib.parse import unquote_plus

import msgspec

from processor.contract import INGEST_PREFIX
from processor.records import json_kind, show
from processor.settings import Limits

__all__ = [
    "BATCH_ID_PATTERN",
    "BATCH_ID_RE",
    "DirectBatch",
    "Event",
    "ObjectRef",
    "Refusal",
    "Source",
    "event_forms",
    "parse_event",
]

#: What a sender may call a direct batch (it names archive objects and table items).
BATCH_ID_PATTERN: Final = "[A-Za-z0-9._:-]{1,128}"
BATCH_ID_RE: Final = re.compile(BATCH_ID_PATTERN)
_DIRECT_FORMS: Final = '{"trades": [...], "batch_id": "optional"} or {"trade_data": {...}}'
#: The keys that say what an event is, in the order reasons name them; an event has one.
FORMS: Final = ("trades", "trade_data", "Records")
#: The direct forms with case, spaces, '_' and '-' ignored: a key spelled so ('Trades',
#: 'tradeData', ' trades') is a sender's slip that must not be ignored as an unknown field,
#: nor let its twin be read alone.
_FOLDED_DIRECT: Final = frozenset({"trades", "tradedata"})
_FOLD: Final = re.compile(r"[\s_-]+")


def digest(data: bytes) -> str:
    """The hex SHA-256 that names content (and, cut to 32 characters, batches)."""
    return hashlib.sha256(data).hexdigest()


class DirectBatch(msgspec.Struct, frozen=True):
    """A direct invocation: its records, batch id (given, or derived from the records) and the
    fingerprint of its records. ``problem``: why the event cannot be used as a whole."""

    batch_id: str
    fingerprint: str
    records: Sequence[Any]
    problem: str | None = None
    payload: Any = None

    @property
    def uri(self) -> str:
        return "direct"


class ObjectRef(msgspec.Struct, frozen=True):
    """One S3 ObjectCreated record: the exact object version it announces."""

    bucket: str
    key: str
    version_id: str | None
    etag: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def location_id(self) -> str:
        """A batch id for this notification alone: for an object that cannot be read whole,
        whose content therefore cannot name it."""
        identity = "\n".join((self.bucket, self.key, self.version_id or self.etag))
        return f"s3-{digest(identity.encode('utf-8', 'backslashreplace'))[:32]}"


class Refusal(msgspec.Struct, frozen=True):
    """An event, or one notification record, that is not processed: logged and reported."""

    source: str
    reason: str


Source = DirectBatch | ObjectRef | Refusal


class Event(msgspec.Struct, frozen=True):
    """What an invocation asks for: one direct batch, or one source per notification record."""

    kind: Literal["direct", "s3", "unusable"]
    sources: list[Source]


def _names_a_form(key: Any) -> bool:
    if key in FORMS:
        return True
    return (
        isinstance(key, str) and len(key) <= 32 and _FOLD.sub("", key).casefold() in _FOLDED_DIRECT
    )


def event_forms(event: Mapping[Any, Any]) -> list[Any]:
    """The keys of ``event`` that name a form (exactly, or a direct form misspelt), exact
    ones first. A key whose value is null carries nothing and is left out, unless every such
    key is null (then each counts: the event is kept with its reason, not ignored)."""
    named = sorted(
        (key for key in event if _names_a_form(key)),
        key=lambda key: FORMS.index(key) if key in FORMS else len(FORMS),
    )
    return [key for key in named if event[key] is not None] or named


def _field(parent: Any, name: str) -> Any:
    return parent.get(name) if isinstance(parent, Mapping) else None


def _notification(index: int, record: Any, ingest_bucket: str) -> ObjectRef | Refusal:
    where = f"Records[{index}]"
    name = _field(record, "eventName")
    if not isinstance(name, str) or not name.startswith("ObjectCreated"):
        return Refusal(
            where, f"{where}: not an S3 ObjectCreated notification (eventName {show(name)})"
        )
    s3 = _field(record, "s3")
    bucket, obj = _field(_field(s3, "bucket"), "name"), _field(s3, "object")
    key, etag, version = _field(obj, "key"), _field(obj, "eTag"), _field(obj, "versionId")
    if not isinstance(bucket, str) or not isinstance(key, str):
        return Refusal(
            where,
            f"{where}: malformed notification; allowed: s3.bucket.name and s3.object.key as "
            f"strings (found {show(bucket)} and {show(key)})",
        )
    uri = f"s3://{bucket}/{unquote_plus(key)}"
    if bucket != ingest_bucket:
        return Refusal(uri, f"{uri}: not the ingest bucket {ingest_bucket}; nothing read")
    if not unquote_plus(key).startswith(INGEST_PREFIX):
        return Refusal(uri, f"{uri}: outside {INGEST_PREFIX}; only {INGEST_PREFIX} is processed")
    if not isinstance(etag, str) or not etag or not isinstance(version, str | None):
        return Refusal(
            uri,
            f"{uri}: the notification has no eTag (or a malformed versionId); without it the "
            "notified version cannot be read",
        )
    return ObjectRef(bucket, unquote_plus(key), version or None, etag)


def parse_event(event: Any, ingest_bucket: str, limits: Limits) -> Event:
    """Tell the two event kinds apart and type their sources; never raises."""
    if not isinstance(event, Mapping):
        return Event(
            "unusable",
            [Refusal("event", f"event is {json_kind(event)}; allowed: a JSON object")],
        )
    forms = event_forms(event)
    if forms and forms != ["Records"]:  # (with 'Records' too: ambiguous, refused)
        from processor.direct import direct_batch  # direct calls only: loaded on the first

        return Event("direct", [direct_batch(event, forms)])
    records = event.get("Records")
    if "Records" in event:
        if not isinstance(records, list) or not records:
            return Event("unusable", [Refusal("event", "event: 'Records' is not a non-empty list")])
        sources: list[Source] = [
            _notification(i, r, ingest_bucket)
            for i, r in enumerate(records[: limits.max_event_records])
        ]
        sources += [
            Refusal(
                f"Records[{i}]",
                f"Records[{i}]: more than {limits.max_event_records} notification records in "
                "one event; S3 sends one",
            )
            for i in range(limits.max_event_records, len(records))
        ]
        return Event("s3", sources)
    return Event(
        "unusable",
        [
            Refusal(
                "event",
                "event has neither 'trades', 'trade_data' nor S3 'Records'; allowed: "
                f"{_DIRECT_FORMS} or an S3 ObjectCreated notification",
            )
        ],
    )
