"""What the harness reads from, and does to, the deployed stack on MiniStack."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from chaos.drain import Depth, LoggedAttempt
from chaos.ledger import DELIVERIES_DLQ, EVENTS_DLQ, DeadLetter
from devstack.stack import Deployment

QUEUES = ("EventsQueue", "RetryQueue")
DLQ_HOLD_S = 600  # longer than the run's remaining steps: a letter is read once
PAGE_LIMIT = 100
REQUEST_TIMEOUT_S = 30.0
# Reads of the merchant API (the ledger's listings) asked again when they time out: on a
# machine busy with the run's load and kills, one slow answer is not a lost delivery. Only
# GET: a subscription made twice would be a second receiver of every event.
READ_RETRIES = Retry(
    total=3, connect=3, read=3, status=0, allowed_methods={"GET"}, backoff_factor=1.0
)
_REPORT = re.compile(r"^REPORT RequestId: \S+\tDuration: ([0-9.]+) ms\t.*Memory Size: (\d+) MB")


def api_session() -> requests.Session:
    """A session for the merchant API whose GETs are asked again after a timeout."""
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=READ_RETRIES))
    return session


def function_names(deployment: Deployment) -> dict[str, str]:
    """Logical id -> physical name of every function of the stack."""
    resources = deployment.client("cloudformation").describe_stack_resources(
        StackName=deployment.stack_name
    )["StackResources"]
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function"
    }


def point_functions_at(deployment: Deployment, endpoints: Mapping[str, str]) -> None:
    """Set each function's AWS_ENDPOINT_URL (physical name -> URL), keeping its other
    variables: MiniStack's worker takes the function's own value over its default."""
    awslambda = deployment.client("lambda")
    for name, url in endpoints.items():
        config = awslambda.get_function_configuration(FunctionName=name)
        variables = dict(config.get("Environment", {}).get("Variables", {}))
        variables["AWS_ENDPOINT_URL"] = url
        awslambda.update_function_configuration(
            FunctionName=name, Environment={"Variables": variables}
        )


def queue_depths(deployment: Deployment) -> dict[str, Depth]:
    sqs = deployment.client("sqs")
    return {
        name: Depth.of(
            sqs.get_queue_attributes(
                QueueUrl=deployment.outputs[f"{name}Url"], AttributeNames=["All"]
            )["Attributes"]
        )
        for name in QUEUES
    }


def dead_letters(
    deployment: Deployment, pairs_of_event: Mapping[str, Sequence[str]]
) -> list[DeadLetter]:
    """Every pair in DeliveriesDLQ, and in EventsDLQ (an event message stands for each of
    its pairs); the messages are left in the queues, hidden for the rest of the run."""
    found = [
        DeadLetter(body["event"]["event_id"], body["subscription_id"], DELIVERIES_DLQ)
        for body in _drain_queue(deployment, deployment.outputs["DeliveriesDLQUrl"])
    ]
    for body in _drain_queue(deployment, deployment.outputs["EventsDLQUrl"]):
        found += _events_dlq_pairs(body, pairs_of_event)
    return found


def _events_dlq_pairs(
    body: Mapping[str, Any], pairs_of_event: Mapping[str, Sequence[str]]
) -> list[DeadLetter]:
    if body.get("kind") == "retry":
        return [DeadLetter(body["event"]["event_id"], body["subscription_id"], EVENTS_DLQ)]
    if body.get("kind") == "operational":
        return []  # a notice, not a pair
    event_id = str(body.get("event_id", ""))
    return [DeadLetter(event_id, sub, EVENTS_DLQ) for sub in pairs_of_event.get(event_id, ())]


def _drain_queue(deployment: Deployment, queue_url: str) -> Iterator[dict[str, Any]]:
    sqs = deployment.client("sqs")
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=DLQ_HOLD_S
        ).get("Messages", [])
        if not messages:
            return
        for message in messages:
            yield json.loads(message["Body"])


@dataclass
class MerchantApi:
    """One merchant's side of the API."""

    api_url: str
    key: str
    session: requests.Session

    def call(self, method: str, path: str, **options: Any) -> requests.Response:
        headers = {"authorization": f"Bearer {self.key}"}
        return self.session.request(
            method, self.api_url + path, headers=headers, timeout=REQUEST_TIMEOUT_S, **options
        )

    def subscribe(self, url: str, event_types: Sequence[str]) -> dict[str, Any]:
        answer = self.call(
            "POST", "/v1/subscriptions", json={"url": url, "event_types": list(event_types)}
        )
        if answer.status_code != 201:
            raise RuntimeError(f"subscription refused: {answer.status_code} {answer.text}")
        created: dict[str, Any] = answer.json()
        return created

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        answer = self.call("GET", f"/v1/subscriptions/{subscription_id}")
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    def attempts(self, subscription_id: str, outcome: str) -> list[LoggedAttempt]:
        """Every line of the subscription's delivery log with this outcome filter."""
        lines: list[LoggedAttempt] = []
        cursor: str | None = None
        while True:
            params = {"outcome": outcome, "limit": str(PAGE_LIMIT)}
            if cursor:
                params["cursor"] = cursor
            answer = self.call(
                "GET", f"/v1/subscriptions/{subscription_id}/deliveries", params=params
            )
            answer.raise_for_status()
            page = answer.json()
            lines += [_logged(subscription_id, line) for line in page["data"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return lines


def _logged(subscription_id: str, line: Mapping[str, Any]) -> LoggedAttempt:
    next_at = line.get("next_attempt_at")
    return LoggedAttempt(
        event_id=line["event_id"],
        subscription_id=subscription_id,
        attempt=int(line["attempt"]),
        attempted_at=datetime.fromisoformat(line["attempted_at"]),
        outcome=line["outcome"],
        next_attempt_at=datetime.fromisoformat(next_at) if next_at else None,
    )


@dataclass(frozen=True)
class Invocations:
    """What a function's CloudWatch Logs say about a stretch of the run."""

    durations_ms: tuple[float, ...]
    memory_mb: int
    log_bytes: int
    log_lines: int


def invocations(deployment: Deployment, function: str, start_ms: int, end_ms: int) -> Invocations:
    """Durations from MiniStack's REPORT lines, and the bytes the function logged."""
    durations: list[float] = []
    memory_mb = 0
    size = lines = 0
    for message in _log_messages(deployment, f"/aws/lambda/{function}", start_ms, end_ms):
        report = _REPORT.match(message)
        if report:
            durations.append(float(report.group(1)))
            memory_mb = int(report.group(2))
        size += len(message.encode())
        lines += 1
    return Invocations(tuple(durations), memory_mb, size, lines)


def _log_messages(deployment: Deployment, group: str, start_ms: int, end_ms: int) -> Iterable[str]:
    logs = deployment.client("logs")
    token: str | None = None
    while True:
        options: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "endTime": end_ms}
        if token:
            options["nextToken"] = token
        try:
            page = logs.filter_log_events(**options)
        except logs.exceptions.ResourceNotFoundException:
            return
        for event in page.get("events", []):
            yield str(event["message"])
        token = page.get("nextToken")
        if not token or not page.get("events"):
            return
