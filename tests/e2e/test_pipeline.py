"""Carrier POST → API Gateway → authorizer → ingest → SQS → fan-out → a real receiver."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from standardwebhooks import Webhook

from devstack.stack import Deployment
from parcelhooks.core.ids import event_id_of
from tests.e2e.conftest import Api, carrier_event, subscribe

DELIVERY_TIMEOUT_S = 30


def _attempts(stack: Deployment, subscription_id: str) -> list[dict[str, Any]]:
    table = stack.resource("dynamodb").Table(stack.outputs["DeliveriesTableName"])
    response = table.query(
        KeyConditionExpression="subscription_id = :s",
        ExpressionAttributeValues={":s": subscription_id},
    )
    return list(response["Items"])


def _wait_for_attempts(stack: Deployment, subscription_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        attempts = _attempts(stack, subscription_id)
        if len(attempts) >= count:
            return attempts
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} attempts logged for {subscription_id}")


def _dead_letters(stack: Deployment, subscription_id: str, timeout_s: float) -> dict[str, Any]:
    sqs = stack.client("sqs")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=stack.outputs["DeliveriesDLQUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            body = json.loads(message["Body"])
            if body["subscription_id"] == subscription_id:
                return dict(body)
    raise AssertionError(f"no dead letter for {subscription_id} within {timeout_s}s")


def test_a_carrier_event_reaches_the_receiver_signed(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory()
    subscription = subscribe(merchant, receiver.url, ["shipment.delivered"])
    event = carrier_event(merchant.owner_id)
    response = carrier.call("POST", "/v1/events", event)
    assert response.status_code == 202, response.text
    event_id = response.json()["events"][0]["event_id"]

    [received] = receiver.wait_for(1, DELIVERY_TIMEOUT_S)
    payload = Webhook(subscription["secret"]).verify(received.body, received.headers)
    assert received.headers["webhook-id"] == event_id
    assert payload["type"] == "shipment.delivered"
    assert payload["data"]["tracking_code"] == event["tracking_code"]
    assert payload["data"]["carrier"] == "it-carrier"


def test_an_event_the_subscription_does_not_want_does_not_arrive(
    stack: Deployment, carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    picky = receiver_factory()
    everything = receiver_factory()
    picky_sub = subscribe(merchant, picky.url, ["shipment.delivered"])
    subscribe(merchant, everything.url, ["*"])
    response = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id, status="posted"))
    assert response.status_code == 202
    [received] = everything.wait_for(1, DELIVERY_TIMEOUT_S)
    assert json.loads(received.body)["type"] == "shipment.posted"
    # The same invocation decided for both subscriptions; the picky one got no attempt.
    assert _attempts(stack, picky_sub["id"]) == []
    assert picky.received == []


def test_a_failing_receiver_is_retried_with_the_same_id_then_dead_lettered(
    stack: Deployment, carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory(statuses=[500])
    subscription = subscribe(merchant, receiver.url, ["*"])
    response = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    event_id = response.json()["events"][0]["event_id"]

    dead = _dead_letters(stack, subscription["id"], timeout_s=60)
    attempts = receiver.wait_for(4, 1)  # local schedule 1,2,4 → 4 attempts
    assert {a.headers["webhook-id"] for a in attempts} == {event_id}
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.7 and gaps[2] >= 3.0  # 1 s and 4 s, less 20 % jitter and clock slack
    assert dead["attempts"] == 4 and dead["last_status"] == 500
    assert dead["event"]["event_id"] == event_id and dead["merchant_id"] == merchant.owner_id
    logged = _wait_for_attempts(stack, subscription["id"], 4)
    assert sorted(int(a["attempt"]) for a in logged) == [1, 2, 3, 4]
    outcomes = {int(a["attempt"]): (a["outcome"], int(a["status_code"])) for a in logged}
    assert outcomes == {n: ("retry", 500) for n in (1, 2, 3)} | {4: ("exhausted", 500)}


@pytest.mark.parametrize(
    "case", ["invalid_event_in_batch", "no_key", "unknown_key", "merchant_key"]
)
def test_a_refused_request_enqueues_nothing(
    stack: Deployment, carrier: Api, merchant: Api, receiver_factory: Any, case: str
) -> None:
    receiver = receiver_factory()
    subscription = subscribe(merchant, receiver.url, ["*"])
    good = carrier_event(merchant.owner_id)
    bad = carrier_event(merchant.owner_id, tracking_code="x")
    body: Any = {"events": [good, bad]} if case == "invalid_event_in_batch" else good
    headers = {
        "invalid_event_in_batch": {},
        "no_key": {"authorization": ""},
        "unknown_key": {"authorization": "Bearer phk_" + "x" * 43},
        "merchant_key": {"authorization": f"Bearer {merchant.key}"},
    }[case]
    expected = {
        "invalid_event_in_batch": 400,
        "no_key": 401,
        "unknown_key": 401,
        "merchant_key": 403,
    }
    response = carrier.call("POST", "/v1/events", body, headers=headers)
    assert response.status_code == expected[case], response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}

    sentinel = carrier_event(merchant.owner_id, status="out_for_delivery")
    accepted = carrier.call("POST", "/v1/events", sentinel)
    assert accepted.status_code == 202
    receiver.wait_for(1, DELIVERY_TIMEOUT_S)
    # Had the refused event been queued, it was queued before the sentinel and fanned out
    # in the same or an earlier batch, whose attempts are logged by the time the sentinel's is.
    logged = _wait_for_attempts(stack, subscription["id"], 1)
    assert [a["event_type"] for a in logged] == ["shipment.out_for_delivery"]
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["shipment.out_for_delivery"]
    # Nor recorded: the shipment's history (its items are the dedupe claims) holds the
    # sentinel, and not the good event of the refused request.
    good_id = event_id_of(
        carrier.owner_id, merchant.owner_id, good["tracking_code"], good["carrier_event_id"]
    )
    shown = merchant.call("GET", f"/v1/shipments/{good['tracking_code']}").json()
    recorded = {e["data"]["event_id"] for shipment in shown["data"] for e in shipment["events"]}
    assert accepted.json()["events"][0]["event_id"] in recorded and good_id not in recorded


def test_a_duplicate_post_is_answered_and_delivered_once(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory()
    subscribe(merchant, receiver.url, ["*"])
    event = carrier_event(merchant.owner_id)
    first = carrier.call("POST", "/v1/events", event).json()
    second = carrier.call("POST", "/v1/events", event).json()
    assert second["duplicates"] == 1
    assert second["events"][0]["event_id"] == first["events"][0]["event_id"]
    sentinel = carrier_event(merchant.owner_id, status="in_transit")
    carrier.call("POST", "/v1/events", sentinel)
    receiver.wait_for(2, DELIVERY_TIMEOUT_S)
    types = sorted(json.loads(r.body)["type"] for r in receiver.received)
    assert types == ["shipment.delivered", "shipment.in_transit"]


def test_a_body_over_the_limit_is_a_413(carrier: Api) -> None:
    response = carrier.session.post(
        carrier.base + "/v1/events",
        data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        headers={"authorization": f"Bearer {carrier.key}", "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_admin_routes_refuse_carrier_keys_with_403(stack: Deployment, carrier: Api) -> None:
    response = carrier.call("GET", "/v1/subscriptions")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
