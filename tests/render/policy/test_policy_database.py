"""The policy pack over the optional database: every environment passes with the database on,
and each rule that covers it (encryption, no public address, tags, destroyability outside
production) reports a database resource that breaks it."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import pytest
from pulumi_policy import ResourceValidationArgs
from trading_policies import POLICIES, evaluate, policy_named
from trading_policies.resource_rules import TAGGABLE_TYPES

from platform_core.offline import RenderedStack
from tests.render.policy.test_policy_stacks import _sdk_class
from tests.render.policy.views import DEV_TAGS, resource_args, resource_view, stack_view
from tests.repository import ENVIRONMENTS

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
STAGING_TAGS = {**DEV_TAGS, "Environment": "staging"}
PRODUCTION_TAGS = {**DEV_TAGS, "Environment": "production"}


@pytest.fixture(scope="module")
def with_database(
    rendered_with_database: Mapping[str, RenderedStack],
) -> Mapping[str, RenderedStack]:
    return rendered_with_database


def real(rendered: RenderedStack, type_: str) -> ResourceValidationArgs:
    """The first of its type by logical name (registration order varies between runs)."""
    found = [args for args in resource_view(rendered) if args.resource_type == type_]
    return min(found, key=lambda args: args.name)


def changed(args: ResourceValidationArgs, tags: Mapping[str, str], **props: object):
    """The real resource with `props` changed, in the environment `tags` name."""
    merged = {key: value for key, value in args.props.items() if key not in props}
    merged.update({key: value for key, value in props.items() if value is not None})
    return resource_args(args.resource_type, merged, name=args.name, tags=tags)


def check(policy: str, args: ResourceValidationArgs) -> list[str]:
    return [violation.message for violation in evaluate([policy_named(policy)], [args])]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_with_its_database_passes_every_policy(with_database, environment):
    rendered = with_database[environment]
    assert evaluate(POLICIES, resource_view(rendered), stack_view(rendered)) == []
    # The rules had the database's resources to look at.
    for type_ in (CLUSTER, INSTANCE, SUBNET_GROUP):
        assert rendered.of_type(type_), type_


def test_database_types_are_taggable_as_the_sdk_says(with_database):
    types = {
        r.type for s in with_database.values() for r in s.resources if r.type.startswith("aws:")
    }
    for type_ in sorted(t for t in types if t.startswith(("aws:rds/", "aws:ec2/securityGroup"))):
        parameters = inspect.signature(_sdk_class(type_)._internal_init).parameters
        assert ("tags" in parameters) == (type_ in TAGGABLE_TYPES), type_


@pytest.mark.parametrize("encrypted", [False, None])
def test_unencrypted_database_storage_is_refused(with_database, encrypted):
    cluster = changed(real(with_database["dev"], CLUSTER), DEV_TAGS, storageEncrypted=encrypted)
    [message] = check("rds-encrypted-and-private", cluster)
    assert "'trading-analytics-database-cluster'" in message
    assert "does not set storageEncrypted; required: storageEncrypted = true" in message


def test_a_publicly_accessible_database_instance_is_refused(with_database):
    instance = changed(
        real(with_database["production"], INSTANCE), PRODUCTION_TAGS, publiclyAccessible=True
    )
    [message] = check("rds-encrypted-and-private", instance)
    assert "(production-trading-database-us-east-1-1) is publiclyAccessible" in message
    assert "required: publiclyAccessible = false" in message


def test_deletion_protection_or_a_final_snapshot_outside_production_is_refused(with_database):
    cluster = real(with_database["staging"], CLUSTER)
    protected = changed(cluster, STAGING_TAGS, deletionProtection=True)
    assert check("destroyable-non-production", protected) == [
        f"{CLUSTER} 'trading-analytics-database-cluster' (staging-trading-database-us-east-1) in "
        "environment 'staging' sets deletionProtection; required: deletionProtection = false"
    ]
    snapshot = changed(cluster, STAGING_TAGS, skipFinalSnapshot=False)
    [message] = check("destroyable-non-production", snapshot)
    assert "in environment 'staging' does not set skipFinalSnapshot" in message
    assert "required: skipFinalSnapshot = true" in message


def test_production_keeps_its_deletion_protection_and_final_snapshot(with_database):
    cluster = real(with_database["production"], CLUSTER)
    assert cluster.props["deletionProtection"] is True
    assert cluster.props["skipFinalSnapshot"] is False
    assert check("destroyable-non-production", cluster) == []


def test_a_database_without_the_mandatory_tags_is_refused(with_database):
    cluster = real(with_database["dev"], CLUSTER)
    untagged = resource_args(CLUSTER, cluster.props, name=cluster.name, tags={})
    [message] = check("mandatory-tags", untagged)
    assert "lacks the mandatory tag(s) Environment, ManagedBy, Project, Team, CostCenter" in message
