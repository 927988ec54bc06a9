"""Every IAM policy document of the three stacks and their bootstraps, linted by parliament with
its community auditors; each finding that remains is listed here with the reason it stays."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.render.iam.lint import Document, Finding, documents, lint, lint_all
from tests.repository import ENVIRONMENTS

BOOTSTRAP, STACK = "bootstrap", "stack"
SERVICE_WIDE = (
    "a service-wide action on this environment's own {what}: a deploy creates, reads back, "
    "changes and destroys them, and the ARN pattern confines it; the actions that take no "
    "such resource (parliament's mismatch) grant nothing here"
)
TRUST = "a trust policy: assuming the role is what hands out its credentials"
GITHUB_OIDC_KEYS = (
    "GitHub's OIDC claims are condition keys named after its provider's host "
    "(token.actions.githubusercontent.com:aud/:sub), which parliament does not know"
)
GITHUB_OIDC_PROVIDER = (
    "GitHub's OIDC provider in this account; parliament knows only Cognito, Amazon, Facebook, "
    "Google and SAML providers"
)
# (program, resource, document, statement, issue, kind) -> why the finding stays.
ALLOWED: Mapping[tuple[str, str, str, str, str, str], str] = {
    (STACK, "trading-analytics-processor-role-role", "assumeRolePolicy", "", "CREDENTIALS_EXPOSURE",
     ""): TRUST,
    (BOOTSTRAP, "deploy-role", "assumeRolePolicy", "", "CREDENTIALS_EXPOSURE", ""): TRUST,
    (BOOTSTRAP, "preview-role", "assumeRolePolicy", "", "CREDENTIALS_EXPOSURE", ""): TRUST,
    (BOOTSTRAP, "deploy-role", "assumeRolePolicy", "GitHubActionsOfOneEnvironment",
     "UNKNOWN_CONDITION_FOR_ACTION", ""): GITHUB_OIDC_KEYS,
    (BOOTSTRAP, "preview-role", "assumeRolePolicy", "GitHubActionsOfOneEnvironment",
     "UNKNOWN_CONDITION_FOR_ACTION", ""): GITHUB_OIDC_KEYS,
    (BOOTSTRAP, "deploy-role", "assumeRolePolicy", "GitHubActionsOfOneEnvironment",
     "UNKNOWN_FEDERATION_SOURCE", ""): GITHUB_OIDC_PROVIDER,
    (BOOTSTRAP, "preview-role", "assumeRolePolicy", "GitHubActionsOfOneEnvironment",
     "UNKNOWN_FEDERATION_SOURCE", ""): GITHUB_OIDC_PROVIDER,
    (BOOTSTRAP, "secrets-key", "policy", "AccountAdministersTheKey", "RESOURCE_STAR", ""):
        "a key policy: its '*' is the key itself",
    (BOOTSTRAP, "secrets-key", "policy", "AccountDelegatesUseThroughIam", "RESOURCE_STAR", ""):
        "a key policy: its '*' is the key itself",
    (BOOTSTRAP, "secrets-key", "policy", "", "PERMISSIONS_MANAGEMENT_ACTIONS", ""):
        "the account administers its own key (kms:PutKeyPolicy), so that no role can lock it out",
    (BOOTSTRAP, "preview-policy", "policy", "ReadNatInstanceImageParameter",
     "RESOURCE_MISMATCH", ""):
        "AWS's public SSM parameters have no account in their ARN "
        "(arn:aws:ssm:<region>::parameter/aws/service/...); parliament's format requires one",
    (BOOTSTRAP, "deploy-policy", "policy", "ReadNatInstanceImageParameter",
     "RESOURCE_MISMATCH", ""):
        "AWS's public SSM parameters have no account in their ARN "
        "(arn:aws:ssm:<region>::parameter/aws/service/...); parliament's format requires one",
    (BOOTSTRAP, "deploy-policy", "policy", "CreateTaggedNetwork", "RESOURCE_MISMATCH", ""):
        "ec2:RunInstances also needs an Amazon image, granted in LaunchNatInstanceFromAmazonImage",
    (BOOTSTRAP, "deploy-policy", "policy", "CreateInOwnNetwork", "RESOURCE_MISMATCH", ""):
        "ec2:RunInstances also needs an Amazon image, granted in LaunchNatInstanceFromAmazonImage",
    (BOOTSTRAP, "deploy-policy", "policy", "LaunchNatInstanceFromAmazonImage",
     "RESOURCE_MISMATCH", ""):
        "only the image part of ec2:RunInstances; its network part, under the Environment tag, "
        "is in CreateTaggedNetwork and CreateInOwnNetwork",
    (BOOTSTRAP, "deploy-resources-policy", "policy", "EnvironmentBuckets", "RESOURCE_MISMATCH", ""):
        SERVICE_WIDE.format(what="buckets"),
    (BOOTSTRAP, "deploy-resources-policy", "policy", "EnvironmentTable", "RESOURCE_MISMATCH", ""):
        SERVICE_WIDE.format(what="table"),
    (BOOTSTRAP, "deploy-resources-policy", "policy", "EnvironmentFunction", "RESOURCE_MISMATCH", ""):
        SERVICE_WIDE.format(what="function"),
    (BOOTSTRAP, "deploy-resources-policy", "policy", "EnvironmentLogGroup", "RESOURCE_MISMATCH", ""):
        SERVICE_WIDE.format(what="log group"),
    (BOOTSTRAP, "deploy-resources-policy", "policy", "EnvironmentQueues", "RESOURCE_MISMATCH", ""):
        SERVICE_WIDE.format(what="queue"),
    (BOOTSTRAP, "deploy-resources-policy", "policy", "EnvironmentTopics", "RESOURCE_MISMATCH", ""):
        SERVICE_WIDE.format(what="topic"),
    **{
        (BOOTSTRAP, document, location, "", "PERMISSIONS_MANAGEMENT_ACTIONS", ""):
            "deploying sets the policies the stack owns (the function role's inline policy, "
            "inside the boundary; bucket policies; the S3 trigger's lambda:AddPermission)"
        for document, location in (("deploy-resources-policy", "policy"),
                                   ("deploy-role-permissions", "policies"))
    },
    # The deploy role's policies together (its inline one and its managed ones).
    (BOOTSTRAP, "deploy-role-permissions", "policies", "", "PRIVILEGE_ESCALATION",
     "CreateEC2WithExistingIP"):
        "iam:PassRole is limited to the function role and to lambda.amazonaws.com "
        "(iam:PassedToService), so no role reaches an instance",
    **{
        (BOOTSTRAP, document, location, "", "PRIVILEGE_ESCALATION", kind): reason
        for document, location in (("deploy-resources-policy", "policy"),
                                   ("deploy-role-permissions", "policies"))
        for kind, reason in (
            ("EditExistingLambdaFunctionWithRole",
             "the function's code runs as the function role, which carries the permissions "
             "boundary: at most the function's own grants, which the deploy role holds already"),
            ("PassExistingRoleToNewLambdaThenInvoke",
             "the only role it may pass is the function role, inside the permissions boundary"),
        )
    },
    (BOOTSTRAP, "deploy-database-policy", "policy", "EnvironmentDatabase", "RESOURCE_MISMATCH",
     ""): SERVICE_WIDE.format(what="database cluster, instances and subnet group"),
    (BOOTSTRAP, "deploy-database-policy", "policy", "CreateWithTheDefaultGroups",
     "RESOURCE_MISMATCH", ""):
        "only the default parameter and option group part of creating the cluster and its "
        "instances; their own part is in EnvironmentDatabase",
    (BOOTSTRAP, "deploy-database-policy", "policy", "FinalSnapshotOnDelete", "RESOURCE_MISMATCH",
     ""):
        "only the snapshot part of deleting a cluster with a final snapshot; the cluster part is "
        "in EnvironmentDatabase",
    (BOOTSTRAP, "deploy-database-policy", "policy", "MasterUserSecretCreatedByRds",
     "UNKNOWN_CONDITION_FOR_ACTION", ""):
        "aws:ViaAWSService is a global condition key (true when RDS creates the secret with the "
        "caller's permissions), which parliament's copy of the reference does not list",
    (BOOTSTRAP, "deploy-database-policy", "policy", "", "PERMISSIONS_MANAGEMENT_ACTIONS", ""):
        "iam:CreateServiceLinkedRole of RDS's own service-linked role only (its ARN and "
        "iam:AWSServiceName), which RDS needs on an account's first database",
}  # fmt: skip


@pytest.fixture(scope="module")
def findings(rendered_stacks, bootstraps) -> set[Finding]:
    return lint_all(
        [(STACK, rendered_stacks[env]) for env in ENVIRONMENTS]
        + [(BOOTSTRAP, bootstraps[env]) for env in ENVIRONMENTS]
    )


def test_every_finding_is_allow_listed_with_its_reason(findings):
    unexplained = sorted(f.key for f in findings if f.key not in ALLOWED)
    assert unexplained == []


def test_every_allow_listed_finding_still_occurs(findings):
    stale = sorted(set(ALLOWED) - {f.key for f in findings})
    assert stale == []


def test_each_reason_says_why():
    assert all(len(reason.split()) >= 8 for reason in ALLOWED.values())


def test_every_program_and_document_kind_is_linted(rendered_stacks, bootstraps):
    linted: dict[str, set[tuple[str, str]]] = {STACK: set(), BOOTSTRAP: set()}
    for program, rendered in [(STACK, rendered_stacks["production"]),
                              (BOOTSTRAP, bootstraps["production"])]:  # fmt: skip
        linted[program] |= {(d.resource, d.location) for d in documents(program, rendered)}
    assert linted[STACK] == {
        ("trading-analytics-processor-role-role", "assumeRolePolicy"),
        ("trading-analytics-processor-role-policy", "policy"),
        ("trading-analytics-ingest-tls-only-policy", "policy"),
        ("trading-analytics-archive-tls-only-policy", "policy"),
    }  # fmt: skip
    assert linted[BOOTSTRAP] == {
        ("deploy-role", "assumeRolePolicy"), ("deploy-policy", "policy"),
        ("deploy-resources-policy", "policy"), ("deploy-database-policy", "policy"),
        ("preview-role", "assumeRolePolicy"), ("preview-policy", "policy"),
        ("secrets-key", "policy"), ("state-tls-only-policy", "policy"),
        ("workload-boundary", "policy"),
    }  # fmt: skip


def test_the_linter_reports_what_it_should(rendered_stacks):
    """A widened function policy gets parliament's findings: the lint is live."""
    [policy] = [
        d
        for d in documents(STACK, rendered_stacks["dev"])
        if d.resource == "trading-analytics-processor-role-policy"
    ]
    widened = {
        **policy.policy,
        "Statement": [
            *policy.policy["Statement"],
            {"Sid": "Sloppy", "Effect": "Allow", "Action": ["s3:GetObject", "iam:PassRole"],
             "Resource": "*"},
            {"Sid": "Typo", "Effect": "Allow", "Action": "dynamodb:GetItems", "Resource": "*"},
        ],
    }  # fmt: skip
    found = {
        (f.statement, f.issue, f.kind) for f in lint(Document(STACK, "policy", "policy", widened))
    }
    assert ("Sloppy", "RESOURCE_STAR", "") in found
    assert ("Typo", "UNKNOWN_ACTION", "") in found
