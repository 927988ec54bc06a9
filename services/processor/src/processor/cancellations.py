"""Reading a cancelled ``TransactWriteItems``: which bars already hold the batch, which
changed under us, and when to give up. Loaded on the first cancellation (a race with another
writer, or a redelivery), which a batch rarely meets.
"""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import ClientError

from processor.bars import Bar, BarKey
from processor.store import bar_from_item

__all__ = ["settle"]

#: Cancellation reasons of an item that say nothing about it: fine, or raced by another.
_HARMLESS: Final = frozenset({None, "None", "TransactionConflict"})


def settle(
    err: ClientError,
    merged: list[Bar],
    stored: dict[BarKey, Bar | None],
    done: dict[BarKey, Bar],
) -> bool:
    """Read a cancellation bar by bar; return whether it told us something new.

    Marker exists: the batch is already in that bar (done, as stored now). Bar changed:
    remember the current item, to merge again. ``None``/``TransactionConflict``: just
    try again. Any other reason (throttling, validation, ...) re-raises ``err`` as it
    came, as does a cancellation that explains nothing.
    """
    reasons: Any = err.response.get("CancellationReasons") or []
    if len(reasons) != 2 * len(merged):
        raise err
    learned = conflict = False
    for i, bar in enumerate(merged):
        marker_code, bar_reason = reasons[2 * i].get("Code"), reasons[2 * i + 1]
        bar_code = bar_reason.get("Code")
        if marker_code == "ConditionalCheckFailed":  # this batch is already in the bar
            old = stored[bar.key]
            done[bar.key] = (
                bar_from_item(bar_reason["Item"]) if "Item" in bar_reason else (old or bar)
            )
            learned = True
        elif bar_code == "ConditionalCheckFailed" and "Item" in bar_reason:
            stored[bar.key] = bar_from_item(bar_reason["Item"])  # someone merged first
            learned = True
        elif {marker_code, bar_code} - _HARMLESS:
            raise err
        else:
            conflict = conflict or "TransactionConflict" in (marker_code, bar_code)
    if not (learned or conflict):
        raise err
    return learned
