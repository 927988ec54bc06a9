"""How a dial is declared: one row that everything else reads.

A dial is a field of ``EnvironmentConfig`` declared with :func:`dial`: its config key, its
parser, its default per profile, one line of documentation, whether environments may differ in
it, and what it sets in a rendered stack. Parsing, the defaults, README's settings table, the
editor schema and the consistency report's attribution are all derived from these rows, so a
new setting is one declaration plus the code that uses it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from platform_core.parsers import Parser

__all__ = [
    "CONFIG_NAMESPACE",
    "PROFILES",
    "REQUIRED",
    "Creates",
    "Dial",
    "Effect",
    "HalfOfProduction",
    "SetsInput",
    "closest_key",
    "dial",
    "dials_of",
    "read_dials",
]

CONFIG_NAMESPACE: Final = "platform"
#: The columns of the defaults table. Each environment takes one column (its own name, or the
#: one its stack file names with ``platform:defaults``) and overrides what it needs.
PROFILES: Final = ("dev", "staging", "production")
_METADATA_KEY: Final = "platform_core.dial"


class _Required:
    """A setting with no default: every stack file must set it."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()


@dataclass(frozen=True)
class HalfOfProduction:
    """Staging mirrors production at half capacity: half of production's default of ``key``."""

    key: str

    def resolve(self, production_default: int | None) -> int | None:
        return None if production_default is None else production_default // 2


@dataclass(frozen=True)
class SetsInput:
    """The dial's value shows in input ``key`` of every ``type`` resource (``*``: a prefix)."""

    type: str
    key: str

    def matches(self, type_: str, key: str) -> bool:
        if type_ != self.type:
            return False
        return key.startswith(self.key[:-1]) if self.key.endswith("*") else key == self.key


@dataclass(frozen=True)
class Creates:
    """``type`` resources exist for some values only: any (``*``), or those whose logical name
    is ``name`` within its component (``<component>-<name>``)."""

    type: str
    name: str = "*"

    def matches(self, type_: str, name: str) -> bool:
        if type_ != self.type:
            return False
        return self.name in ("*", name) or name.endswith(f"-{self.name}")


Effect = SetsInput | Creates


@dataclass(frozen=True)
class Dial:
    """One setting: see :func:`dial`."""

    key: str
    parse: Parser[Any]
    defaults: Mapping[str, Any]
    doc: str
    may_differ: bool
    affects: tuple[Effect, ...]
    namespace: str = CONFIG_NAMESPACE

    @property
    def config_key(self) -> str:
        """The key as ``Pulumi.<env>.yaml`` spells it, e.g. ``platform:lambdaMemoryMb``."""
        return f"{self.namespace}:{self.key}"

    @property
    def required(self) -> bool:
        return any(value is REQUIRED for value in self.defaults.values())

    def default(self, profile: str, registry: Mapping[str, Dial]) -> Any:
        """The default in ``profile``; a derived one is resolved through ``registry`` (by key)."""
        value = self.defaults[profile]
        if isinstance(value, HalfOfProduction):
            source = registry[value.key]
            return value.resolve(source.default("production", registry))
        return value


class _Unset:
    pass


_UNSET: Final = _Unset()


def dial(
    key: str,
    parse: Parser[Any],
    *,
    doc: str,
    everywhere: Any = _UNSET,
    dev: Any = _UNSET,
    staging: Any = _UNSET,
    production: Any = _UNSET,
    required: bool = False,
    may_differ: bool = False,
    affects: tuple[Effect, ...] = (),
    namespace: str = CONFIG_NAMESPACE,
) -> Any:
    """Declare a field of the configuration as a dial.

    Give its default ``everywhere``, or per profile (all of ``dev``, ``staging``,
    ``production``), or declare it ``required`` (every stack file sets it). Defaults that differ
    by profile need ``may_differ``; say it too for a setting that is the same by default but that
    environments are meant to set differently.
    """
    per_profile = (dev, staging, production)
    given = [value for value in per_profile if value is not _UNSET]
    if required:
        defaults: dict[str, Any] = dict.fromkeys(PROFILES, REQUIRED)
    elif everywhere is not _UNSET and not given:
        defaults = dict.fromkeys(PROFILES, everywhere)
    elif len(given) == len(PROFILES) and everywhere is _UNSET:
        defaults = dict(zip(PROFILES, per_profile, strict=True))
    else:
        raise TypeError(f"dial {key}: give `everywhere`, or all of dev, staging and production")
    if len({repr(value) for value in defaults.values()}) > 1 and not may_differ:
        raise TypeError(f"dial {key}: its defaults differ by profile, so declare may_differ=True")
    declared = Dial(key, parse, defaults, doc, may_differ, affects, namespace)
    return dataclasses.field(metadata={_METADATA_KEY: declared})


def read_dials(
    dials: Mapping[str, Dial], raw: Mapping[str, Any], profile: str, other_keys: Sequence[str] = ()
) -> tuple[dict[str, Any], list[str]]:
    """Parse ``raw`` (keys as stack files spell them) against ``dials`` (by field name).

    Returns the typed values by field name, defaults filled in from ``profile``, and every
    problem as "key = value: what is allowed"; a key that is neither a dial nor one of
    ``other_keys`` is a problem too, with the nearest known key as a hint.
    """
    by_key = {dial.key: dial for dial in dials.values()}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field, declared in dials.items():
        key = declared.config_key
        if key in raw and _is_secret(raw[key]):
            problems.append(
                f"{key} is a secret: settings cannot be secrets (they name, size and tag "
                "resources, and show in every plan); set it as plain text, with `pulumi config "
                "set` without --secret"
            )
        elif key in raw:
            try:
                values[field] = declared.parse(raw[key])
            except ValueError as error:
                problems.append(f"{key} = {raw[key]!r}: {error}")
        elif declared.required:
            problems.append(
                f"{key} is required: set it in the stack file ({declared.parse.allowed})"
            )
        else:
            values[field] = declared.default(profile, by_key)
    known = [*(declared.config_key for declared in dials.values()), *other_keys]
    for key in raw:
        if key not in known:
            hint = closest_key(key, known)
            advice = f"did you mean '{hint}'?" if hint else "it is not a known setting"
            problems.append(f"{key} = {raw[key]!r}: unknown key, {advice}")
    return values, problems


def closest_key(key: str, known: Sequence[str]) -> str | None:
    """The known key ``key`` is probably a misspelling of: names compared without their
    namespace, and only a close one (a wrong guess misleads more than none)."""
    by_name = {known_key.rsplit(":", 1)[-1]: known_key for known_key in known}
    close = difflib.get_close_matches(key.rsplit(":", 1)[-1], list(by_name), n=1, cutoff=0.8)
    return by_name[close[0]] if close else None


def _is_secret(raw: Any) -> bool:
    """A `secure:` value, as a stack file holds it or as the offline tools pass it (JSON text);
    the Pulumi CLI would pass it decrypted, which nothing offline can do."""
    if isinstance(raw, str) and raw.startswith("{"):
        with contextlib.suppress(ValueError):
            raw = json.loads(raw)
    return isinstance(raw, Mapping) and set(raw) == {"secure"}


def dials_of(cls: type) -> dict[str, Dial]:
    """The dials of a configuration class, by field name, in declaration order."""
    return {
        field.name: field.metadata[_METADATA_KEY]
        for field in dataclasses.fields(cls)
        if _METADATA_KEY in field.metadata
    }
