"""The deploy role of an environment with pull-request copies (dev's) manages exactly the
environment's own names and those of its copies `<name>-pr-<number>`: not a copy with another
suffix, not a name that merely starts like one of its own, and the other environments' roles
no copy at all. (IAM's wildcards cannot tell digits from letters: what it grants is every
`<name>-pr-…`.) IAM's answers come from `tests.render.iam.model`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from trading_bootstrap.policies import deploy_database_policy

from platform_core.naming import pull_request_suffix
from platform_core.offline import RenderedStack, render_stack
from platform_core.stack_files import read_stack_config
from tests.render.bootstrap.test_deploy_role import creations, deploy_documents, scope
from tests.render.bootstrap.test_deploy_role_database import own_requests
from tests.render.iam.model import Decision, Request, decide
from tests.repository import ENVIRONMENTS, REPO_ROOT, STACKS_DIR

ALLOWED, IMPLICIT = Decision.ALLOWED, Decision.IMPLICITLY_DENIED
EVERYTHING = {
    "platform:database": "aurora-postgresql",
    "platform:alarmProfile": "strict",
    "platform:databaseFinalSnapshot": "true",
}


def copy_of(environment: str, suffix: str) -> RenderedStack:
    return render_stack(
        STACKS_DIR / environment,
        stack=f"{environment}-{suffix}",
        config_stack=environment,
        overrides={**EVERYTHING, "platform:environmentSuffix": suffix},
    )


def requests(stack: RenderedStack) -> Iterator[Request]:
    """Creating every named resource of the stack, its database included."""
    yield from creations(stack)
    yield from own_requests(stack)


def role_of(environment: str) -> list[dict[str, object]]:
    """The deploy role's documents (inline, resources; database)."""
    return [deploy_documents(environment), deploy_database_policy(scope(environment).config)]


def decision(documents: list[dict[str, object]], request: Request) -> Decision:
    decisions = {decide(document, request) for document in documents}
    if Decision.EXPLICITLY_DENIED in decisions:
        return Decision.EXPLICITLY_DENIED
    return ALLOWED if ALLOWED in decisions else IMPLICIT


def test_only_dev_has_pull_request_copies():
    enabled = {
        env
        for env in ENVIRONMENTS
        if read_stack_config(REPO_ROOT / "bootstrap", env).get("bootstrap:pullRequestCopies")
    }
    assert enabled == {"dev"}


@pytest.fixture(scope="module")
def dev_copy() -> RenderedStack:
    return copy_of("dev", pull_request_suffix(4242))


def test_the_dev_deploy_role_manages_every_name_of_a_pull_requests_copy(dev_copy):
    found = list(requests(dev_copy))
    assert len(found) > 30
    assert {decision(role_of("dev"), r) for r in found} == {ALLOWED}
    for other in ("staging", "production"):
        assert ALLOWED not in {decision(role_of(other), r) for r in found}, other


@pytest.mark.parametrize("suffix", ["feature-x", "prx-1", "p-r-1"])
def test_a_copy_with_another_suffix_is_no_name_of_the_dev_deploy_role(suffix):
    found = list(requests(copy_of("dev", suffix)))
    assert {decision(role_of("dev"), r) for r in found} == {IMPLICIT}


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_environments_without_copies_manage_their_own_names_only(environment):
    copy = copy_of(environment, pull_request_suffix(7))
    assert ALLOWED not in {decision(role_of(environment), r) for r in requests(copy)}


def test_a_name_that_merely_starts_like_devs_is_not_devs(rendered_with_database):
    """`…-us-east-1x` is neither dev's name nor a copy's (a copy's adds `-pr-<number>`)."""
    own = list(requests(rendered_with_database["dev"]))
    longer = [
        Request(r.action, r.resource.replace("-us-east-1", "-us-east-1x", 1), r.context)
        for r in own
        if "-us-east-1" in r.resource
    ]
    assert len(longer) > 20
    assert {decision(role_of("dev"), r) for r in own} == {ALLOWED}
    assert {decision(role_of("dev"), r) for r in longer} == {IMPLICIT}
