"""The CI roles asked concrete questions: what the deploy role of one environment may do to
roles, the boundary, its own role, autoscaling alarms and every resource the stack creates —
and what the preview role may not. Answers come from `tests.render.iam.model` (IAM's evaluation)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pytest
from trading_bootstrap import build_bootstrap_config
from trading_bootstrap.components import STATE_LAYOUT
from trading_bootstrap.policies import (
    DeployScope,
    deploy_policy,
    deploy_resources_policy,
    preview_policy,
)

from platform_core.iam import workload_boundary_policy
from platform_core.offline import FAKE_ACCOUNT_ID, RenderedStack, render_stack
from platform_core.organisation import Organisation
from platform_core.stack_files import read_stack_config
from tests.render.iam.model import Decision, Request, decide
from tests.repository import ENVIRONMENTS, ORGANISATION, REPO_ROOT, STACKS_DIR

ALLOWED, IMPLICIT, EXPLICIT = (
    Decision.ALLOWED,
    Decision.IMPLICITLY_DENIED,
    Decision.EXPLICITLY_DENIED,
)
ACCOUNT = FAKE_ACCOUNT_ID  # the account the mock engine renders the stacks in
IAM = f"arn:aws:iam::{ACCOUNT}"


def scope(
    environment: str, region: str = "us-east-1", organisation: Organisation = ORGANISATION
) -> DeployScope:
    # Whether the environment has pull-request copies, as its real bootstrap stack file says.
    real = read_stack_config(REPO_ROOT / "bootstrap", environment)
    copies = real.get("bootstrap:pullRequestCopies", False)
    config = build_bootstrap_config(environment, {
        "accountId": ACCOUNT, "githubOrganization": "o", "githubRepository": "r",
        "team": "t", "costCenter": "c", "aws:region": region, "pullRequestCopies": copies,
    }, organisation, ENVIRONMENTS)  # fmt: skip
    return DeployScope(config, f"arn:aws:s3:::{config.state_bucket}", "arn:aws:kms:k")


def deploy_documents(environment: str) -> dict[str, Any]:
    """The deploy role's inline policy and its resources policy, as IAM evaluates them: one."""
    deploy_scope = scope(environment)
    inline, resources = deploy_policy(deploy_scope), deploy_resources_policy(deploy_scope.config)
    return {"Version": "2012-10-17", "Statement": [*inline["Statement"], *resources["Statement"]]}


DEV_DEPLOY = deploy_documents("dev")
DEV_PREVIEW = preview_policy(scope("dev"))
BOUNDARY = f"{IAM}:policy/dev-trading-workload-boundary"
FUNCTION_ROLE = f"{IAM}:role/dev-trading-processor-us-east-1"


def with_boundary(arn: str | None) -> dict[str, str]:
    return {} if arn is None else {"iam:PermissionsBoundary": arn}


