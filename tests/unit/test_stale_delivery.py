"""Stale events and corrections on the delivery side: include_stale, the skipped_stale log
line, who receives a correction, the webhook body and its OpenAPI `webhooks` section."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from parcelhooks.core.deliveries import DeliveryJob, Outcome, delivery_id_of
from parcelhooks.core.models import WithdrawnEvent
from parcelhooks.core.operational import OPERATIONAL_EVENT_TYPES
from parcelhooks.core.statuses import Status
from parcelhooks.delivery.payloads import WEBHOOK_TYPES, WebhookPayload
from parcelhooks.delivery.webhook import webhook_body
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import FanoutKit

ALL = subscription(id="sub_all", url="https://a.example/all")
FRESH_ONLY = subscription(id="sub_fresh", url="https://b.example/fresh", include_stale=False)


def _run(kit: FanoutKit, body: str) -> None:
    asyncio.run(kit.fanout.handle_message(body))


def test_a_stale_event_is_sent_flagged_by_default_and_skipped_where_include_stale_is_false() -> (
    None
):
    kit = FanoutKit([ALL, FRESH_ONLY])
    late = shipment_event(status=Status.IN_TRANSIT, sequence=3, stale=True)
    _run(kit, late.model_dump_json())
    [request] = kit.sender.requests
    assert request.url == ALL.url and json.loads(request.body)["data"]["stale"] is True
    skipped = next(r for r in kit.log.attempts if r.subscription_id == FRESH_ONLY.id)
    assert (skipped.outcome, skipped.status_code, skipped.attempt) == (
        Outcome.SKIPPED_STALE,
        None,
        1,
    )
    assert skipped.event == late  # kept, so the merchant's retry can send it
    assert delivery_id_of(late, FRESH_ONLY.id) in kit.log.done
    # The same message again (SQS redelivery): nothing is sent or logged twice.
    _run(kit, late.model_dump_json())
    assert len(kit.sender.requests) == 1 and len(kit.log.attempts) == 2


def test_an_event_that_is_not_stale_goes_to_every_subscription() -> None:
    kit = FanoutKit([ALL, FRESH_ONLY])
    _run(kit, shipment_event(sequence=2, stale=False).model_dump_json())
    assert sorted(r.url for r in kit.sender.requests) == [ALL.url, FRESH_ONLY.url]


def _job(*, force: bool) -> DeliveryJob:
    event = shipment_event(stale=True, sequence=4)
    return DeliveryJob(
        delivery_id=delivery_id_of(event, FRESH_ONLY.id),
        event=event,
        subscription_id=FRESH_ONLY.id,
        merchant_id=FRESH_ONLY.merchant_id,
        attempt=2,
        due_at=NOW,
        first_attempt_at=NOW,
        last_attempt_at=NOW,
        force=force,
        origin="merchant" if force else "schedule",
    )


def test_a_scheduled_retry_of_a_stale_event_is_skipped_but_the_merchants_retry_is_sent() -> None:
    kit = FanoutKit([FRESH_ONLY])
    _run(kit, _job(force=False).model_dump_json())
    assert kit.sender.requests == [] and kit.log.attempts[0].outcome == Outcome.SKIPPED_STALE
    _run(kit, _job(force=True).model_dump_json())
    assert [r.url for r in kit.sender.requests] == [FRESH_ONLY.url]


def _correction() -> Any:
    withdrawn = WithdrawnEvent(
        event_id="evt_delivered", sequence=2, status=Status.DELIVERED, occurred_at=NOW
    )
    return shipment_event(
        event_id="evt_fix",
        status=Status.IN_TRANSIT,
        previous_status=Status.DELIVERED,
        sequence=3,
        correction=True,
        corrects=withdrawn,
    )


def test_a_correction_reaches_whoever_wants_corrections_or_received_the_withdrawn_type() -> None:
    wants_delivered = subscription(
        id="sub_d", url="https://a.example/d", event_types=["shipment.delivered"]
    )
    wants_fixes = subscription(
        id="sub_c", url="https://a.example/c", event_types=["shipment.correction"]
    )
    wants_posted = subscription(
        id="sub_p", url="https://a.example/p", event_types=["shipment.posted"]
    )
    kit = FanoutKit([wants_delivered, wants_fixes, wants_posted])
    _run(kit, _correction().model_dump_json())
    assert sorted(r.url for r in kit.sender.requests) == [wants_fixes.url, wants_delivered.url]
    body = json.loads(kit.sender.requests[0].body)
    assert body["type"] == "shipment.correction"
    assert body["data"]["corrects"]["event_id"] == "evt_delivered"
    assert (body["data"]["status"], body["data"]["previous_status"]) == ("in_transit", "delivered")


def test_the_webhook_body_is_what_the_openapi_document_describes() -> None:
    for event in (shipment_event(), _correction(), shipment_event(test=True)):
        body = json.loads(webhook_body(event))
        payload = WebhookPayload.model_validate(body)
        assert payload.model_dump(mode="json") == body  # nothing missing, nothing extra
        assert body["type"] in WEBHOOK_TYPES
    body = json.loads(webhook_body(shipment_event()))
    assert (body["data"]["sequence"], body["data"]["previous_status"]) == (None, None)
    assert (body["data"]["stale"], body["data"]["corrects"]) == (False, None)


def test_the_openapi_document_has_a_webhook_for_every_event_type() -> None:
    from devstack.openapi import current_document

    document = current_document()
    # Shipment events share WebhookPayload; operational ones (test_openapi.py) have their own.
    assert list(document["webhooks"]) == [*WEBHOOK_TYPES, *OPERATIONAL_EVENT_TYPES]
    for event_type in WEBHOOK_TYPES:
        webhook = document["webhooks"][event_type]
        schema = webhook["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["allOf"][0] == {"$ref": "#/components/schemas/WebhookPayload"}
        assert schema["allOf"][1]["properties"]["type"]["const"] == event_type
    data = document["components"]["schemas"]["WebhookData"]
    assert {"sequence", "previous_status", "stale", "corrects"} <= set(data["required"])
    assert "shipment.correction" in str(document["components"]["schemas"]["SubscriptionIn"])
