"""Pure decisions: physical names and the subnet plan, table-driven."""

from __future__ import annotations

import ipaddress

import pytest

from platform_core.config import EgressMode
from platform_core.naming import S3_BUCKET, Service, compose_name, name_problems
from platform_core.network import plan_subnets


@pytest.mark.parametrize(
    ("environment", "service", "region", "suffix", "expected"),
    [
        ("dev", Service.ARCHIVE_BUCKET, "us-east-1", None, "dev-trading-archive-us-east-1"),
        ("production", Service.PROCESSOR, "eu-west-1", "blue", "production-trading-processor-eu-west-1-blue"),
        ("staging", Service.ANALYTICS_TABLE, "us-east-1", "", "staging-trading-analytics-us-east-1"),
    ],
)  # fmt: skip
def test_names_follow_env_service_region_suffix(environment, service, region, suffix, expected):
    assert compose_name(environment, service, region, suffix) == expected


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a" * 64, "is 64 characters long; AWS allows at most 63"),
        ("Dev-Bucket", "is not valid"),
        ("dev..bucket", "is not valid"),
        ("-dev-bucket", "is not valid"),
        # What S3 reserves (AWS's general purpose bucket naming rules).
        ("xn--dev-bucket", "is not valid"),
        ("sthree-dev-bucket", "is not valid"),
        ("amzn-s3-demo-dev-bucket", "is not valid"),
        ("dev-bucket-s3alias", "is not valid"),
        ("dev-bucket--ol-s3", "is not valid"),
        ("dev-bucket.mrap", "is not valid"),
        ("dev-bucket--x-s3", "is not valid"),
        ("dev-bucket--table-s3", "is not valid"),
    ],
)
def test_bucket_names_break_aws_rules(name, problem):
    assert any(problem in text for text in name_problems(name, S3_BUCKET))


def test_valid_bucket_name_has_no_problem():
    assert name_problems("dev-trading-archive-us-east-1", S3_BUCKET) == []


ZONES = ["us-east-1a", "us-east-1b"]


def test_private_subnets_take_the_first_blocks_one_per_zone():
    plans = plan_subnets(ipaddress.IPv4Network("10.2.0.0/16"), ZONES, EgressMode.NONE)
    assert [(p.cidr, p.availability_zone, p.public) for p in plans] == [
        ("10.2.0.0/20", "us-east-1a", False),
        ("10.2.16.0/20", "us-east-1b", False),
    ]


@pytest.mark.parametrize("mode", [EgressMode.NAT_GATEWAY, EgressMode.NAT_INSTANCE])
def test_nat_modes_add_public_subnets_after_the_private_ones(mode):
    plans = plan_subnets(ipaddress.IPv4Network("10.0.0.0/24"), [*ZONES, "us-east-1c"], mode)
    assert [p.cidr for p in plans if not p.public] == [
        "10.0.0.0/28",
        "10.0.0.16/28",
        "10.0.0.32/28",
    ]
    assert [p.cidr for p in plans if p.public] == ["10.0.0.48/28", "10.0.0.64/28", "10.0.0.80/28"]
    cidrs = [ipaddress.IPv4Network(p.cidr) for p in plans]
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])