@pytest.mark.parametrize(
    ("action", "resource", "boundary", "decision"),
    [
        # The function role, and its copies, only ever with this environment's boundary.
        ("iam:CreateRole", FUNCTION_ROLE, BOUNDARY, ALLOWED),
        ("iam:CreateRole", f"{FUNCTION_ROLE}-pr-42", BOUNDARY, ALLOWED),
        ("iam:CreateRole", FUNCTION_ROLE, None, EXPLICIT),
        ("iam:CreateRole", FUNCTION_ROLE, f"{IAM}:policy/production-trading-workload-boundary",
         EXPLICIT),
        ("iam:CreateRole", FUNCTION_ROLE, "arn:aws:iam::aws:policy/AdministratorAccess", EXPLICIT),
        ("iam:PutRolePolicy", FUNCTION_ROLE, BOUNDARY, ALLOWED),
        ("iam:PutRolePolicy", FUNCTION_ROLE, None, EXPLICIT),  # a role without the boundary
        ("iam:DeleteRolePolicy", FUNCTION_ROLE, BOUNDARY, ALLOWED),
        ("iam:PutRolePermissionsBoundary", FUNCTION_ROLE, BOUNDARY, ALLOWED),
        ("iam:PutRolePermissionsBoundary", FUNCTION_ROLE, "arn:aws:iam::aws:policy/ReadOnly",
         EXPLICIT),
        ("iam:DeleteRolePermissionsBoundary", FUNCTION_ROLE, BOUNDARY, EXPLICIT),
        ("iam:AttachRolePolicy", FUNCTION_ROLE, BOUNDARY, IMPLICIT),  # managed policies: never
        ("iam:AttachRolePolicy", FUNCTION_ROLE, None, EXPLICIT),
        # Any other role: not even with the boundary.
        ("iam:CreateRole", f"{IAM}:role/dev-pulumi-deploy-2", BOUNDARY, IMPLICIT),
        ("iam:CreateRole", f"{IAM}:role/production-trading-processor-us-east-1", BOUNDARY,
         IMPLICIT),
        # Its own role and the preview role, whatever the request.
        ("iam:PutRolePolicy", f"{IAM}:role/dev-pulumi-deploy", BOUNDARY, EXPLICIT),
        ("iam:UpdateAssumeRolePolicy", f"{IAM}:role/dev-pulumi-deploy", None, EXPLICIT),
        ("iam:AttachRolePolicy", f"{IAM}:role/dev-pulumi-preview", BOUNDARY, EXPLICIT),
        ("iam:DeleteRolePermissionsBoundary", f"{IAM}:role/dev-pulumi-deploy", None, EXPLICIT),
        # The boundary itself.
        ("iam:CreatePolicyVersion", BOUNDARY, None, EXPLICIT),
        ("iam:SetDefaultPolicyVersion", BOUNDARY, None, EXPLICIT),
        ("iam:DeletePolicy", BOUNDARY, None, EXPLICIT),
        ("iam:CreatePolicy", f"{IAM}:policy/anything", None, IMPLICIT),
    ],
)  # fmt: skip
def test_deploy_role_cannot_escalate(action, resource, boundary, decision):
    request = Request(action, resource, with_boundary(boundary))
    assert decide(DEV_DEPLOY, request) is decision


@pytest.mark.parametrize(
    ("role", "service", "decision"),
    [
        (FUNCTION_ROLE, "lambda.amazonaws.com", ALLOWED),
        (FUNCTION_ROLE, "ec2.amazonaws.com", IMPLICIT),
        (f"{IAM}:role/dev-pulumi-deploy", "lambda.amazonaws.com", EXPLICIT),
        (f"{IAM}:role/admin", "lambda.amazonaws.com", IMPLICIT),
    ],
)
def test_deploy_role_passes_only_the_function_role_and_only_to_lambda(role, service, decision):
    request = Request("iam:PassRole", role, {"iam:PassedToService": service})
    assert decide(DEV_DEPLOY, request) is decision


