"""What the local runs hand the handler besides the event: the context Lambda's Python runtime
passes (its attributes, from the rendered function), and which of the role's statements the
report says the emulator cannot evaluate."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_platform.context import FunctionSettings
from local_platform.identities import create_function_role

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test


def test_the_context_is_the_rendered_functions(rendered_stacks):
    stack = rendered_stacks["dev"]
    function = stack.one("aws:lambda/function:Function").inputs
    settings = FunctionSettings.of(stack, "eu-west-1")
    before = time.time()
    context = settings.context()
    assert context.function_name == "dev-trading-processor-us-east-1"
    assert context.invoked_function_arn == (
        "arn:aws:lambda:eu-west-1:123456789012:function:dev-trading-processor-us-east-1"
    )
    assert context.memory_limit_in_mb == str(int(function["memorySize"]))  # a string, as Lambda's
    assert context.function_version == "$LATEST"
    assert context.log_group_name == "/aws/lambda/dev-trading-processor-us-east-1"
    remaining = context.get_remaining_time_in_millis()
    assert 0 < remaining <= int(function["timeout"]) * 1000
    assert remaining >= int(function["timeout"]) * 1000 - (time.time() - before) * 1000 - 1000


def test_each_invocation_gets_its_own_request_id_unless_it_is_a_retry(rendered_stacks):
    settings = FunctionSettings.of(rendered_stacks["dev"], "us-east-1")
    first, second = settings.context(), settings.context()
    assert first.aws_request_id != second.aws_request_id
    assert uuid.UUID(first.aws_request_id).version == 4
    assert settings.context("retry-of-one").aws_request_id == "retry-of-one"


def test_past_its_deadline_the_remaining_time_is_zero(rendered_stacks):
    settings = FunctionSettings.of(rendered_stacks["dev"], "us-east-1")
    context = settings.context()
    late = type(context)(**{**context.__dict__, "deadline_ms": int(time.time() * 1000) - 5})
    assert late.get_remaining_time_in_millis() == 0


@pytest.fixture
def iam() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield tuple(
            boto3.client(
                service,  # type: ignore[call-overload]
                region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t",
            )
            for service in ("iam", "sts")
        )  # fmt: skip


def test_without_a_database_no_statement_goes_unevaluated(iam, rendered_stacks):
    """The boundary's grant on a database secret decides nothing the role could ask."""
    role = create_function_role(iam[0], iam[1], rendered_stacks["dev"], "dev", "us-east-1")
    assert role.not_evaluated == ()
    assert role.name == "dev-trading-processor-us-east-1"


def test_with_a_database_its_secrets_statements_are_listed(iam, rendered_with_database):
    stack = rendered_with_database["dev"]
    role = create_function_role(iam[0], iam[1], stack, "dev", "us-east-1")
    assert role.name == "dev-trading-processor-us-east-1"
    (note,) = role.not_evaluated  # the role may now read a secret: the boundary's condition counts
    assert note.startswith(
        "boundary dev-trading-workload-boundary, statement ReadDatabaseSecret (secretsmanager:"
    )
    assert "the emulator does not supply condition key 'secretsmanager:ResourceTag/" in note
