"""moto's TransactWriteItems, with a snapshot of the items it touches instead of whole tables.

moto (5.2) makes a transaction all-or-nothing by deep-copying every table it names before the
first write and putting the copy back on failure. One transaction then costs as much as the
table is large, and a file whose bars arrive in hundreds of transactions costs the square of
its size (the 100,000-trade benchmark file exhausted a machine's memory).

This patch keeps moto's own implementation of the transaction — validation, condition checks,
the cancellation reasons, ``ALL_OLD`` — and replaces only the snapshot: before the transaction
runs, the items it names (at most 100) are copied; if it raises anything at all, exactly those
items are put back as they were (or removed again if they did not exist), and the table's
stream records written meanwhile are dropped. The whole-table copy moto would make becomes the
table itself, for the duration of the call only.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

__all__ = ["install", "installed"]

_PATCHED = "_item_snapshots_by_local_platform"
_state = threading.local()


class _CopyWithoutTables:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``.

    While a patched transaction runs on this thread, a deep copy of a whole ``Table`` is the
    table itself (the touched items are snapshotted instead); every other copy is a real one.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and getattr(_state, "in_transaction", False):
            return value
        return copy.deepcopy(value, memo)


@dataclass(frozen=True)
class _Saved:
    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    item: Item | None  # a deep copy of the item as it was; None: it did not exist


def _key_of(table: Table, op_type: str, op: Mapping[str, Any]) -> dict[str, Any] | None:
    """The key an operation names, or None if it names none (moto will reject it)."""
    source = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(source, Mapping) or table.hash_key_attr not in source:
        return None
    key = {table.hash_key_attr: source[table.hash_key_attr]}
    if table.range_key_attr is not None:
        if table.range_key_attr not in source:
            return None
        key[table.range_key_attr] = source[table.range_key_attr]
    return key


def _touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Iterator[_Saved]:
    for entry in transact_items:
        if not isinstance(entry, Mapping) or not entry:
            continue
        op_type, op = next(iter(entry.items()))
        name = op.get("TableName") if isinstance(op, Mapping) else None
        table = backend.tables.get(name) if isinstance(name, str) else None
        key = _key_of(table, op_type, op) if table is not None else None
        if table is None or key is None:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_key, range_key)
        yield _Saved(table, hash_key, range_key, copy.deepcopy(current))


def _restore(saved: list[_Saved], stream_lengths: dict[int, int]) -> None:
    for entry in reversed(saved):
        items: Any = entry.table.items
        if entry.range_key is None:
            if entry.item is None:
                items.pop(entry.hash_key, None)
            else:
                items[entry.hash_key] = entry.item
        elif entry.item is None:
            items.get(entry.hash_key, {}).pop(entry.range_key, None)
        else:
            items[entry.hash_key][entry.range_key] = entry.item
        shard = entry.table.stream_shard
        if shard is not None:
            del shard.items[stream_lengths[id(entry.table)] :]


@contextmanager
def _whole_table_copies_skipped() -> Iterator[None]:
    _state.in_transaction = True
    try:
        yield
    finally:
        _state.in_transaction = False


def installed() -> bool:
    return bool(getattr(DynamoDBBackend, _PATCHED, False))


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent).

    Install before anything wraps ``transact_write_items`` (such as a lock): the snapshot must
    be taken inside whatever makes the transaction atomic.
    """
    if installed():
        return
    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = list(_touched(self, transact_items))
        shards = [(id(s.table), s.table.stream_shard) for s in saved]
        streams = {table: len(shard.items) for table, shard in shards if shard is not None}
        try:
            with _whole_table_copies_skipped():
                original(self, transact_items)
        except BaseException:
            # moto restores its (now uncopied) tables on the failures it expects; undo every
            # failure here, including the ones it raises before its own rollback.
            _restore(saved, streams)
            raise

    dynamodb_models.copy = _CopyWithoutTables()  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    setattr(DynamoDBBackend, _PATCHED, True)
