"""Through the real programs: a wrong stack or a bad value stops before any resource is registered."""

from __future__ import annotations

import pytest

from platform_core.errors import ConfigError, StackMismatchError
from platform_core.offline import RenderError, render_stack
from tests.repository import ORGANISATION


def test_production_program_refuses_the_dev_stack(stacks_dir):
    with pytest.raises(RenderError) as raised:
        render_stack(stacks_dir / "production", stack="dev", config_stack="production")
    assert isinstance(raised.value.__cause__, StackMismatchError)
    assert "stack 'dev' cannot deploy the 'production' program" in str(raised.value)
    assert raised.value.registered == ()


def test_a_suffixed_copy_needs_its_suffix_in_config(stacks_dir):
    with pytest.raises(RenderError, match="stack 'dev-pr-9' cannot deploy the 'dev' program"):
        render_stack(stacks_dir / "dev", stack="dev-pr-9", config_stack="dev")
    copy = render_stack(
        stacks_dir / "dev",
        stack="dev-pr-9",
        config_stack="dev",
        overrides={"platform:environmentSuffix": "pr-9"},
    )
    assert copy.outputs["lambda_function_name"] == "dev-trading-processor-us-east-1-pr-9"


def test_bad_values_fail_the_real_program_with_one_clear_message(stacks_dir):
    with pytest.raises(RenderError) as raised:
        render_stack(
            stacks_dir / "staging",
            overrides={
                "platform:lambdaMemoryMb": 100,
                "platform:logRetentionDays": 8,
                "platform:environmentSuffix": "a-suffix-long-enough-to-break-names",
            },
        )
    error = raised.value.__cause__
    assert isinstance(error, ConfigError)
    message = str(error)
    assert "platform:lambdaMemoryMb = '100': must be an integer from 128 to 10240 (MB)" in message
    assert (
        "platform:logRetentionDays = '8': must be one of CloudWatch's retention periods" in message
    )
    bucket = f"{ORGANISATION.prefix}-staging-trading-archive-us-east-1-a-suffix-long-enough-to-break-names"
    assert (
        f"S3 bucket name '{bucket}' is {len(bucket)} characters long; AWS allows at most 63"
        in message
    )
    assert raised.value.registered == ()
