"""The delivery engine on the deployed stack: retries, 410, isolation, the URL guard."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from devstack.stack import Deployment
from tests.e2e.conftest import Api, carrier_event, subscribe

DELIVERY_TIMEOUT_S = 30


def test_a_flaky_receiver_is_delivered_on_the_third_attempt(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory(statuses=[500, 503, 200])
    subscribe(merchant, receiver.url, ["*"])
    response = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    event_id = response.json()["events"][0]["event_id"]
    attempts = receiver.wait_for(3, DELIVERY_TIMEOUT_S)
    assert [a.headers["webhook-id"] for a in attempts] == [event_id] * 3
    # The third answer was a success: no fourth attempt is scheduled (next would be ~4 s).
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and len(receiver.received) == 3:
        time.sleep(0.2)
    assert len(receiver.received) == 3


def test_410_gone_disables_the_subscription(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory(statuses=[410])
    subscription = subscribe(merchant, receiver.url, ["*"])
    carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    receiver.wait_for(1, DELIVERY_TIMEOUT_S)
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        current = merchant.call("GET", f"/v1/subscriptions/{subscription['id']}").json()
        if not current["enabled"]:
            break
        time.sleep(0.2)
    assert current["enabled"] is False
    assert "410" in current["disabled_reason"] and current["disabled_at"]
    # A later event is not sent to it.
    carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id, status="posted"))
    other = receiver_factory()
    subscribe(merchant, other.url, ["*"])
    carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id, status="in_transit"))
    other.wait_for(1, DELIVERY_TIMEOUT_S)
    assert len(receiver.received) == 1


def test_a_hanging_receiver_does_not_delay_another_subscription(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    hanging = receiver_factory(hang_s=8)
    prompt = receiver_factory()
    subscribe(merchant, hanging.url, ["*"])
    subscribe(merchant, prompt.url, ["*"])
    sent_at = time.time()
    assert carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id)).status_code == 202
    [received] = prompt.wait_for(1, DELIVERY_TIMEOUT_S)
    assert received.at - sent_at < 4, "the prompt receiver waited for the hanging one"
    assert hanging.received == []  # it is still hanging when the other was served


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://[::ffff:127.0.0.1]:8080/hook",
        "http://2130706433/hook",
        "ftp://127.0.0.1/hook",
    ],
)
def test_the_url_guard_refuses_unsafe_subscription_urls(merchant: Api, url: str) -> None:
    response = merchant.call("POST", "/v1/subscriptions", {"url": url, "event_types": ["*"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"] and error["details"][0]["loc"] == "url"
    assert merchant.call("GET", "/v1/subscriptions").json()["data"] == []


def test_webhook_bodies_are_identical_across_retries(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory(statuses=[500, 200])
    subscribe(merchant, receiver.url, ["*"])
    carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    first, second = receiver.wait_for(2, DELIVERY_TIMEOUT_S)
    assert first.body == second.body
    assert json.loads(first.body)["type"] == "shipment.delivered"


def test_a_poison_message_reaches_the_events_dlq(stack: Deployment) -> None:
    """Locally the redrive count is 2 and visibility 15 s, so this takes about 30 s."""
    sqs = stack.client("sqs")
    marker = f"poison-{uuid.uuid4().hex}"
    sqs.send_message(QueueUrl=stack.outputs["EventsQueueUrl"], MessageBody=f'{{"{marker}": ')
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=stack.outputs["EventsDLQUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=2
        ).get("Messages", [])
        for message in messages:
            sqs.delete_message(
                QueueUrl=stack.outputs["EventsDLQUrl"], ReceiptHandle=message["ReceiptHandle"]
            )
            if marker in message["Body"]:
                return
    raise AssertionError("the poison message never reached EventsDLQ")
