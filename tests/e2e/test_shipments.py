"""Shipment order on the deployed stack: a late scan arrives flagged stale (and is only logged
for a subscription that does not take stale events), and GET /v1/shipments shows the history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from devstack.stack import Deployment, issue_key
from parcelhooks.core.api_keys import Role
from tests.e2e.conftest import Api, carrier_event, subscribe, wait_for_attempts

TIMEOUT_S = 30
# Not in the UPU S10 shape, so no check digit to get right.
TRACKING_CODE = "E2E-SHIPMENT-0001"


def _hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="seconds")


def _post(carrier: Api, merchant: Api, status: str, hours_ago: float) -> str:
    event = carrier_event(
        merchant.owner_id,
        tracking_code=TRACKING_CODE,
        status=status,
        occurred_at=_hours_ago(hours_ago),
    )
    response = carrier.call("POST", "/v1/events", event)
    assert response.status_code == 202, response.text
    return str(response.json()["events"][0]["event_id"])


def test_a_late_scan_arrives_flagged_stale_and_is_only_logged_where_stale_is_not_wanted(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    everything = receiver_factory()
    fresh_only = receiver_factory()
    sub = subscribe(merchant, everything.url, ["*"])
    created = merchant.call(
        "POST",
        "/v1/subscriptions",
        {"url": fresh_only.url, "event_types": ["*"], "include_stale": False},
    )
    assert created.status_code == 201, created.text
    assert created.json()["include_stale"] is False

    delivered_id = _post(carrier, merchant, "delivered", hours_ago=1)
    fresh_only.wait_for(1, TIMEOUT_S)
    late_id = _post(carrier, merchant, "in_transit", hours_ago=3)

    hooks = everything.wait_for(2, TIMEOUT_S)
    late = next(h for h in hooks if h.headers["webhook-id"] == late_id)
    payload = Webhook(sub["secret"]).verify(late.body, late.headers)
    assert payload["type"] == "shipment.in_transit"
    assert payload["data"]["stale"] is True
    assert payload["data"]["sequence"] == 2
    assert payload["data"]["previous_status"] == "delivered"

    [skipped] = wait_for_attempts(merchant, created.json()["id"], outcome="skipped")
    assert (skipped["event_id"], skipped["outcome"]) == (late_id, "skipped_stale")
    assert [h.headers["webhook-id"] for h in fresh_only.received] == [delivered_id]


def test_the_shipment_shows_its_latest_status_and_history_in_sequence_order(
    stack: Deployment, carrier: Api, merchant: Api
) -> None:
    sent = [
        _post(carrier, merchant, "posted", hours_ago=48),
        _post(carrier, merchant, "delivered", hours_ago=1),
        _post(carrier, merchant, "in_transit", hours_ago=10),
    ]
    response = merchant.call("GET", f"/v1/shipments/{TRACKING_CODE}")
    assert response.status_code == 200, response.text
    [shipment] = response.json()["data"]
    assert (shipment["carrier"], shipment["status"]) == (carrier.owner_id, "delivered")
    assert [e["data"]["event_id"] for e in shipment["events"]] == sent
    assert [e["data"]["sequence"] for e in shipment["events"]] == [1, 2, 3]
    assert [e["data"]["stale"] for e in shipment["events"]] == [False, False, True]
    assert shipment["latest"]["data"]["event_id"] == sent[1]

    owner = f"it-merchant-{uuid.uuid4().hex[:8]}"
    stranger = Api(stack, issue_key(stack, Role.MERCHANT, owner), owner)
    assert stranger.call("GET", f"/v1/shipments/{TRACKING_CODE}").status_code == 404
