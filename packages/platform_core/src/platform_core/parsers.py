"""Value types of the settings: each turns a raw config value into a typed one, or says why not.

The Pulumi CLI hands a program every config value as a string (structures as JSON text), so each
parser accepts that spelling as well as the YAML scalar. A parser raises ``ValueError`` with the
sentence "must be …" that ends up in the one message listing every bad setting; ``allowed`` is
the short form the settings table shows, and ``schema`` the JSON Schema an editor validates with.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

__all__ = [
    "LOG_RETENTION_DAYS",
    "AccountId",
    "AccountIds",
    "Boolean",
    "Choice",
    "DbInstanceClass",
    "EngineVersion",
    "GitHubName",
    "IntegerRange",
    "Ipv4Network",
    "OrNone",
    "Parser",
    "Region",
    "RetentionDays",
    "Suffix",
    "TagValue",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
E = TypeVar("E", bound=StrEnum)

_NONE_WORDS = frozenset({"none", "null", "unset", ""})
# CloudWatch Logs accepts exactly these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)  # fmt: skip


class Parser(Protocol[T_co]):
    """Parses one raw value; ``allowed`` and ``schema`` describe what it accepts."""

    @property
    def allowed(self) -> str: ...

    def __call__(self, raw: Any) -> T_co: ...

    def schema(self) -> dict[str, Any]: ...


def _text(raw: Any) -> str:
    return str(raw).strip()


@dataclass(frozen=True)
class IntegerRange:
    """An integer from ``low`` to ``high`` in ASCII digits (``True``, ``1.5`` are not integers)."""

    low: int
    high: int
    unit: str = ""

    @property
    def allowed(self) -> str:
        return f"{self.low}-{self.high}" + (f" {self.unit}" if self.unit else "")

    def __call__(self, raw: Any) -> int:
        text = _text(raw)
        if isinstance(raw, bool) or not re.fullmatch(r"-?[0-9]+", text):
            raise ValueError(self._must())
        value = int(text)
        if not self.low <= value <= self.high:
            raise ValueError(self._must())
        return value

    def _must(self) -> str:
        unit = f" ({self.unit})" if self.unit else ""
        return f"must be an integer from {self.low} to {self.high}{unit}"

    def schema(self) -> dict[str, Any]:
        pattern = "^-?[0-9]+$"
        return {
            "oneOf": [
                {"type": "integer", "minimum": self.low, "maximum": self.high},
                {"type": "string", "pattern": pattern},
            ]
        }


@dataclass(frozen=True)
class OrNone(Generic[T]):
    """``inner``'s values, or ``none`` to leave the setting unset."""

    inner: Parser[T]

    @property
    def allowed(self) -> str:
        return f"{self.inner.allowed}, or `none`"

    def __call__(self, raw: Any) -> T | None:
        if raw is None or _text(raw).lower() in _NONE_WORDS:
            return None
        try:
            return self.inner(raw)
        except ValueError as error:
            raise ValueError(f"{error}, or 'none' to leave it unset") from None

    def schema(self) -> dict[str, Any]:
        none = {"enum": [None, *sorted(_NONE_WORDS)]}
        return {"anyOf": [self.inner.schema(), none]}


