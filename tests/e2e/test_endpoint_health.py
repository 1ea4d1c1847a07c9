"""Endpoint health on the deployed stack: held while disabled, the breaker, the limits.

The local stack pauses an endpoint after 5 failures in a row, probes it every 2 s, and
disables it once it has failed for 18 s with at least 6 failures (devstack/stack.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from tests.e2e.conftest import Api, carrier_event, subscribe, wait_for_attempts

DELIVERY_TIMEOUT_S = 30
BREAKER_TIMEOUT_S = 90


def _wait_until_disabled(merchant: Api, subscription_id: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        current: dict[str, Any] = merchant.call(
            "GET", f"/v1/subscriptions/{subscription_id}"
        ).json()
        if not current["enabled"]:
            return current
        time.sleep(0.5)
    raise AssertionError(f"{subscription_id} still enabled after {timeout_s}s")


def _send(carrier: Api, merchant: Api, **overrides: Any) -> str:
    response = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id, **overrides))
    assert response.status_code == 202, response.text
    event_id: str = response.json()["events"][0]["event_id"]
    return event_id


def test_a_410_holds_later_events_and_recover_sends_them_after_re_enabling(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory(statuses=[410])
    subscription = subscribe(merchant, receiver.url, ["*"])
    sub_id = subscription["id"]
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    gone_id = _send(carrier, merchant, status="posted")
    _wait_until_disabled(merchant, sub_id, DELIVERY_TIMEOUT_S)
    held_id = _send(carrier, merchant, status="out_for_delivery")
    [held] = wait_for_attempts(merchant, sub_id, outcome="held")
    assert held["event_id"] == held_id and len(receiver.received) == 1

    receiver.statuses = [410, 204]  # the endpoint is fixed
    enabled = merchant.call("PATCH", f"/v1/subscriptions/{sub_id}", {"enabled": True})
    assert enabled.status_code == 200, enabled.text
    health = merchant.call("GET", f"/v1/subscriptions/{sub_id}").json()["health"]
    assert (health["state"], health["held"]) == ("healthy", 1)  # re-enabled, still held
    recovered = merchant.call("POST", f"/v1/subscriptions/{sub_id}/recover", {"since": since})
    assert recovered.status_code == 202, recovered.text
    assert recovered.json()["recovered"] == 2  # the 410'd one and the held one

    arrived = receiver.wait_for(3, DELIVERY_TIMEOUT_S)[1:]
    for request in arrived:
        Webhook(subscription["secret"]).verify(request.body, request.headers)
    assert sorted(r.headers["webhook-id"] for r in arrived) == sorted([gone_id, held_id])
    health = merchant.call("GET", f"/v1/subscriptions/{sub_id}").json()["health"]
    assert (health["state"], health["held"]) == ("healthy", 0)


def test_an_endpoint_failing_past_the_threshold_is_disabled_and_its_owner_told(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    failing = receiver_factory(statuses=[500])
    told = receiver_factory()
    broken = subscribe(merchant, failing.url, ["*"])
    ops = subscribe(merchant, told.url, ["subscription.disabled"])
    deadline = time.monotonic() + BREAKER_TIMEOUT_S
    notices: list[Any] = []
    # Events keep coming, as in production; the breaker must stop the endpoint anyway.
    while not notices and time.monotonic() < deadline:
        _send(carrier, merchant)
        time.sleep(3)
        notices = list(told.received)
    assert notices, f"no subscription.disabled within {BREAKER_TIMEOUT_S}s"
    payload = Webhook(ops["secret"]).verify(notices[0].body, notices[0].headers)
    assert payload["type"] == "subscription.disabled"
    assert payload["data"]["subscription_id"] == broken["id"]
    assert payload["data"]["disabled_by"] == "breaker"
    current = _wait_until_disabled(merchant, broken["id"], DELIVERY_TIMEOUT_S)
    assert "circuit breaker" in current["disabled_reason"]
    assert current["health"]["state"] == "disabled"
    # Paused before it was disabled: far fewer POSTs than the events' full retry schedules.
    assert all(r.headers["webhook-id"] for r in failing.received)


def test_max_in_flight_holds_while_200_events_fan_out_and_all_arrive(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory(hang_s=0.05)
    created = merchant.call(
        "POST",
        "/v1/subscriptions",
        {"url": receiver.url, "event_types": ["*"], "max_in_flight": 2},
    )
    assert created.status_code == 201, created.text
    sent: set[str] = set()
    for batch in range(2):
        events = [
            carrier_event(merchant.owner_id, tracking_code=f"QB{batch}{i:02d}", order_id=f"o{i}")
            for i in range(100)
        ]
        response = carrier.call("POST", "/v1/events", {"events": events})
        assert response.status_code == 202, response.text
        sent |= {e["event_id"] for e in response.json()["events"]}
    # At least once: a webhook redelivered (a visibility timeout passed under load) comes
    # twice with one webhook-id; every event must arrive.
    arrived = receiver.wait_for_ids(200, 240)
    assert {r.headers["webhook-id"] for r in arrived} == sent
    assert receiver.peak_in_flight <= 2