def test_deploy_role_creates_only_dynamodb_autoscalings_service_linked_role():
    role = (
        f"{IAM}:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    )
    service = "dynamodb.application-autoscaling.amazonaws.com"
    create = "iam:CreateServiceLinkedRole"
    assert decide(DEV_DEPLOY, Request(create, role, {"iam:AWSServiceName": service})) is ALLOWED
    other = Request(create, role, {"iam:AWSServiceName": "spot.amazonaws.com"})
    assert decide(DEV_DEPLOY, other) is IMPLICIT


TABLE_ALARM = (
    "arn:aws:cloudwatch:us-east-1:{account}:alarm:TargetTracking-table/{table}-{kind}-{id}"
)


@pytest.mark.parametrize("action", ["PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"])
@pytest.mark.parametrize(
    ("table", "decision"),
    [
        ("dev-trading-analytics-us-east-1", ALLOWED),
        ("dev-trading-analytics-us-east-1-pr-42", ALLOWED),
        ("production-trading-analytics-us-east-1", IMPLICIT),
        ("someone-elses-table", IMPLICIT),
    ],
)
def test_deploy_role_has_the_target_tracking_alarms_of_its_own_tables(action, table, decision):
    """Application Auto Scaling creates `TargetTracking-table/<table>-AlarmHigh-<id>` (and
    AlarmLow, ProvisionedCapacityHigh/Low) with the caller's CloudWatch permissions."""
    for kind in ("AlarmHigh", "AlarmLow", "ProvisionedCapacityHigh", "ProvisionedCapacityLow"):
        alarm = TABLE_ALARM.format(account=ACCOUNT, table=table, kind=kind, id="3f9c0e2a")
        assert decide(DEV_DEPLOY, Request(f"cloudwatch:{action}", alarm)) is decision


@pytest.mark.parametrize(
    ("namespace", "decision"), [("dynamodb", ALLOWED), ("ecs", IMPLICIT), (None, IMPLICIT)]
)
def test_deploy_role_registers_scalable_targets_of_dynamodb_only(namespace, decision):
    target = f"arn:aws:application-autoscaling:us-east-1:{ACCOUNT}:scalable-target/0123abcd"
    context = {} if namespace is None else {"application-autoscaling:service-namespace": namespace}
    for action in ("RegisterScalableTarget", "PutScalingPolicy", "DeregisterScalableTarget"):
        request = Request(f"application-autoscaling:{action}", target, context)
        assert decide(DEV_DEPLOY, request) is decision


@pytest.mark.parametrize("policy", [DEV_DEPLOY, DEV_PREVIEW], ids=["deploy", "preview"])
def test_program_lookups_read_one_public_parameter_not_every_parameter(policy):
    ami = (
        "arn:aws:ssm:us-east-1::parameter"
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    )
    assert decide(policy, Request("ssm:GetParameter", ami)) is ALLOWED
    secret = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/production/database-password"
    assert decide(policy, Request("ssm:GetParameter", secret)) is IMPLICIT
    assert decide(policy, Request("ec2:DescribeAvailabilityZones", "*")) is ALLOWED


# What creating each named resource type asks IAM for, on the resource's own ARN.
CREATE_ACTIONS: Mapping[str, str] = {
    "aws:s3/bucket:Bucket": "s3:CreateBucket",
    "aws:dynamodb/table:Table": "dynamodb:CreateTable",
    "aws:lambda/function:Function": "lambda:CreateFunction",
    "aws:cloudwatch/logGroup:LogGroup": "logs:CreateLogGroup",
    "aws:sqs/queue:Queue": "sqs:CreateQueue",
    "aws:sns/topic:Topic": "sns:CreateTopic",
    "aws:iam/role:Role": "iam:CreateRole",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "cloudwatch:PutMetricAlarm",
}


def creations(rendered: RenderedStack) -> list[Request]:
    requests = []
    for resource in rendered.resources:
        action = CREATE_ACTIONS.get(resource.type)
        if action is None:
            continue
        arn = resource.state.get("arn") or (
            f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{resource.inputs['name']}"
        )
        context: dict[str, Any] = {}
        if action == "iam:CreateRole":
            context = with_boundary(resource.inputs.get("permissionsBoundary"))
        requests.append(Request(action, str(arn), context))
    return requests


@pytest.fixture(scope="module")
def suffixed_copy() -> RenderedStack:
    """A copy of dev with a suffix and alarms, so every named type appears."""
    overrides = {"platform:environmentSuffix": "pr-7", "platform:alarmProfile": "strict"}
    return render_stack(STACKS_DIR / "dev", overrides=overrides)


def test_a_copy_of_an_environment_has_every_named_type(suffixed_copy):
    assert {r.action for r in creations(suffixed_copy)} == set(CREATE_ACTIONS.values())


@pytest.mark.parametrize("environment", [*ENVIRONMENTS, "dev-pr-7"])
def test_deploy_role_creates_every_named_resource_of_its_environment_and_no_other(
    rendered_stacks, suffixed_copy, environment
):
    stack = suffixed_copy if environment == "dev-pr-7" else rendered_stacks[environment]
    requests = creations(stack)
    for deployer in ENVIRONMENTS:
        policy = deploy_documents(deployer)
        allowed = {r.resource for r in requests if decide(policy, r) is ALLOWED}
        expected = {r.resource for r in requests} if environment.startswith(deployer) else set()
        assert allowed == expected, deployer
        preview = preview_policy(scope(deployer))
        assert {decide(preview, r) for r in requests} == {IMPLICIT}


@pytest.mark.parametrize(
    ("tag", "decision"), [("dev", ALLOWED), ("production", IMPLICIT), (None, IMPLICIT)]
)
def test_network_is_created_only_with_its_environments_tag(tag, decision):
    context = {} if tag is None else {"aws:RequestTag/Environment": tag}
    vpc = f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/*"
    assert decide(DEV_DEPLOY, Request("ec2:CreateVpc", vpc, context)) is decision
    other_region = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/*"
    assert decide(DEV_DEPLOY, Request("ec2:CreateVpc", other_region, context)) is IMPLICIT


def test_preview_role_takes_locks_and_reads_state_but_writes_nothing_else():
    state = f"arn:aws:s3:::{ORGANISATION.state_bucket('dev')}"
    lock = f"{state}/.pulumi/locks/organization/trading-analytics-dev/dev/1.json"
    checkpoint = f"{state}/.pulumi/stacks/trading-analytics-dev/dev.json"
    assert decide(DEV_PREVIEW, Request("s3:PutObject", lock)) is ALLOWED
    assert decide(DEV_PREVIEW, Request("s3:GetObject", checkpoint)) is ALLOWED
    assert decide(DEV_PREVIEW, Request("s3:PutObject", checkpoint)) is IMPLICIT
    assert decide(DEV_PREVIEW, Request("s3:PutObject", f"{state}/.pulumi/meta.yaml")) is IMPLICIT
    assert decide(DEV_DEPLOY, Request("s3:PutObject", checkpoint)) is ALLOWED


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_bootstrap_creates_the_boundary_the_stacks_name(
    rendered_bootstraps: Mapping[str, RenderedStack], environment: str
) -> None:
    rendered = rendered_bootstraps[environment]
    account = json.loads(rendered.one("pulumi:providers:aws").inputs["allowedAccountIds"])[0]
    [boundary] = [
        r.inputs for r in rendered.of_type("aws:iam/policy:Policy") if r.name == "workload-boundary"
    ]
    assert boundary["name"] == f"{environment}-trading-workload-boundary"
    assert json.loads(boundary["policy"]) == workload_boundary_policy(
        environment, "us-east-1", account, ORGANISATION
    )
    assert rendered.outputs["permissions_boundary_arn"] == (
        f"arn:aws:iam::{account}:policy/{environment}-trading-workload-boundary"
    )
    deploy = next(r for r in rendered.of_type("aws:iam/rolePolicy:RolePolicy") if
                  r.name == "deploy-policy")  # fmt: skip
    conditions = json.dumps(json.loads(deploy.inputs["policy"]))
    assert rendered.outputs["permissions_boundary_arn"] in conditions


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_state_bucket_is_ready_for_a_first_login_by_the_preview_role(
    rendered_bootstraps: Mapping[str, RenderedStack], environment: str
) -> None:
    """Pulumi writes `.pulumi/meta.yaml` on its first login to an empty bucket, which the
    preview role may not; the bootstrap writes it, with the layout Pulumi would choose."""
    rendered = rendered_bootstraps[environment]
    layout = rendered.one("aws:s3/bucketObjectv2:BucketObjectv2").inputs
    bucket = rendered.one("aws:s3/bucket:Bucket")
    assert layout["bucket"] == bucket.state["id"]
    assert (
        (layout["key"], layout["content"]) == STATE_LAYOUT == (".pulumi/meta.yaml", "version: 1\n")
    )


# IAM's quotas, counted without whitespace: all inline policies of one role together, and one
# managed policy (the boundary).
ROLE_INLINE_POLICIES_MAX, MANAGED_POLICY_MAX = 10_240, 6_144


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_policies_fit_iams_size_quotas_even_with_the_longest_names(environment):
    """The longest organisation prefix allowed and a long region name: IAM would refuse a
    bigger document at the bootstrap's `pulumi up`."""
    longest = Organisation("x" * 24)
    wide = scope(environment, region="ap-southeast-5", organisation=longest)

    def size(document: dict[str, Any]) -> int:
        return len(json.dumps(document, separators=(",", ":")))

    for policy in (deploy_policy(wide), preview_policy(wide)):
        assert size(policy) <= ROLE_INLINE_POLICIES_MAX
    boundary = workload_boundary_policy(environment, "ap-southeast-5", ACCOUNT, longest)
    assert size(boundary) <= MANAGED_POLICY_MAX
    # With pull-request copies, whether or not this environment has them.
    for copies in (False, True):
        config = dataclasses.replace(wide.config, pull_request_copies=copies)
        assert size(deploy_resources_policy(config)) <= MANAGED_POLICY_MAX


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_bootstrap_and_stack_agree_on_the_region(
    rendered_stacks, rendered_bootstraps: Mapping[str, RenderedStack], environment: str
) -> None:
    """The deploy role and the boundary name ARNs of the bootstrap's region: a stack deployed
    elsewhere would be refused everything."""
    bootstrap_region = rendered_bootstraps[environment].one("pulumi:providers:aws").inputs["region"]
    assert rendered_stacks[environment].outputs["region"] == bootstrap_region
