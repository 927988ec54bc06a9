"""moto's condition-expression parser, remembered: the same expression is parsed once.

moto (5.2) parses an item's ``ConditionExpression`` up to three times per write (the request's
validation, the transaction's check, the put's own check), and the processor sends the same
few expressions for thousands of items; parsing was a quarter of the emulator's time. A parse
depends only on the expression, its attribute names and its values, and the tree it returns is
evaluated without being changed (moto's ``Op``/``Func`` nodes only read their fields), so the
tree and the names and values it found are kept per (expression, names, values), in a bounded
table. An expression that fails to parse is not remembered: it fails every time, as before.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import ConditionExpressionParser

__all__ = ["install", "installed", "remembering"]

_PATCHED = "_parses_remembered_by_local_platform"
_LIMIT = 4096
_lock = threading.Lock()


def _key(parser: ConditionExpressionParser) -> str:
    return json.dumps(
        [
            parser.condition_expression,
            parser.expression_attribute_names,
            parser.expression_attribute_values,
        ],
        sort_keys=True,
        default=repr,
    )


def remembering(
    original: Callable[[ConditionExpressionParser], Any],
    parses: dict[str, tuple[Any, list[str], list[str]]],
) -> Callable[[ConditionExpressionParser], Any]:
    """``original`` (moto's ``parse``), answering from ``parses`` when it has seen the input."""

    @functools.wraps(original)
    def parse(self: ConditionExpressionParser) -> Any:
        key = _key(self)
        found = parses.get(key)
        if found is None:
            tree = original(self)  # raises on a bad expression: nothing is remembered
            found = (tree, list(self.expr_attr_names_found), list(self.expr_attr_values_found))
            with _lock:
                if len(parses) >= _LIMIT:
                    parses.clear()
                parses[key] = found
        tree, names, values = found
        self.expr_attr_names_found, self.expr_attr_values_found = list(names), list(values)
        return tree

    return parse


def installed() -> bool:
    return bool(getattr(ConditionExpressionParser, _PATCHED, False))


def install() -> None:
    """Patch moto's parser in this process (idempotent)."""
    if installed():
        return
    patched = remembering(ConditionExpressionParser.parse, {})
    ConditionExpressionParser.parse = patched  # type: ignore[method-assign,assignment]
    setattr(ConditionExpressionParser, _PATCHED, True)
