"""Regular expressions for the config schema: what a parser accepts, spelled as a pattern.

The Pulumi CLI hands a program every config value as text, and the parsers strip surrounding
whitespace and read digits (leading zeros included), so an editor's schema needs the same: a
pattern for "an integer from 128 to 10240 in digits". Patterns use only what Python's `re` and
ECMA-262 (JSON Schema's dialect) read alike, but for `\\s`, which Python reads as `str.strip`'s
whitespace.
"""

from __future__ import annotations

__all__ = ["alternatives", "integer_range", "padded"]

_METACHARACTERS = frozenset("\\^$.|?*+()[]{}")


def padded(pattern: str) -> str:
    """The whole text is ``pattern``, give or take the whitespace a parser strips."""
    return rf"^\s*(?:{pattern})\s*$"


def alternatives(words: list[str]) -> str:
    """Exactly one of ``words``, metacharacters escaped (and nothing else: ECMA-262's Unicode
    mode refuses escapes such as `\\-`)."""
    return "|".join("".join(f"\\{c}" if c in _METACHARACTERS else c for c in w) for w in words)


def _digit_class(low: str, high: str) -> str:
    return low if low == high else f"[{low}-{high}]"


def _any_digits(count: int) -> str:
    return "" if count == 0 else "[0-9]" if count == 1 else f"[0-9]{{{count}}}"


def _same_length(low: str, high: str) -> list[str]:
    """Patterns for the numbers from ``low`` to ``high``, both of the same number of digits."""
    if low == high:
        return [low]
    rest = len(low) - 1
    if low[0] == high[0]:
        return [low[0] + tail for tail in _same_length(low[1:], high[1:])]
    # Split at the first digit: low's partial block, the whole blocks, high's partial block.
    low_whole, high_whole = low[1:] == "0" * rest, high[1:] == "9" * rest
    parts = [] if low_whole else _same_length(low, low[0] + "9" * rest)
    first = int(low[0]) if low_whole else int(low[0]) + 1
    last = int(high[0]) if high_whole else int(high[0]) - 1
    if first <= last:
        parts.append(_digit_class(str(first), str(last)) + _any_digits(rest))
    return parts if high_whole else parts + _same_length(high[0] + "0" * rest, high)


def _natural_range(low: int, high: int) -> list[str]:
    """Patterns for ``low``..``high`` (0 <= low <= high) without leading zeros."""
    parts: list[str] = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        start = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        end = min(high, 10**digits - 1)
        if start <= end:
            parts += _same_length(str(start), str(end))
    return parts


def integer_range(low: int, high: int) -> str:
    """ASCII digits, optionally with a leading `-` and leading zeros, whose value is in
    ``low``..``high``: what ``int()`` of a ``-?[0-9]+`` text accepts."""
    if low > high:
        raise ValueError(f"empty range {low}..{high}")
    branches = []
    if high >= 0:
        branches.append("0*(?:" + "|".join(_natural_range(max(low, 0), high)) + ")")
    if low < 0:
        branches.append("-0*(?:" + "|".join(_natural_range(max(-high, 1), -low)) + ")")
        if high >= 0:
            branches.append("-0+")  # minus zero is zero
    return "|".join(branches)
