"""What the local platform reports as one line of error instead of a traceback."""

from __future__ import annotations

__all__ = ["EmulatorError", "IdentityError", "RegionError", "UnsupportedPolicyError"]


class EmulatorError(Exception):
    """The emulator could not start (port taken, moto failure)."""


class RegionError(ValueError):
    """Not a region of AWS's standard partition (the one the emulator and the stacks use)."""


class IdentityError(Exception):
    """The rendered role cannot be reproduced faithfully in the emulator."""


class UnsupportedPolicyError(Exception):
    """A policy document uses something the emulator cannot evaluate faithfully."""