@dataclass(frozen=True)
class Boolean:
    """Exactly ``true`` or ``false``: the Pulumi CLI passes YAML's ``yes``/``no`` on as text."""

    @property
    def allowed(self) -> str:
        return "`true`, `false`"

    def __call__(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        text = _text(raw)
        if text not in {"true", "false"}:
            raise ValueError("must be true or false")
        return text == "true"

    def schema(self) -> dict[str, Any]:
        return {"oneOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]}


@dataclass(frozen=True)
class Choice(Generic[E]):
    """One of an enumeration's values, spelled exactly."""

    enum: type[E]

    @property
    def allowed(self) -> str:
        return ", ".join(f"`{member.value}`" for member in self.enum)

    def __call__(self, raw: Any) -> E:
        try:
            return self.enum(_text(raw))
        except ValueError:
            allowed = ", ".join(f"'{member.value}'" for member in self.enum)
            raise ValueError(f"must be one of {allowed}") from None

    def schema(self) -> dict[str, Any]:
        return {"enum": [member.value for member in self.enum]}


@dataclass(frozen=True)
class RetentionDays:
    """A retention period CloudWatch Logs accepts."""

    @property
    def allowed(self) -> str:
        return "a CloudWatch retention period (1, 3, 5, 7, 14, 30, 60, 90, …)"

    def __call__(self, raw: Any) -> int:
        periods = ", ".join(map(str, LOG_RETENTION_DAYS))
        must = f"must be one of CloudWatch's retention periods {periods}"
        text = _text(raw)
        if isinstance(raw, bool) or not re.fullmatch(r"[0-9]+", text):
            raise ValueError(must)
        if int(text) not in LOG_RETENTION_DAYS:
            raise ValueError(must)
        return int(text)

    def schema(self) -> dict[str, Any]:
        return {"enum": [*LOG_RETENTION_DAYS, *map(str, LOG_RETENTION_DAYS)]}


@dataclass(frozen=True)
class Ipv4Network:
    """An IPv4 network in CIDR notation, its prefix length within ``shortest``-``longest``."""

    shortest: int = 16
    longest: int = 24

    @property
    def allowed(self) -> str:
        return f"IPv4 CIDR, /{self.shortest}-/{self.longest}"

    def __call__(self, raw: Any) -> ipaddress.IPv4Network:
        must = (
            f"must be an IPv4 network in CIDR notation with a prefix from /{self.shortest} to "
            f"/{self.longest}, e.g. 10.0.0.0/{self.shortest}"
        )
        try:
            network = ipaddress.IPv4Network(_text(raw), strict=True)
        except ValueError:
            raise ValueError(must) from None
        if not self.shortest <= network.prefixlen <= self.longest:
            raise ValueError(must)
        return network

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"}


@dataclass(frozen=True)
class AccountIds:
    """AWS account ids: a list, JSON text of a list, or comma-separated text."""

    @property
    def allowed(self) -> str:
        return "list of 12-digit account ids"

    def __call__(self, raw: Any) -> tuple[str, ...]:
        must = 'must be a list of 12-digit AWS account ids, e.g. ["123456789012"]'
        if isinstance(raw, list | tuple):
            items = list(raw)
        else:
            text = _text(raw)
            try:
                items = json.loads(text) if text.startswith("[") else text.split(",")
            except json.JSONDecodeError:
                raise ValueError(must) from None
            if not isinstance(items, list):
                raise ValueError(must)
        ids = tuple(_text(item) for item in items if _text(item))
        if not all(re.fullmatch(r"[0-9]{12}", account) for account in ids):
            raise ValueError(must)
        return ids

    def schema(self) -> dict[str, Any]:
        account = {"type": "string", "pattern": "^[0-9]{12}$"}
        return {"oneOf": [{"type": "array", "items": account}, {"type": "string"}]}


@dataclass(frozen=True)
class Suffix:
    """A name part: it ends up in S3 bucket names, so lowercase letters, digits and '-'."""

    @property
    def allowed(self) -> str:
        return "lowercase letters, digits, `-`, or `none`"

    def __call__(self, raw: Any) -> str | None:
        text = _text(raw)
        if raw is None or text.lower() in _NONE_WORDS:
            return None
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", text):
            raise ValueError(
                "must be lowercase letters, digits or '-', starting and ending with a letter or "
                "digit (it becomes part of S3 bucket names)"
            )
        return text

    def schema(self) -> dict[str, Any]:
        return {
            "anyOf": [
                {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"},
                {"enum": [None, *sorted(_NONE_WORDS)]},
            ]
        }


_TAG_VALUE = r"[\w .:/=+\-@]{1,256}"


@dataclass(frozen=True)
class TagValue:
    """What AWS accepts as a tag value (used for the tags every resource carries)."""

    @property
    def allowed(self) -> str:
        return "tag value"

    def __call__(self, raw: Any) -> str:
        text = _text(raw)
        if raw is None or not re.fullmatch(_TAG_VALUE, text):
            raise ValueError("must be 1-256 characters: letters, digits, spaces and _.:/=+-@")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{_TAG_VALUE}$"}


_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-[0-9]"


@dataclass(frozen=True)
class Region:
    """An AWS region code such as ``us-east-1``."""

    @property
    def allowed(self) -> str:
        return "an AWS region code"

    def __call__(self, raw: Any) -> str:
        text = _text(raw)
        if not re.fullmatch(_REGION, text):
            raise ValueError("must be an AWS region code such as 'us-east-1'")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{_REGION}$"}


@dataclass(frozen=True)
class AccountId:
    """One 12-digit AWS account id."""

    @property
    def allowed(self) -> str:
        return "a 12-digit AWS account id"

    def __call__(self, raw: Any) -> str:
        text = _text(raw)
        if isinstance(raw, bool) or not re.fullmatch(r"[0-9]{12}", text):
            raise ValueError("must be a 12-digit AWS account id")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[0-9]{12}$"}


_GITHUB_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?"


@dataclass(frozen=True)
class GitHubName:
    """A GitHub organisation, user or repository name."""

    what: str

    @property
    def allowed(self) -> str:
        return f"a GitHub {self.what} name"

    def __call__(self, raw: Any) -> str:
        text = _text(raw)
        if raw is None or not re.fullmatch(_GITHUB_NAME, text):
            raise ValueError(f"must be {self.allowed}: letters, digits, '.', '_' and '-'")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{_GITHUB_NAME}$"}


_DB_INSTANCE_CLASS = r"db\.[a-z][a-z0-9-]*\.[a-z0-9]+"


@dataclass(frozen=True)
class DbInstanceClass:
    """A provisioned RDS DB instance class such as ``db.r6g.large`` (not ``db.serverless``)."""

    @property
    def allowed(self) -> str:
        return "an RDS instance class, e.g. `db.r6g.large`"

    def __call__(self, raw: Any) -> str:
        text = _text(raw)
        if not re.fullmatch(_DB_INSTANCE_CLASS, text):
            raise ValueError(
                "must be a provisioned RDS DB instance class such as 'db.r6g.large' "
                "(db.<family>.<size>, lowercase)"
            )
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{_DB_INSTANCE_CLASS}$"}


_ENGINE_VERSION = r"[0-9]+\.[0-9]+"


@dataclass(frozen=True)
class EngineVersion:
    """A database engine version as ``major.minor`` (``17.6``): exactly what gets deployed."""

    @property
    def allowed(self) -> str:
        return "`major.minor`, e.g. `17.6`"

    def __call__(self, raw: Any) -> str:
        if isinstance(raw, bool | int | float):
            # YAML reads an unquoted 17.10 as the number 17.1: only text keeps the version.
            raise ValueError("must be quoted text such as '17.6' (YAML turns 17.10 into 17.1)")
        text = _text(raw)
        if not re.fullmatch(_ENGINE_VERSION, text):
            raise ValueError("must be an engine version as major.minor, e.g. '17.6'")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{_ENGINE_VERSION}$"}
