"""Endpoint health through the merchant API: limits, health, re-enabling, held and recovered.

The health record is written as the fan-out writes it, through EndpointHealthTable's public
methods; the delivery log through DeliveryLogTable.record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.endpoint_health_table import EndpointHealthTable
from parcelhooks.aws.pages import CursorSigner
from parcelhooks.core.deliveries import DeliveryJob
from parcelhooks.core.health import Limits, Observation
from parcelhooks.core.operational import WebhookEvent
from testkit.factories import (
    LambdaContextStub,
    api_event,
    disabled_notice,
    held_attempt,
    load_function,
    shipment_event,
)

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["*"]}
PAUSE_AFTER = 5  # BreakerPolicy's default: failures in a row that pause an endpoint


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


def _create(**fields: Any) -> dict[str, Any]:
    status, created = _call("POST", "/v1/subscriptions", {**NEW, **fields})
    assert status == 201, created
    return created


@pytest.fixture
def health(moto_stack: dict[str, str]) -> EndpointHealthTable:
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    return EndpointHealthTable(dynamodb.Table(moto_stack["ENDPOINT_HEALTH_TABLE"]))


@pytest.fixture
def log(moto_stack: dict[str, str]) -> DeliveryLogTable:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["DELIVERIES_TABLE"]
    )
    return DeliveryLogTable(table, timedelta(days=30), CursorSigner(lambda: b"k" * 32))


def _retry_jobs(env: dict[str, str]) -> list[DeliveryJob]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=env["RETRY_QUEUE_URL"], MaxNumberOfMessages=10)
    return [DeliveryJob.model_validate_json(m["Body"]) for m in got.get("Messages", [])]


def _answers(table: EndpointHealthTable, sub_id: str, *observations: Observation) -> None:
    """Attempts as the fan-out makes them: a lane taken, then given back with the answer."""
    limits = Limits(max_in_flight=16, interval_s=None, burst_s=0.0)
    for n, observation in enumerate(observations):
        now = datetime.now(UTC) - timedelta(minutes=len(observations) - n)
        token, _ = table.admit(
            sub_id,
            limits,
            pause_after_failures=PAUSE_AFTER,
            lease_until=now + timedelta(seconds=30),
            now=now,
        )
        assert token is not None
        table.release(sub_id, token, observation, now=now)


# ---------------------------------------------------------------------------------------
# Limits


@pytest.mark.usefixtures("moto_stack")
def test_limits_default_to_16_lanes_and_no_rate_and_show_in_every_answer() -> None:
    created = _create()
    assert (created["max_in_flight"], created["rate_limit_per_second"]) == (16, None)
    _, fetched = _call("GET", f"/v1/subscriptions/{created['id']}")
    _, listed = _call("GET", "/v1/subscriptions")
    for answer in (fetched, listed["data"][0]):
        assert (answer["max_in_flight"], answer["rate_limit_per_second"]) == (16, None)


@pytest.mark.usefixtures("moto_stack")
def test_limits_are_set_changed_and_the_rate_cleared_with_null() -> None:
    created = _create(max_in_flight=4, rate_limit_per_second=2.5)
    assert (created["max_in_flight"], created["rate_limit_per_second"]) == (4, 2.5)
    path = f"/v1/subscriptions/{created['id']}"
    status, patched = _call("PATCH", path, {"max_in_flight": 256})
    assert status == 200
    assert (patched["max_in_flight"], patched["rate_limit_per_second"]) == (256, 2.5)
    status, cleared = _call("PATCH", path, {"rate_limit_per_second": None})
    assert status == 200
    assert (cleared["max_in_flight"], cleared["rate_limit_per_second"]) == (256, None)
    _, fetched = _call("GET", path)
    assert (fetched["max_in_flight"], fetched["rate_limit_per_second"]) == (256, None)


@pytest.mark.usefixtures("moto_stack")
@pytest.mark.parametrize(
    ("limits", "problems"),
    [
        (
            {"max_in_flight": 0, "rate_limit_per_second": -1},
            ["max_in_flight", "rate_limit_per_second"],
        ),
        (
            {"max_in_flight": 257, "rate_limit_per_second": 1000.5},
            ["max_in_flight", "rate_limit_per_second"],
        ),
        (
            {"max_in_flight": None, "rate_limit_per_second": 0},
            ["max_in_flight", "rate_limit_per_second"],
        ),
        (
            {"max_in_flight": "16", "rate_limit_per_second": True},
            ["max_in_flight", "rate_limit_per_second"],
        ),
        ({"max_in_flight": 8.0}, ["max_in_flight"]),
    ],
    ids=[
        "zero-and-negative",
        "over-the-top",
        "null-max-and-zero-rate",
        "not-numbers",
        "float-lanes",
    ],
)
def test_out_of_range_limits_are_a_400_listing_every_problem(
    limits: dict[str, Any], problems: list[str]
) -> None:
    status, body = _call("POST", "/v1/subscriptions", {**NEW, **limits})
    assert status == 400
    assert sorted({d["loc"] for d in body["error"]["details"]}) == problems
    assert _call("GET", "/v1/subscriptions")[1]["data"] == []  # nothing created
    created = _create()
    path = f"/v1/subscriptions/{created['id']}"
    status, body = _call("PATCH", path, limits)
    assert status == 400
    assert sorted({d["loc"] for d in body["error"]["details"]}) == problems
    assert _call("GET", path)[1]["max_in_flight"] == 16  # nothing changed


# ---------------------------------------------------------------------------------------
# Health


@pytest.mark.usefixtures("moto_stack")
def test_a_new_subscription_is_healthy_with_nothing_counted() -> None:
    created = _create()
    expected = {
        "state": "healthy",
        "failing_since": None,
        "consecutive_failures": 0,
        "last_success_at": None,
        "last_failure_at": None,
        "held": 0,
        "pending": 0,
    }
    assert created["health"] == expected
    assert _call("GET", f"/v1/subscriptions/{created['id']}")[1]["health"] == expected
    # A list would read one record per subscription: it leaves health out.
    assert _call("GET", "/v1/subscriptions")[1]["data"][0]["health"] is None


@pytest.mark.parametrize(
    ("failures", "state"),
    [(0, "healthy"), (1, "failing"), (PAUSE_AFTER - 1, "failing"), (PAUSE_AFTER, "paused")],
)
def test_health_shows_the_state_the_fanout_acts_on(
    health: EndpointHealthTable, failures: int, state: str
) -> None:
    created = _create()
    _answers(health, created["id"], Observation.SUCCESS, *[Observation.FAILURE] * failures)
    status, fetched = _call("GET", f"/v1/subscriptions/{created['id']}")
    assert status == 200
    shown = fetched["health"]
    assert (shown["state"], shown["consecutive_failures"]) == (state, failures)
    assert shown["last_success_at"] is not None
    assert (shown["failing_since"] is None, shown["last_failure_at"] is None) == (
        not failures,
        not failures,
    )


def test_a_disabled_subscription_s_health_is_disabled_and_keeps_its_failures(
    health: EndpointHealthTable,
) -> None:
    created = _create()
    _answers(health, created["id"], *[Observation.FAILURE] * 3)
    path = f"/v1/subscriptions/{created['id']}"
    _, disabled = _call("PATCH", path, {"enabled": False})
    assert (disabled["health"]["state"], disabled["health"]["consecutive_failures"]) == (
        "disabled",
        3,
    )


def test_held_and_pending_are_shown_and_never_below_zero(health: EndpointHealthTable) -> None:
    created = _create()
    health.count(created["id"], held=2, pending=-3)  # a crash can leave pending short
    _, fetched = _call("GET", f"/v1/subscriptions/{created['id']}")
    assert (fetched["health"]["held"], fetched["health"]["pending"]) == (2, 0)


def test_re_enabling_resets_the_breaker(health: EndpointHealthTable) -> None:
    created = _create()
    _answers(health, created["id"], *[Observation.FAILURE] * 12)
    path = f"/v1/subscriptions/{created['id']}"
    _call("PATCH", path, {"enabled": False})
    status, enabled = _call("PATCH", path, {"enabled": True})
    assert status == 200
    assert enabled["health"]["state"] == "healthy"
    assert (enabled["health"]["consecutive_failures"], enabled["health"]["failing_since"]) == (
        0,
        None,
    )
    assert enabled["health"]["last_failure_at"] is not None  # history, not the breaker
    record = health.read(created["id"])
    assert (record.consecutive_failures, record.failing_since, record.hold_until) == (0, None, None)


def test_enabled_true_on_a_paused_enabled_endpoint_resets_it_too(
    health: EndpointHealthTable,
) -> None:
    # So a PATCH answered 500 after its write (the reset failed) completes when sent again.
    created = _create()
    _answers(health, created["id"], *[Observation.FAILURE] * PAUSE_AFTER)
    _, patched = _call("PATCH", f"/v1/subscriptions/{created['id']}", {"enabled": True})
    assert (patched["health"]["state"], patched["health"]["consecutive_failures"]) == (
        "healthy",
        0,
    )


def test_any_other_patch_leaves_the_breaker_alone(health: EndpointHealthTable) -> None:
    created = _create()
    _answers(health, created["id"], *[Observation.FAILURE] * PAUSE_AFTER)
    _, patched = _call("PATCH", f"/v1/subscriptions/{created['id']}", {"description": "ERP"})
    assert patched["health"]["state"] == "paused"
    assert health.read(created["id"]).consecutive_failures == PAUSE_AFTER


# ---------------------------------------------------------------------------------------
# Held deliveries, and recovering them


def _three_events(start: datetime) -> list[WebhookEvent]:
    """In order of occurrence: a notice, then two scans of the same instant by sequence."""
    scanned = start + timedelta(minutes=10)
    return [
        disabled_notice("evt_notice", start),
        shipment_event(event_id="evt_seq_4", occurred_at=scanned, sequence=4),
        shipment_event(event_id="evt_seq_5", occurred_at=scanned, sequence=5),
    ]


def test_held_lines_are_listed_and_filtered_apart_from_failures(
    log: DeliveryLogTable,
) -> None:
    created = _create()
    start = datetime.now(UTC) - timedelta(hours=1)
    event = shipment_event(event_id="evt_held")
    log.record([held_attempt(created["id"], event, start)])
    path = f"/v1/subscriptions/{created['id']}/deliveries"
    _, page = _call("GET", path)
    [line] = page["data"]
    assert (line["outcome"], line["status_code"], line["error"]) == (
        "held",
        None,
        "disabled by the merchant",
    )
    assert _call("GET", path, query={"outcome": "held"})[1]["data"] == page["data"]
    assert _call("GET", path, query={"outcome": "failure"})[1]["data"] == []


def test_held_deliveries_are_recovered_after_re_enabling_in_order_of_occurrence(
    health: EndpointHealthTable, log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    created = _create()
    sub_id = created["id"]
    path = f"/v1/subscriptions/{sub_id}"
    _answers(health, sub_id, *[Observation.FAILURE] * 12)
    _call("PATCH", path, {"enabled": False})
    start = datetime.now(UTC) - timedelta(hours=2)
    notice, fourth, fifth = _three_events(start)
    # Logged in another order than they occurred (a late scan, a retry held later on).
    log.record(
        [
            held_attempt(sub_id, fifth, start + timedelta(minutes=20)),
            held_attempt(sub_id, notice, start + timedelta(minutes=21)),
            held_attempt(sub_id, fourth, start + timedelta(minutes=22), attempt=3),
        ]
    )
    health.count(sub_id, held=3)  # as the fan-out counts what it holds
    since = {"since": (start - timedelta(minutes=1)).isoformat()}
    assert _call("POST", f"{path}/recover", since)[0] == 409  # still disabled

    _, enabled = _call("PATCH", path, {"enabled": True})
    assert enabled["health"]["held"] == 3  # re-enabling sends nothing by itself
    status, recovered = _call("POST", f"{path}/recover", since)
    assert status == 202
    assert (recovered["recovered"], recovered["held"], recovered["truncated"]) == (3, 3, False)
    order = ["evt_notice", "evt_seq_4", "evt_seq_5"]
    assert [d["event_id"] for d in recovered["deliveries"]] == order
    # A held attempt was never made: the re-send makes it, under the same number.
    assert [d["attempt"] for d in recovered["deliveries"]] == [1, 3, 1]
    jobs = _retry_jobs(moto_stack)
    assert [j.event.event_id for j in jobs] == order
    assert all(j.counted and j.force and j.origin == "merchant" for j in jobs)
    assert [j.delivery_id for j in jobs] == [d["delivery_id"] for d in recovered["deliveries"]]
    _, fetched = _call("GET", path)
    assert (fetched["health"]["held"], fetched["health"]["pending"]) == (0, 3)


def test_a_held_delivery_retried_one_by_one_leavesheld_attempt(
    health: EndpointHealthTable, log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    created = _create()
    event = shipment_event(event_id="evt_held")
    line = held_attempt(created["id"], event, datetime.now(UTC) - timedelta(hours=1), attempt=2)
    log.record([line])
    health.count(created["id"], held=1)
    status, sent = _call("POST", f"/v1/deliveries/{line.delivery_id}/retry")
    assert status == 202 and sent["attempt"] == 2
    [job] = _retry_jobs(moto_stack)
    assert job.counted and job.delivery_id == line.delivery_id
    record = health.read(created["id"])
    assert (record.held, record.pending) == (0, 1)


def test_a_test_event_is_counted_as_pending(
    health: EndpointHealthTable, moto_stack: dict[str, str]
) -> None:
    created = _create()
    assert _call("POST", f"/v1/subscriptions/{created['id']}/test")[0] == 202
    [job] = _retry_jobs(moto_stack)
    assert job.counted
    assert health.read(created["id"]).pending == 1


# ---------------------------------------------------------------------------------------
# The use case alone, with small fakes: what is counted when the queue or the counts fail


@pytest.mark.usefixtures("moto_stack")
def test_a_subscription_may_take_only_the_operational_events() -> None:
    created = _create(event_types=["subscription.disabled", "delivery.exhausted"])
    assert created["event_types"] == ["delivery.exhausted", "subscription.disabled"]
