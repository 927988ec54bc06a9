"""One exception class per failure mode of the processor.

Input never raises out of the handler: the classes marked *poison* are turned into rejections
that are archived and reported. Only the *transient* ones leave the handler, so that Lambda
retries the event (and, after its last retry, sends it to the failure queue).
"""

from __future__ import annotations

__all__ = [
    "BarContentionError",
    "BarLimitRaceError",
    "BatchConflictError",
    "MalformedObjectError",
    "ObjectGoneError",
    "ObjectTooLargeError",
    "ProcessorError",
    "SettingsError",
    "SourceReadError",
]


class ProcessorError(Exception):
    """Base class of every error raised by the processor on purpose."""


class SettingsError(ProcessorError):
    """The function's environment variables are missing or invalid (a deployment bug)."""


class MalformedObjectError(ProcessorError):
    """A whole input cannot be decoded past some point (poison: nothing of it is applied).

    ``index`` is the index of the first record that could not be read, when known.
    """

    def __init__(self, reason: str, index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index


class ObjectTooLargeError(MalformedObjectError):
    """An input exceeds one of the size limits (poison: rejected whole, kept with the reason)."""


class ObjectGoneError(ProcessorError):
    """The notified object version no longer exists (deleted or overwritten since): nothing to
    do; a newer version has its own notification."""


class BatchConflictError(ProcessorError):
    """A batch id was already used for different trades (poison: never retried)."""


class BarContentionError(ProcessorError):
    """A bar kept changing under us through every optimistic retry (transient)."""


class BarLimitRaceError(ProcessorError):
    """Another writer took a bar past the bar limits while this batch merged it (transient:
    the retry sees the bar as it is now and refuses this batch's trades of it)."""


class SourceReadError(ProcessorError):
    """Reading the notified S3 object failed part-way (transient: the network, not the bytes)."""
