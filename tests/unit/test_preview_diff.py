"""The preview's comparison of two renderings, and how it reads in a terminal and in Markdown.

The stacks are written out by hand; the expected changes are what a reader of the two would
list.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from platform_core.costs.pricing import Estimate, LineItem
from platform_core.offline import RegisteredResource, RenderedStack
from platform_core.preview.diff import (
    Action,
    Change,
    EnvironmentDiff,
    Status,
    diff_environment,
    is_secret,
    secure_values,
)
from platform_core.preview.output import Header, cost_changes, markdown, text
from platform_core.preview.render import SECRET_TEXT

KEY = b"k" * 32
ROOT = "urn:pulumi:dev::p::platform:index:TradingPlatform::app"
HEADER = Header(base="abc123 (merge base with main)", working="the working tree", costs="c")


def resource(type_: str, local: str, protect: bool = False, **inputs: Any) -> RegisteredResource:
    return RegisteredResource(
        urn=f"urn:pulumi:dev::p::platform:index:TradingPlatform${type_}::app-{local}",
        type=type_, name=f"app-{local}", custom=True, parent=ROOT, provider="", inputs=inputs,
        state={}, dependencies=(), protect=protect, retain_on_delete=False, ignore_changes=(),
    )  # fmt: skip


def stack(*resources: RegisteredResource, **outputs: Any) -> RenderedStack:
    root = RegisteredResource(
        urn=ROOT, type="platform:index:TradingPlatform", name="app", custom=False, parent="",
        provider="", inputs={}, state={}, dependencies=(), protect=False,
        retain_on_delete=False, ignore_changes=(),
    )  # fmt: skip
    return RenderedStack("p", "dev", (root, *resources), outputs)


FUNCTION = "aws:lambda/function:Function"
POLICY = "aws:iam/rolePolicy:RolePolicy"
BEFORE = stack(
    resource(FUNCTION, "function", memorySize=512.0, tracingConfig={"mode": "PassThrough"}),
    resource(POLICY, "policy", policy=json.dumps({"Statement": [{"Sid": "Read", "Effect": "Allow"}]})),
    resource("aws:sqs/queue:Queue", "old-queue", name="q"),
    function_name="fn",
)  # fmt: skip
AFTER = stack(
    resource(FUNCTION, "function", memorySize=1024.0, tracingConfig={"mode": "Active"}),
    resource(POLICY, "policy", protect=True, policy=json.dumps(
        {"Statement": [{"Sid": "Read", "Effect": "Allow"}, {"Sid": "Trace", "Effect": "Allow"}]})),
    resource("aws:ec2/vpcEndpoint:VpcEndpoint", "xray-endpoint", serviceName="xray"),
    function_name="fn",
    alarm_topic_arn="arn:topic",
)  # fmt: skip


def test_created_deleted_and_updated_resources_with_each_changed_property():
    diff = diff_environment("dev", BEFORE, AFTER, secrets=(), key=KEY)
    assert diff.status is Status.CHANGED
    assert [(r.action, r.path) for r in diff.resources] == [
        (Action.UPDATE, "app/function"),
        (Action.DELETE, "app/old-queue"),
        (Action.UPDATE, "app/policy"),
        (Action.CREATE, "app/xray-endpoint"),
    ]
    function, _, policy, endpoint = diff.resources
    assert function.changes == (
        Change("memorySize", "512.0", "1024.0"),
        Change("tracingConfig.mode", '"PassThrough"', '"Active"'),
    )
    # A policy document held as JSON text is compared statement by statement (by Sid); the
    # resource's own options are properties too.
    assert policy.changes == (
        Change("(protect)", None, "true"),
        Change("policy.Statement[Trace].Effect", None, '"Allow"'),
        Change("policy.Statement[Trace].Sid", None, '"Trace"'),
    )
    assert endpoint.changes == (Change("serviceName", None, '"xray"'),)
    assert diff.outputs == (Change("alarm_topic_arn", None, '"arn:topic"'),)
    assert (diff.count(Action.CREATE), diff.count(Action.UPDATE), diff.count(Action.DELETE)) == (
        1,
        2,
        1,
    )


def test_the_same_rendering_twice_is_no_change():
    assert diff_environment("dev", AFTER, AFTER, (), KEY) == EnvironmentDiff(
        "dev", Status.UNCHANGED
    )


def test_an_environment_on_one_side_only_is_created_or_deleted_whole():
    added = diff_environment("qa", None, AFTER, (), KEY)
    assert added.status is Status.ADDED
    assert {r.action for r in added.resources} == {Action.CREATE}
    assert len(added.resources) == len(AFTER.resources)
    removed = diff_environment("qa", BEFORE, None, (), KEY)
    assert removed.status is Status.REMOVED
    assert {r.action for r in removed.resources} == {Action.DELETE}


def masked(digest: str) -> str:
    return f"{SECRET_TEXT}{digest}"


def test_secrets_are_masked_and_only_whether_they_changed_shows():
    before = stack(
        resource("aws:ssm/parameter:Parameter", "token", value=masked("aa"), tier="Standard")
    )
    after = stack(
        resource("aws:ssm/parameter:Parameter", "token", value=masked("bb"), tier="Advanced")
    )
    diff = diff_environment("dev", before, after, (), KEY)
    [parameter] = diff.resources
    value = parameter.changes[1]
    assert value.key == "value" and is_secret(value.before) and is_secret(value.after)
    output = text(HEADER, [diff])
    assert "value: [secret] (changed)" in output
    assert 'tier: "Standard" → "Advanced"' in output
    assert "aa" not in output.replace("abc123", "") and "bb" not in output
    assert "*secret (changed)*" in markdown(HEADER, [diff])


def test_a_secret_setting_of_the_stack_file_is_masked_wherever_an_input_holds_it():
    config = {"platform:team": "t", "platform:token": {"secure": "v1:AAAABBBBCCCC"},
              "platform:nested": {"list": [{"secure": "v1:DDDDEEEE"}]}}  # fmt: skip
    assert secure_values(config) == {"v1:AAAABBBBCCCC", "v1:DDDDEEEE"}
    before = stack(resource(FUNCTION, "function", environment={"variables": {"TOKEN": "x"}}))
    after = stack(resource(FUNCTION, "function",
                           environment={"variables": {"TOKEN": '{"secure": "v1:AAAABBBBCCCC"}'}}))  # fmt: skip
    diff = diff_environment("dev", before, after, secure_values(config), KEY)
    # The program read the setting as the JSON text of its ciphertext, which is opened up.
    gone, ciphertext = diff.resources[0].changes
    assert gone == Change("environment.variables.TOKEN", '"x"', None)
    assert ciphertext.key == "environment.variables.TOKEN.secure"
    assert ciphertext.before is None and is_secret(ciphertext.after)
    assert "AAAABBBBCCCC" not in text(HEADER, [diff]) + markdown(HEADER, [diff])


def estimate(*amounts: tuple[str, float]) -> Estimate:
    return Estimate("dev", "us-east-1", tuple(
        LineItem("VPC", item, "app/x", 1, "hours", price) for item, price in amounts))  # fmt: skip


def test_the_cost_difference_lists_the_items_that_moved_a_cent_or_more():
    before = estimate(("endpoint", 0.0), ("nat", 32.85), ("tiny", 0.001))
    after = estimate(("endpoint", 14.6), ("nat", 32.85), ("tiny", 0.004))
    [moved] = cost_changes(before, after)
    assert (moved.item, moved.before, moved.after) == ("endpoint", 0.0, 14.6)
    diff = EnvironmentDiff("dev", Status.UNCHANGED, cost_before=before, cost_after=after)
    # $32.851 before, $47.454 after: +$14.603
    assert "dev: no changes, $32.85 → $47.45 a month (+$14.60)" in text(HEADER, [diff])


def test_text_reads_as_a_plan():
    diff = diff_environment("dev", BEFORE, AFTER, (), KEY)
    lines = text(HEADER, [diff]).splitlines()
    assert lines[0] == "Offline preview: the working tree against abc123 (merge base with main)"
    assert "dev: 1 to create, 2 to update, 1 to delete, 1 outputs changed" in lines
    assert "  ~ app/function  (aws:lambda/function:Function)" in lines
    assert "      memorySize: 512 → 1024" in lines
    assert '      tracingConfig.mode: "PassThrough" → "Active"' in lines
    assert "  - app/old-queue  (aws:sqs/queue:Queue)" in lines
    assert '      serviceName: "xray"' in lines  # a created resource: its inputs, no arrow


def test_markdown_escapes_what_would_break_a_table_and_summarises_each_environment():
    before = stack(resource(FUNCTION, "function", description="a | b"))
    after = stack(resource(FUNCTION, "function", description="<b>`x`</b> | c"))
    diffs = [
        diff_environment("dev", before, after, (), KEY),
        EnvironmentDiff("staging", Status.UNCHANGED),
        EnvironmentDiff("qa", Status.FAILED, error="the working tree: invalid configuration"),
    ]
    document = markdown(HEADER, diffs)
    assert "The working tree against `abc123` (merge base with main), each side" in document
    assert "| dev | 1 to update | — |" in document
    assert "| staging | no changes | — |" in document
    assert "| qa | does not render | — |" in document
    assert "<code>a &#124; b</code> | <code>&lt;b&gt;`x`&lt;/b&gt; &#124; c</code>" in document
    assert "#### staging" not in document  # unchanged environments only in the summary
    assert "the working tree: invalid configuration" in document


@pytest.mark.parametrize("limit", [600, 2000])
def test_markdown_stays_within_a_comments_size(limit):
    many = stack(
        *(resource("aws:sqs/queue:Queue", f"queue-{i}", name=f"q{i}" * 20) for i in range(200))
    )
    document = markdown(HEADER, [diff_environment("dev", None, many, (), KEY)], limit=limit)
    assert len(document) <= limit + 200
    assert "The details are cut here" in document


def with_id(resource_: RegisteredResource, identifier: str) -> RegisteredResource:
    return RegisteredResource(**{**resource_.__dict__, "state": {"id": identifier}})


def test_an_id_the_mock_engine_made_up_reads_as_the_resource_it_names():
    # Two mock engines (two revisions) gave the VPC different ids: the subnet did not change.
    vpc = resource("aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.0.0.0/16")
    before = stack(with_id(vpc, "vpc-111111111111"),
                   resource("aws:ec2/subnet:Subnet", "subnet", vpcId="vpc-111111111111"))  # fmt: skip
    after = stack(with_id(vpc, "vpc-222222222222"),
                  resource("aws:ec2/subnet:Subnet", "subnet", vpcId="vpc-222222222222"))  # fmt: skip
    assert diff_environment("dev", before, after, (), KEY).status is Status.UNCHANGED
    created = diff_environment("dev", None, after, (), KEY)
    subnet = next(r for r in created.resources if r.path == "app/subnet")
    assert subnet.changes == (Change("vpcId", None, '"<id of app/vpc>"'),)
    # An id that is one of the resource's own inputs (a bucket's name) is a name, kept as it is.
    bucket = with_id(resource("aws:s3/bucket:Bucket", "bucket", bucket="b1"), "b1")
    policy = resource("aws:s3/bucketPolicy:BucketPolicy", "policy", bucket="b1")
    created = diff_environment("dev", None, stack(bucket, policy), (), KEY)
    named = next(r for r in created.resources if r.path == "app/policy")
    assert named.changes == (Change("bucket", None, '"b1"'),)


def test_a_list_of_plain_values_is_one_property_and_reads_as_what_left_and_joined():
    before = stack(
        resource(POLICY, "policy", actions=["s3:GetObject", "s3:ListBucket", "s3:PutObject"])
    )
    after = stack(
        resource(POLICY, "policy", actions=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"])
    )
    diff = diff_environment("dev", before, after, (), KEY)
    [change] = diff.resources[0].changes
    assert change.key == "actions" and change.after is not None
    assert json.loads(change.after) == ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"]
    assert '      actions: -"s3:ListBucket" +"s3:DeleteObject"' in text(HEADER, [diff]).splitlines()
    reordered = stack(
        resource(POLICY, "policy", actions=["s3:PutObject", "s3:GetObject", "s3:ListBucket"])
    )
    line = '      actions: ["s3:GetObject", "s3:ListBucket", "s3:PutObject"] → ["s3:PutObject", "s3:GetObject", "s3:ListBucket"]'
    assert line in text(HEADER, [diff_environment("dev", before, reordered, (), KEY)]).splitlines()
    # A list of objects keeps its elements' keys: each field of each element is a property.
    rules = stack(resource("aws:ec2/securityGroup:SecurityGroup", "group",
                           ingress=[{"fromPort": 443.0}, {"fromPort": 5432.0}]))  # fmt: skip
    group = next(
        r for r in diff_environment("dev", None, rules, (), KEY).resources if r.path == "app/group"
    )
    assert [c.key for c in group.changes] == ["ingress[0].fromPort", "ingress[1].fromPort"]
