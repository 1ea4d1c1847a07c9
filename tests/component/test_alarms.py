"""Alarms and the dashboard as template.yaml declares them, and the runbook that answers each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devstack.template import resources, template

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
ALARMS = resources("AWS::CloudWatch::Alarm")


def _dimensions(alarm: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: str(getattr(d["Value"], "value", d["Value"])) for d in alarm["Dimensions"]}


@pytest.mark.parametrize(
    ("metric", "dimension"),
    [
        ("ApproximateNumberOfMessagesVisible", "DeliveriesDLQ.QueueName"),
        ("ApproximateNumberOfMessagesVisible", "EventsDLQ.QueueName"),
        ("ApproximateAgeOfOldestMessage", "EventsQueue.QueueName"),
        ("ApproximateAgeOfOldestMessage", "RetryQueue.QueueName"),
        ("Errors", "FanoutFunction"),
        ("Throttles", "FanoutFunction"),
        ("Errors", "AuthorizerFunction"),
        ("5XXError", "${AWS::StackName}-api"),
    ],
)
def test_the_trouble_ops_must_hear_of_first_has_an_alarm(metric: str, dimension: str) -> None:
    assert any(
        alarm["MetricName"] == metric and dimension in _dimensions(alarm).values()
        for alarm in ALARMS.values()
    )


def test_dlq_alarms_fire_on_the_first_dead_letter() -> None:
    for name in ("DeliveriesDLQAlarm", "EventsDLQAlarm"):
        alarm = ALARMS[name]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_every_alarm_notifies_the_topic_and_links_its_runbook_section(name: str) -> None:
    alarm = ALARMS[name]
    assert alarm["AlarmActions"] and alarm["OKActions"]
    link = re.search(r"Runbook: docs/operations\.md#([a-z0-9-]+)", alarm["AlarmDescription"])
    assert link, f"{name} has no runbook link"
    headings = {
        line.removeprefix("## ").strip().lower()
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("## ")
    }
    assert link.group(1) in headings, f"docs/operations.md has no section for {name}"


def test_the_alarm_topic_is_a_parameter_or_one_the_stack_makes() -> None:
    parameters = template()["Parameters"]
    assert parameters["AlarmTopicArn"]["Default"] == ""
    assert "CreateAlarmTopic" in template()["Conditions"]
    topic = template()["Resources"]["AlarmTopic"]
    assert topic["Condition"] == "CreateAlarmTopic"


def test_the_dashboard_shows_what_ops_watch() -> None:
    [dashboard] = resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["DashboardBody"].value)
    titles = " | ".join(w["properties"]["title"] for w in body["widgets"]).lower()
    for wanted in ("ingest", "outcome", "latency", "queue depths", "oldest", "dead-letter"):
        assert wanted in titles
    latency = next(w for w in body["widgets"] if "latency" in w["properties"]["title"].lower())
    stats = {m[-1].get("stat") for m in latency["properties"]["metrics"]}
    assert stats == {"p50", "p99"}


def test_the_fanout_is_bounded_where_load_enters_and_the_api_is_throttled() -> None:
    events = template()["Resources"]["FanoutFunction"]["Properties"]["Events"]
    for source in events.values():
        assert source["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    [settings] = template()["Resources"]["Api"]["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] and settings["ThrottlingBurstLimit"]


def test_every_queue_is_encrypted_and_every_table_of_merchants_data_has_backups() -> None:
    for name, queue in resources("AWS::SQS::Queue").items():
        assert queue.get("SqsManagedSseEnabled") is True, name
    for name in ("SubscriptionsTable", "DeliveriesTable", "ApiKeysTable"):
        spec = resources("AWS::DynamoDB::Table")[name]["PointInTimeRecoverySpecification"]
        assert spec["PointInTimeRecoveryEnabled"] is True, name


def test_every_checkov_skip_says_why() -> None:
    for name, resource in template()["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, f"{name} skips {skip['id']} without a reason"
