"""The value types of the settings, one by one: what each accepts, refuses and says."""

from __future__ import annotations

import ipaddress
from enum import StrEnum

import pytest

from platform_core.parsers import (
    AccountId,
    AccountIds,
    Boolean,
    Choice,
    GitHubName,
    IntegerRange,
    Ipv4Network,
    OrNone,
    Region,
    RetentionDays,
    Suffix,
    TagValue,
)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


ACCEPTED = [
    (IntegerRange(1, 10), "1", 1),
    (IntegerRange(1, 10), "10", 10),
    (IntegerRange(1, 10), " 7 ", 7),
    (IntegerRange(1, 10), 7, 7),
    (IntegerRange(-5, 5), "-5", -5),
    (OrNone(IntegerRange(1, 10)), "none", None),
    (OrNone(IntegerRange(1, 10)), "NULL", None),
    (OrNone(IntegerRange(1, 10)), None, None),
    (OrNone(IntegerRange(1, 10)), "", None),
    (OrNone(IntegerRange(1, 10)), "3", 3),
    (Boolean(), "true", True),
    (Boolean(), "false", False),
    (Boolean(), True, True),
    (Choice(Colour), "blue", Colour.BLUE),
    (Choice(Colour), " red ", Colour.RED),
    (RetentionDays(), "1", 1),
    (RetentionDays(), "3653", 3653),
    (RetentionDays(), 400, 400),
    (Ipv4Network(16, 24), "10.0.0.0/16", ipaddress.IPv4Network("10.0.0.0/16")),
    (Ipv4Network(16, 24), "192.168.4.0/24", ipaddress.IPv4Network("192.168.4.0/24")),
    (AccountIds(), "111111111111", ("111111111111",)),
    (AccountIds(), "111111111111,222222222222", ("111111111111", "222222222222")),
    (AccountIds(), '["111111111111"]', ("111111111111",)),
    (AccountIds(), ("111111111111",), ("111111111111",)),
    (AccountId(), "012345678901", "012345678901"),
    (Suffix(), "none", None),
    (Suffix(), "a", "a"),
    (Suffix(), "pr-12", "pr-12"),
    (TagValue(), "cc-1042 dev/ops@x", "cc-1042 dev/ops@x"),
    (TagValue(), "x" * 256, "x" * 256),
    (Region(), "eu-central-1", "eu-central-1"),
    (Region(), " us-west-2 ", "us-west-2"),
    (GitHubName("repository"), "my.repo_name-2", "my.repo_name-2"),
]


@pytest.mark.parametrize(("parser", "raw", "expected"), ACCEPTED, ids=repr)
def test_accepted_values_are_typed(parser, raw, expected):
    assert parser(raw) == expected


