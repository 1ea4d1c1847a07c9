"""A merchant's whole loop on the deployed stack: subscribe, test, inspect, recover, rotate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from tests.e2e.conftest import Api, carrier_event, subscribe, wait_for_attempts

TIMEOUT_S = 30


def test_create_test_event_deliveries_and_recover(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory(statuses=[204, 500])  # the test passes, then it breaks
    sub = subscribe(merchant, receiver.url, ["*"])

    sent = merchant.call("POST", f"/v1/subscriptions/{sub['id']}/test")
    assert sent.status_code == 202, sent.text
    [test_hook] = receiver.wait_for(1, TIMEOUT_S)
    payload = Webhook(sub["secret"]).verify(test_hook.body, test_hook.headers)
    assert payload["type"] == "webhook.test"
    [listed] = wait_for_attempts(merchant, sub["id"], 1)
    assert listed["delivery_id"] == sent.json()["delivery_id"]
    assert listed["outcome"] == "delivered" and listed["status_code"] == 204

    # A real event now fails all 4 local attempts (schedule 1,2,4) and is dead-lettered.
    started = datetime.now(UTC) - timedelta(seconds=5)
    carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    failures = wait_for_attempts(merchant, sub["id"], 4, outcome="failure")
    assert sorted(a["attempt"] for a in failures) == [1, 2, 3, 4]
    last, *earlier = failures  # newest first
    # The last one says the delivery is dead-lettered, with that attempt's answer.
    assert (last["attempt"], last["outcome"], last["status_code"]) == (4, "exhausted", 500)
    assert last["next_attempt_at"] is None  # nothing more is planned
    assert [a["outcome"] for a in earlier] == ["retry"] * 3
    assert wait_for_attempts(merchant, sub["id"], 1, outcome="exhausted") == [last]

    receiver.statuses[:] = [204]  # the merchant fixed the endpoint
    recovered = merchant.call(
        "POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": started.isoformat()}
    )
    assert recovered.status_code == 202, recovered.text
    assert recovered.json()["recovered"] == 1
    arrived = receiver.wait_for(6, TIMEOUT_S)  # test + 4 failures + the recovered one
    assert arrived[-1].headers["webhook-id"] == failures[0]["event_id"]
    successes = wait_for_attempts(merchant, sub["id"], 2, outcome="success")
    assert successes[0]["attempt"] == 5


def test_rotation_signs_with_both_secrets_on_the_wire(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory()
    sub = subscribe(merchant, receiver.url, ["*"])
    rotated = merchant.call("POST", f"/v1/subscriptions/{sub['id']}/rotate-secret").json()
    carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    [hook] = receiver.wait_for(1, TIMEOUT_S)
    assert len(hook.headers["webhook-signature"].split(" ")) == 2
    Webhook(sub["secret"]).verify(hook.body, hook.headers)
    Webhook(rotated["secret"]).verify(hook.body, hook.headers)


def test_the_openapi_document_is_served_without_a_key(carrier: Api) -> None:
    response = carrier.session.get(f"{carrier.base}/v1/openapi.json", timeout=30)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/events" in document["paths"] and "/v1/subscriptions" in document["paths"]
