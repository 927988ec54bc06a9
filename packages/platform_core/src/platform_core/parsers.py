"""Value types of the settings: each turns a raw config value into a typed one, or says why not.

The Pulumi CLI hands a program every config value as a string (structures as JSON text), so each
parser accepts that spelling as well as the YAML scalar. A parser raises ``ValueError`` with the
sentence "must be …" that ends up in the one message listing every bad setting; ``allowed`` is
the short form the settings table shows, and ``schema`` the JSON Schema an editor validates with:
exactly the YAML values whose text, as the CLI passes it, the parser accepts (a YAML ``true``
reaches a parser as "true", ``1024`` and ``1024.0`` as "1024", an empty value as "").
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Generic, Protocol, TypeVar

import pulumi_aws

from platform_core.patterns import alternatives, integer_range, padded

__all__ = [
    "LOG_RETENTION_DAYS",
    "PRIVATE_RANGES",
    "REGIONS",
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
# The texts `OrNone` reads as "unset", in any case; or an empty YAML value.
_CASELESS_NONE = "|".join(
    "".join(f"[{c}{c.upper()}]" for c in word) for word in sorted(_NONE_WORDS) if word
)
NONE_SCHEMA: Final[dict[str, Any]] = {
    "anyOf": [{"type": "null"}, {"type": "string", "pattern": padded(f"(?:{_CASELESS_NONE})?")}]
}
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
        return {
            "anyOf": [
                {"type": "integer", "minimum": self.low, "maximum": self.high},
                {"type": "string", "pattern": padded(integer_range(self.low, self.high))},
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
        return {"anyOf": [self.inner.schema(), NONE_SCHEMA]}


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
        return {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": padded("true|false")}]}


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
        values = [str(member.value) for member in self.enum]
        # The enum lets an editor offer the values; the pattern admits them padded, as parsed.
        padded_values = {"type": "string", "pattern": padded(alternatives(values))}
        return {"anyOf": [{"enum": values}, padded_values]}


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
        digits = alternatives([str(days) for days in LOG_RETENTION_DAYS])
        return {
            "anyOf": [
                {"enum": list(LOG_RETENTION_DAYS)},
                {"type": "string", "pattern": padded(f"0*(?:{digits})")},
            ]
        }


_OCTET = "25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]"  # no leading zeros, as `ipaddress` reads


def _dotted(value: int) -> str:
    return r"\.".join(str(value >> shift & 0xFF) for shift in (24, 16, 8, 0))


#: The private address ranges of RFC 1918: a VPC in a public range would shadow real hosts.
PRIVATE_RANGES: Final = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def _octet_values(values: list[int]) -> str:
    """A regex of exactly ``values`` (decimal, no leading zeros)."""
    if values == list(range(256)):
        return f"(?:{_OCTET})"
    return "(?:" + "|".join(map(str, values)) + ")" if len(values) > 1 else str(values[0])


def _network_pattern(shortest: int, longest: int, within: tuple[ipaddress.IPv4Network, ...]) -> str:
    """IPv4 networks inside one of ``within``, with no host bits set and a prefix of
    ``shortest``-``longest`` bits (no shorter than the block's), the prefix written as a length,
    a netmask or a hostmask: what ``IPv4Network(text)`` accepts."""
    branches = []
    for prefix in range(shortest, longest + 1):
        netmask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        masks = [f"0*{prefix}", _dotted(netmask)]
        if 0 < prefix < 32:  # all zeros and all ones read as netmasks, never as hostmasks
            masks.append(_dotted(netmask ^ 0xFFFFFFFF))
        for block in within:
            if prefix < block.prefixlen:
                continue
            octets = []
            for index in range(4):
                network_bits = min(max(prefix - 8 * index, 0), 8)
                fixed_bits = min(max(block.prefixlen - 8 * index, 0), 8)
                fixed = block.network_address.packed[index] >> (8 - fixed_bits)
                values = [
                    value
                    for value in range(0, 256, 2 ** (8 - network_bits))
                    if value >> (8 - fixed_bits) == fixed
                ]
                octets.append(_octet_values(values))
            branches.append(r"\.".join(octets) + "/(?:" + "|".join(masks) + ")")
            if prefix == 32:  # an address alone is a /32 network
                branches.append(r"\.".join(octets))
    return "|".join(branches)


@dataclass(frozen=True)
class Ipv4Network:
    """A private (RFC 1918) IPv4 network in CIDR notation, its prefix length within
    ``shortest``-``longest``."""

    shortest: int = 16
    longest: int = 24

    @property
    def allowed(self) -> str:
        return f"private IPv4 CIDR (10/8, 172.16/12, 192.168/16), /{self.shortest}-/{self.longest}"

    def __call__(self, raw: Any) -> ipaddress.IPv4Network:
        ranges = ", ".join(map(str, PRIVATE_RANGES))
        must = (
            f"must be a private IPv4 network ({ranges}) in CIDR notation with a prefix from "
            f"/{self.shortest} to /{self.longest}, e.g. 10.0.0.0/{self.shortest}"
        )
        try:
            network = ipaddress.IPv4Network(_text(raw), strict=True)
        except ValueError:
            raise ValueError(must) from None
        if not self.shortest <= network.prefixlen <= self.longest:
            raise ValueError(must)
        if not any(network.subnet_of(block) for block in PRIVATE_RANGES):
            raise ValueError(f"{must}; {network} is a public range")
        return network

    def schema(self) -> dict[str, Any]:
        pattern = _network_pattern(self.shortest, self.longest, PRIVATE_RANGES)
        return {"type": "string", "pattern": padded(pattern)}


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
        if not ids:
            raise ValueError(
                "must be a list of at least one account id: an empty list would let the "
                "environment deploy to any account; remove the key to leave the check off"
            )
        if any(re.fullmatch(r"[0-9]{9,11}", account) for account in ids):
            # YAML reads an unquoted 012345678901 as a number, dropping its leading zero(s).
            raise ValueError(
                f'{must}; quote each id in the stack file, e.g. ["012345678901"]: unquoted, an '
                "id with a leading zero is read as a number and loses it"
            )
        if not all(re.fullmatch(r"[0-9]{12}", account) for account in ids):
            raise ValueError(must)
        return ids

    def schema(self) -> dict[str, Any]:
        number = {"type": "integer", "minimum": 10**11, "maximum": 10**12 - 1}
        account = {"anyOf": [{"type": "string", "pattern": padded("[0-9]{12}")}, number]}
        item = {"anyOf": [{"type": "string", "pattern": padded("(?:[0-9]{12})?")}, number]}
        # JSON text of a list, as the CLI passes one (escapes within its strings not modelled);
        # blank items are dropped, but one id at least must remain.
        json_item = r'"[ ]*(?:[0-9]{12})?[ ]*"|[1-9][0-9]{11}'
        json_id = r'"[ ]*[0-9]{12}[ ]*"|[1-9][0-9]{11}'
        space = r"[ \t\n\r]*"
        items = (
            rf"(?:(?:{json_item}){space},{space})*(?:{json_id})"
            rf"(?:{space},{space}(?:{json_item}))*"
        )
        json_list = rf"\[{space}{items}{space}\]"
        blank_or_id = r"(?:[0-9]{12})?\s*"
        comma_separated = rf"(?:{blank_or_id},\s*)*[0-9]{{12}}\s*(?:,\s*{blank_or_id})*"
        return {
            "anyOf": [
                {"type": "array", "items": item, "contains": account},
                {"type": "string", "pattern": padded(f"{json_list}|{comma_separated}")},
                number,
            ]
        }


_SUFFIX = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"


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
        if not re.fullmatch(_SUFFIX, text):
            raise ValueError(
                "must be lowercase letters, digits or '-', starting and ending with a letter or "
                "digit (it becomes part of S3 bucket names)"
            )
        return text

    def schema(self) -> dict[str, Any]:
        return {
            "anyOf": [
                {"type": "string", "pattern": padded(_SUFFIX)},
                NONE_SCHEMA,
                # A YAML number or boolean reaches the parser as its text: digits, true, false.
                {"type": ["integer", "boolean"], "minimum": 0},
            ]
        }


_TAG_VALUE = r"[\w .:/=+\-@]{1,256}"
# The same, as the text after stripping: it neither starts nor ends with a space.
_TAG_CHAR = r"[\w.:/=+\-@]"
_STRIPPED_TAG_VALUE = rf"{_TAG_CHAR}(?:[\w .:/=+\-@]{{0,254}}{_TAG_CHAR})?"


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
        # Any YAML number or boolean reaches the parser as a text of allowed characters.
        return {
            "anyOf": [
                {"type": "string", "pattern": padded(_STRIPPED_TAG_VALUE)},
                {"type": ["number", "boolean"]},
            ]
        }


# The standard partition's regions (AWS's own rule, botocore's partitions.json): the one whose
# ARNs start `arn:aws:`, as the platform writes them. China, GovCloud, the ISO and the
# sovereign partitions have ARNs, endpoints and prices of their own.
_STANDARD_PARTITION = re.compile(r"(?:us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+")
#: The regions a setting may name: those of pulumi-aws's Region enum in the standard partition.
REGIONS: Final = tuple(
    sorted(region.value for region in pulumi_aws.Region if _STANDARD_PARTITION.fullmatch(region))
)


@dataclass(frozen=True)
class Region:
    """An AWS region of the standard partition, such as ``us-east-1``."""

    @property
    def allowed(self) -> str:
        return "an AWS region (standard partition)"

    def __call__(self, raw: Any) -> str:
        text = _text(raw)
        if text not in REGIONS:
            raise ValueError(
                "must be an AWS region of the standard partition (ARNs `arn:aws:`), one of "
                f"{', '.join(REGIONS)}"
            )
        return text

    def schema(self) -> dict[str, Any]:
        return {
            "anyOf": [
                {"enum": list(REGIONS)},
                {"type": "string", "pattern": padded(alternatives(list(REGIONS)))},
            ]
        }


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
        return {
            "anyOf": [
                {"type": "string", "pattern": padded("[0-9]{12}")},
                {"type": "integer", "minimum": 10**11, "maximum": 10**12 - 1},
            ]
        }


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
        return {"type": "string", "pattern": padded(_GITHUB_NAME)}


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
        return {"type": "string", "pattern": padded(_DB_INSTANCE_CLASS)}


_ENGINE_VERSION = r"[0-9]+\.[0-9]+"
_QUOTE_THE_VERSION = "must be quoted text such as '17.6' (YAML turns 17.10 into 17.1)"


@dataclass(frozen=True)
class EngineVersion:
    """A database engine version as ``major.minor`` (``17.6``): exactly what gets deployed."""

    @property
    def allowed(self) -> str:
        return "`major.minor`, e.g. `17.6`"

    def __call__(self, raw: Any) -> str:
        if isinstance(raw, bool | int | float):
            # YAML reads an unquoted 17.10 as the number 17.1: only text keeps the version.
            raise ValueError(_QUOTE_THE_VERSION)
        text = _text(raw)
        if not re.fullmatch(_ENGINE_VERSION, text):
            raise ValueError("must be an engine version as major.minor, e.g. '17.6'")
        return text

    def schema(self) -> dict[str, Any]:
        # The Pulumi CLI passes a YAML number on as text (17.10 as "17.1"), so only the schema,
        # which sees the file, can refuse one.
        return {
            "type": "string",
            "errorMessage": _QUOTE_THE_VERSION,
            "allOf": [{"pattern": padded(_ENGINE_VERSION)}],
        }
