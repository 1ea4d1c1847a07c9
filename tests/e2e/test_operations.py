"""The ops side of the deployed stack: alarms, the dashboard and their topic exist on it."""

from __future__ import annotations

from devstack.stack import Deployment
from devstack.template import resources


def test_every_alarm_of_the_template_is_deployed_with_its_action(stack: Deployment) -> None:
    cloudwatch = stack.client("cloudwatch")
    deployed = cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]
    ours = [a for a in deployed if "docs/operations.md#" in a.get("AlarmDescription", "")]
    assert len(ours) >= len(resources("AWS::CloudWatch::Alarm"))
    assert all(alarm["AlarmActions"] for alarm in ours)


def test_the_dashboard_and_the_alarm_topic_are_deployed(stack: Deployment) -> None:
    outputs = stack.outputs
    dashboard = stack.client("cloudwatch").get_dashboard(DashboardName=outputs["DashboardName"])
    assert "Delivery latency" in dashboard["DashboardBody"]
    topics = stack.client("sns").list_topics()["Topics"]
    assert outputs["AlarmTopic"] in {t["TopicArn"] for t in topics}
