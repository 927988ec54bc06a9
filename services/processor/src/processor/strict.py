"""What strict JSON (RFC 8259) can carry: the checks a record passes before its line is
archived, and the safe copy a rejected record is archived as.

Iterative throughout, so no input can exhaust the stack. Loaded on first need: a clean batch
on the fast paths never calls it.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from itertools import accumulate, count, repeat
from operator import indexOf, sub
from typing import Any, Final

import msgspec

from processor.records import RecordError, has_lone_surrogate, show

__all__ = ["json_safe", "nested_deeper_than", "strict_line", "text_deeper_than"]

#: An integer wider than this cannot be printed (Python's 4300-digit limit).
_MAX_INT_BITS: Final = 14_000
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
_JSON_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
#: Depth counting over bytes: brackets kept (an opening one 2, a closing one 0), all else gone.
_BRACKET_CODES: Final = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS: Final = bytes(c for c in range(256) if c not in b"[]{}")


def text_deeper_than(text: bytes, limit: int) -> bool:
    """Whether JSON ``text`` nests more than ``limit`` deep, told without decoding it: strings
    removed (their brackets do not count), then a running depth in C that stops at the first
    level past the limit. Decoding a deep value costs far more, and can exhaust the stack."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    codes = _JSON_STRING.sub(b"", text).translate(_BRACKET_CODES, _NOT_BRACKETS)
    try:
        indexOf(map(sub, accumulate(codes), count(1)), limit + 1)
    except ValueError:
        return False
    return True


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth == limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _finite(number: float | Decimal) -> bool:
    return number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)


def _scalar_problem(item: Any) -> str | None:
    """What keeps a value that is not a container from being strict JSON, if anything."""
    if isinstance(item, str):
        if has_lone_surrogate(item):
            return "holds text that is not valid Unicode (a lone surrogate or a non-UTF-8 byte)"
    elif isinstance(item, bool) or item is None:
        pass
    elif isinstance(item, int):
        if item.bit_length() > _MAX_INT_BITS:
            return f"holds an integer of {item.bit_length()} bits; JSON text cannot carry it"
    elif isinstance(item, float | Decimal):
        if not _finite(item):
            return f"holds {show(item)}; JSON has no NaN or Infinity"
    else:
        return f"holds a {type(item).__name__}, which JSON cannot carry"
    return None


def _strict_problem(value: Any, limit: int) -> str | None:
    """What keeps ``value`` from being written as strict JSON (RFC 8259), if anything."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            problem = _scalar_problem(item)
            if problem is not None:
                return problem
            continue
        if depth == limit:
            return f"is nested deeper than {limit} levels"
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return "has a key that is not a string"
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)
    return None


def strict_line(record: Any, max_depth: int) -> bytes:
    """``record`` as one strict JSON line, or ``RecordError`` saying why it cannot be one."""
    problem = _strict_problem(record, max_depth)
    if problem is not None:
        raise RecordError(f"record {problem}")
    return _ENCODER.encode(record)


def _safe_text(text: str) -> str:
    """``text`` with any lone surrogate written out as its escape (``\\udc80``)."""
    if not has_lone_surrogate(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_scalar(item: Any) -> Any:
    kind = type(item)
    if kind is str:
        return _safe_text(item)
    if item is None or kind is bool or kind is msgspec.Raw:  # Raw: strict JSON already
        return item
    if kind is int:
        return item if item.bit_length() <= _MAX_INT_BITS else show(item)
    if kind is float or kind is Decimal:
        return item if _finite(item) else str(item)  # kept, as a string
    return _safe_scalar_slowly(item)


def _safe_scalar_slowly(item: Any) -> Any:
    """``_safe_scalar`` for subclasses of the JSON types (rare: never from JSON text)."""
    if isinstance(item, str):
        return _safe_text(str(item))
    if isinstance(item, bool):
        return bool(item)
    if isinstance(item, int):
        return _safe_scalar(int(item))
    if isinstance(item, float | Decimal):
        return _safe_scalar(float(item) if isinstance(item, float) else Decimal(item))
    return show(item)


def json_safe(value: Any, max_depth: int) -> Any:
    """A copy of ``value`` that strict JSON can carry, for the ``rejected/`` archive.

    Non-finite numbers become strings (``"NaN"``), text that is not valid Unicode keeps its
    escapes as plain text, anything nested deeper than ``max_depth`` is cut to a note.
    Iterative, so no input can exhaust the stack.
    """
    if not isinstance(value, dict | list | tuple):
        return _safe_scalar(value)
    root: list[Any] = []
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        item, parent, slot, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            copy: Any = _safe_scalar(item)
        elif depth == max_depth:
            copy = f"(nested deeper than {max_depth} levels: left out)"
        elif isinstance(item, dict):
            copy = {}
            for key, child in item.items():
                name = _safe_text(key) if type(key) is str else show(key)
                copy[name] = None
                stack.append((child, copy, name, depth + 1))
        else:
            copy = list(item)
            stack.extend(zip(item, repeat(copy), range(len(item)), repeat(depth + 1)))
        if parent is root:
            root.append(copy)
        else:
            parent[slot] = copy
    return root[0]
