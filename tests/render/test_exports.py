"""What operators need after a deploy, exported: the failure queue to redrive from and, where
alarms exist, the topic to subscribe to."""

from __future__ import annotations

import pytest

from platform_core import EXPORT_NAMES
from platform_core.offline import FAKE_ACCOUNT_ID, render_stack


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_failure_queue_url_is_the_functions_failure_destination(rendered_stacks, env):
    stack = rendered_stacks[env]
    queue = stack.one("aws:sqs/queue:Queue")
    name = f"{env}-trading-processor-failures-us-east-1"
    assert queue.inputs["name"] == name
    url = stack.outputs["failure_queue_url"]
    assert url == f"https://sqs.us-east-1.amazonaws.com/{FAKE_ACCOUNT_ID}/{name}"
    config = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.state["arn"]
    assert "failure_queue_url" in EXPORT_NAMES


@pytest.mark.parametrize(("env", "has_alarms"), [("dev", False), ("staging", True),
                                                 ("production", True)])  # fmt: skip
def test_alarm_topic_arn_is_exported_where_alarms_exist(rendered_stacks, env, has_alarms):
    stack = rendered_stacks[env]
    topics = stack.of_type("aws:sns/topic:Topic")
    assert bool(topics) is has_alarms
    if not has_alarms:
        assert "alarm_topic_arn" not in stack.outputs
        return
    [topic] = topics
    arn = stack.outputs["alarm_topic_arn"]
    assert arn == topic.state["arn"]
    for alarm in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [arn]


def test_a_dev_copy_with_alarms_exports_its_topic(stacks_dir):
    stack = render_stack(stacks_dir / "dev", overrides={"platform:alarmProfile": "relaxed"})
    assert stack.outputs["alarm_topic_arn"].endswith(":dev-trading-alarms-us-east-1")