REFUSED = [
    (IntegerRange(1, 10), "0", "must be an integer from 1 to 10"),
    (IntegerRange(1, 10), "11", "must be an integer from 1 to 10"),
    (IntegerRange(1, 10, "MB"), "x", "must be an integer from 1 to 10 (MB)"),
    (IntegerRange(1, 10), "2.0", "must be an integer"),
    (IntegerRange(1, 10), True, "must be an integer"),
    (IntegerRange(1, 10), "\u0663", "must be an integer"),  # Arabic-Indic digit three
    (IntegerRange(1, 10), "+3", "must be an integer"),
    (OrNone(IntegerRange(1, 10)), "0", "must be an integer from 1 to 10, or 'none' to leave it unset"),
    (Boolean(), "yes", "must be true or false"),
    (Boolean(), "on", "must be true or false"),
    (Boolean(), "TRUE", "must be true or false"),
    (Boolean(), "0", "must be true or false"),
    (Boolean(), None, "must be true or false"),
    (Choice(Colour), "RED", "must be one of 'red', 'blue'"),
    (RetentionDays(), "2", "must be one of CloudWatch's retention periods 1, 3, 5"),
    (RetentionDays(), "7.0", "must be one of CloudWatch's retention periods"),
    (RetentionDays(), False, "must be one of CloudWatch's retention periods"),
    (Ipv4Network(16, 24), "10.0.0.1/16", "must be a private IPv4 network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) in CIDR notation"),
    (Ipv4Network(16, 24), "10.0.0.0/15", "with a prefix from /16 to /24"),
    (Ipv4Network(16, 24), "fd00::/16", "must be a private IPv4 network"),
    # RFC 1918 only: a public range would shadow the real hosts it names.
    (Ipv4Network(16, 24), "8.8.0.0/16", "; 8.8.0.0/16 is a public range"),
    (Ipv4Network(16, 24), "172.32.0.0/16", "; 172.32.0.0/16 is a public range"),
    (Ipv4Network(16, 24), "192.169.0.0/16", "; 192.169.0.0/16 is a public range"),
    # An empty list would turn the account guard off without saying so.
    (AccountIds(), [], "must be a list of at least one account id: an empty list would let the environment deploy to any account; remove the key"),
    (AccountIds(), "", "must be a list of at least one account id"),
    (AccountIds(), "[]", "must be a list of at least one account id"),
    (AccountIds(), ' , ', "must be a list of at least one account id"),
    # An unquoted 012345678901 reaches the program as 12345678901.
    (AccountIds(), "[12345678901]", 'quote each id in the stack file, e.g. ["012345678901"]'),
    (AccountIds(), "11111111111", "must be a list of 12-digit AWS account ids"),
    (AccountIds(), '["1111"]', "must be a list of 12-digit AWS account ids"),
    (AccountIds(), "[1,", "must be a list of 12-digit AWS account ids"),
    (AccountIds(), '"111111111111"', "must be a list of 12-digit AWS account ids"),
    (AccountId(), "1111111111111", "must be a 12-digit AWS account id"),
    (Suffix(), "-pr", "must be lowercase letters, digits or '-'"),
    (Suffix(), "pr-", "must be lowercase letters, digits or '-'"),
    (Suffix(), "Pr", "must be lowercase letters, digits or '-'"),
    (TagValue(), "x" * 257, "must be 1-256 characters"),
    (TagValue(), "a;b", "must be 1-256 characters"),
    (TagValue(), None, "must be 1-256 characters"),
    (Region(), "useast1", "must be an AWS region of the standard partition (ARNs `arn:aws:`), one of af-south-1, ap-east-1,"),
    # Regions that do not exist, and those of other partitions (other ARNs, endpoints, prices).
    (Region(), "us-east-9", "must be an AWS region of the standard partition"),
    (Region(), "cn-north-1", "must be an AWS region of the standard partition"),
    (Region(), "us-gov-west-1", "must be an AWS region of the standard partition"),
    (Region(), "us-iso-east-1", "must be an AWS region of the standard partition"),
    (Region(), "eusc-de-east-1", "must be an AWS region of the standard partition"),
    (GitHubName("organization"), "-org", "must be a GitHub organization name"),
    (GitHubName("organization"), "a/b", "must be a GitHub organization name"),
]  # fmt: skip


@pytest.mark.parametrize(("parser", "raw", "message"), REFUSED, ids=repr)
def test_refused_values_say_what_is_allowed(parser, raw, message):
    with pytest.raises(ValueError, match="^must be") as raised:
        parser(raw)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("parser", "allowed"),
    [
        (IntegerRange(128, 10240, "MB"), "128-10240 MB"),
        (OrNone(IntegerRange(1, 9)), "1-9, or `none`"),
        (Boolean(), "`true`, `false`"),
        (Choice(Colour), "`red`, `blue`"),
        (Ipv4Network(16, 24), "private IPv4 CIDR (10/8, 172.16/12, 192.168/16), /16-/24"),
    ],
)
def test_allowed_is_the_short_form_readme_shows(parser, allowed):
    assert parser.allowed == allowed
