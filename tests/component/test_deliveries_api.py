"""Deliveries through the admin handler: listing, retry, recover, test events, isolation."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.pages import CursorSigner
from parcelhooks.core.deliveries import AttemptRecord, DeliveryJob
from parcelhooks.core.ids import delivery_id
from testkit.factories import (
    LambdaContextStub,
    api_event,
    attempt_record,
    load_function,
    shipment_event,
)

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["*"]}


def _call(
    method: str,
    path: str,
    body: Any = None,
    merchant: str = "merchant-a",
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    app = load_function("admin")
    event = api_event(method, path, body, role="merchant", owner_id=merchant, query=query)
    response = app.handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


@pytest.fixture
def sub(moto_stack: dict[str, str]) -> dict[str, Any]:
    status, created = _call("POST", "/v1/subscriptions", NEW)
    assert status == 201
    return created


@pytest.fixture
def log(moto_stack: dict[str, str]) -> DeliveryLogTable:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["DELIVERIES_TABLE"]
    )
    return DeliveryLogTable(table, timedelta(days=30), CursorSigner(lambda: b"k" * 32))


def _attempts(
    sub_id: str, event_id: str, outcomes: list[str], start: datetime
) -> list[AttemptRecord]:
    event = shipment_event(event_id=event_id)
    return [
        attempt_record(
            delivery_id=delivery_id(event_id, sub_id),
            event_id=event_id,
            subscription_id=sub_id,
            attempt=n,
            attempted_at=start + timedelta(minutes=n),
            outcome=outcome,
            event=event,
        )
        for n, outcome in enumerate(outcomes, start=1)
    ]


def _retry_jobs(env: dict[str, str]) -> list[DeliveryJob]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=env["RETRY_QUEUE_URL"], MaxNumberOfMessages=10)
    return [DeliveryJob.model_validate_json(m["Body"]) for m in got.get("Messages", [])]


def test_attempts_are_listed_newest_first_and_filtered(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    log.record(_attempts(sub["id"], "evt_a", ["retry", "retry", "delivered"], now))
    status, page = _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries")
    assert status == 200
    assert [a["attempt"] for a in page["data"]] == [3, 2, 1]
    assert set(page["data"][0]) >= {"status_code", "latency_ms", "error", "next_attempt_at"}
    assert "event" not in page["data"][0]
    _, failures = _call(
        "GET", f"/v1/subscriptions/{sub['id']}/deliveries", query={"outcome": "failure"}
    )
    assert [a["outcome"] for a in failures["data"]] == ["retry", "retry"]
    assert (
        _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries", query={"outcome": "maybe"})[0]
        == 400
    )


def test_the_last_failure_of_a_dead_lettered_delivery_is_listed_as_exhausted(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    log.record(_attempts(sub["id"], "evt_dead", ["retry", "retry", "exhausted"], start))
    log.record(_attempts(sub["id"], "evt_ok", ["retry", "delivered"], start))
    path = f"/v1/subscriptions/{sub['id']}/deliveries"
    status, page = _call("GET", path, query={"outcome": "exhausted"})
    assert status == 200
    [last] = page["data"]
    assert (last["event_id"], last["attempt"], last["outcome"]) == ("evt_dead", 3, "exhausted")
    assert (last["status_code"], last["next_attempt_at"]) == (500, None)
    _, failures = _call("GET", path, query={"outcome": "failure"})
    outcomes = sorted(a["outcome"] for a in failures["data"])
    assert outcomes == ["exhausted", "retry", "retry", "retry"]  # a failure too


def test_a_delivery_is_retried_now_with_a_fresh_schedule(
    sub: dict[str, Any], log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    outcomes = ["retry"] * 7 + ["exhausted"]
    records = _attempts(sub["id"], "evt_a", outcomes, datetime.now(UTC) - timedelta(days=1))
    log.record(records)
    status, sent = _call("POST", f"/v1/deliveries/{records[0].delivery_id}/retry")
    assert status == 202 and sent["attempt"] == 9
    [job] = _retry_jobs(moto_stack)
    assert (job.attempt, job.schedule_from, job.force) == (9, 9, True)
    assert job.event.event_id == "evt_a" and job.subscription_id == sub["id"]


def test_recover_resends_only_failed_deliveries_not_already_waiting(
    sub: dict[str, Any], log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)
    log.record(_attempts(sub["id"], "evt_dead", ["retry", "exhausted"], start))
    log.record(_attempts(sub["id"], "evt_ok", ["retry", "delivered"], start))
    waiting = _attempts(sub["id"], "evt_waiting", ["retry"], start)
    waiting[0] = waiting[0].model_copy(
        update={"next_attempt_at": datetime.now(UTC) + timedelta(hours=1)}
    )
    log.record(waiting)
    log.record(_attempts(sub["id"], "evt_old", ["retry"], start - timedelta(days=2)))
    since = (start - timedelta(minutes=1)).isoformat()
    status, done = _call("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since})
    assert status == 202 and done["recovered"] == 1 and not done["truncated"]
    assert [d["event_id"] for d in done["deliveries"]] == ["evt_dead"]
    assert [j.event.event_id for j in _retry_jobs(moto_stack)] == ["evt_dead"]


def test_recover_refuses_a_since_outside_the_log_window(sub: dict[str, Any]) -> None:
    since = (datetime.now(UTC) - timedelta(days=45)).isoformat()
    status, body = _call("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since})
    assert status == 400 and body["error"]["details"][0]["loc"] == "since"
    assert _call("POST", f"/v1/subscriptions/{sub['id']}/recover", {})[0] == 400


_AN_HOUR_AGO = int(datetime.now(UTC).timestamp()) - 3600


@pytest.mark.parametrize(
    "body",
    [
        {"since": _AN_HOUR_AGO},
        {"since": _AN_HOUR_AGO + 0.5},
        {"since": str(_AN_HOUR_AGO)},
        {"since": True},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"since": "9999-12-31T23:59:59-14:00"},
        {"since": datetime.now(UTC).isoformat(), "until": datetime.now(UTC).isoformat()},
    ],
    ids=["number", "float", "digit-string", "bool", "year-1", "year-9999", "unknown-field"],
)
def test_recover_takes_since_only_as_an_rfc_3339_string(
    sub: dict[str, Any], moto_stack: dict[str, str], body: dict[str, Any]
) -> None:
    # Class C: a recent unix time used to be read as one, though occurred_at refuses numbers.
    status, answer = _call("POST", f"/v1/subscriptions/{sub['id']}/recover", body)
    assert status == 400
    assert [d["loc"] for d in answer["error"]["details"]] == [next(reversed(body))]
    assert _retry_jobs(moto_stack) == []


def test_a_test_event_is_queued_as_webhook_test(
    sub: dict[str, Any], moto_stack: dict[str, str]
) -> None:
    status, sent = _call("POST", f"/v1/subscriptions/{sub['id']}/test")
    assert status == 202 and sent["delivery_id"].startswith("dlv_")
    [job] = _retry_jobs(moto_stack)
    assert job.event.type == "webhook.test" and job.delivery_id == sent["delivery_id"]
    assert job.event.merchant_id == "merchant-a"


def test_a_disabled_subscription_gets_a_409_for_test_retry_and_recover(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    records = _attempts(sub["id"], "evt_a", ["retry"], datetime.now(UTC) - timedelta(hours=1))
    log.record(records)
    _call("PATCH", f"/v1/subscriptions/{sub['id']}", {"enabled": False})
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for method, path, body in [
        ("POST", f"/v1/subscriptions/{sub['id']}/test", None),
        ("POST", f"/v1/deliveries/{records[0].delivery_id}/retry", None),
        ("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since}),
    ]:
        status, answer = _call(method, path, body)
        assert status == 409 and answer["error"]["code"] == "subscription_disabled"


def test_unknown_deliveries_are_404(sub: dict[str, Any]) -> None:
    assert _call("POST", "/v1/deliveries/dlv_nope/retry")[0] == 404
    assert _call("GET", "/v1/subscriptions/sub_nope/deliveries")[0] == 404


def test_another_merchant_gets_404_on_every_delivery_route_and_nothing_is_queued(
    sub: dict[str, Any], log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    records = _attempts(sub["id"], "evt_a", ["retry"], datetime.now(UTC) - timedelta(hours=1))
    log.record(records)
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for method, path, body in [
        ("GET", f"/v1/subscriptions/{sub['id']}/deliveries", None),
        ("POST", f"/v1/deliveries/{records[0].delivery_id}/retry", None),
        ("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since}),
        ("POST", f"/v1/subscriptions/{sub['id']}/test", None),
    ]:
        status, answer = _call(method, path, body, merchant="merchant-b")
        assert status == 404, (method, path)
        assert answer["error"]["code"] == "not_found"
    assert _retry_jobs(moto_stack) == []
