"""The one failure an operator command reports as a message instead of a traceback."""

from __future__ import annotations

__all__ = ["OperationsError"]


class OperationsError(Exception):
    """Bad input or an unreachable resource: the message says what and what is allowed."""
