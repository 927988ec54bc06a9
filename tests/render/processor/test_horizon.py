"""The deduplication horizon against what the real stacks deploy: a failure-queue redrive on
the queue's last day, after Lambda's longest retry window, still finds the batch's ledger."""

from __future__ import annotations

import pytest

from processor.contract import DEDUPLICATION_MARGIN_S
from processor.settings import Settings

ENVIRONMENTS = ("dev", "staging", "production")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ledger_ttl_outlives_queue_retention_plus_event_age(rendered_stacks, env):
    stack = rendered_stacks[env]
    invoke = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs
    destination = invoke["destinationConfig"]["onFailure"]["destination"]
    (queue,) = [q for q in stack.of_type("aws:sqs/queue:Queue") if q.state["arn"] == destination]
    function = stack.one("aws:lambda/function:Function").inputs
    latest_redelivery = queue.inputs["messageRetentionSeconds"] + invoke["maximumEventAgeInSeconds"]
    ttl = Settings.from_env(function["environment"]["variables"]).ledger_ttl_s
    assert ttl >= latest_redelivery + DEDUPLICATION_MARGIN_S
