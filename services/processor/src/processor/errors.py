"""One exception class per failure mode of the processor.

Poison input never raises out of the handler (it is archived and reported); the classes
below marked *transient* do, so that Lambda retries the event.
"""

from __future__ import annotations

__all__ = [
    "BarContentionError",
    "BatchConflictError",
    "MalformedObjectError",
    "ProcessorError",
    "SettingsError",
    "UnsupportedEventError",
]


class ProcessorError(Exception):
    """Base class of every error raised by the processor on purpose."""


class SettingsError(ProcessorError):
    """The function's environment variables are missing or invalid (a deployment bug)."""


class UnsupportedEventError(ProcessorError):
    """The event is neither a direct invocation nor an S3 notification (poison)."""


class MalformedObjectError(ProcessorError):
    """A whole input (S3 object or event) cannot be decoded past some point (poison).

    ``index`` is the index of the first record that could not be read, when known.
    """

    def __init__(self, reason: str, index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index


class BatchConflictError(ProcessorError):
    """A batch id was already used for different trades (poison: never retried)."""


class BarContentionError(ProcessorError):
    """A bar kept changing under us through every optimistic retry (transient)."""
