"""Straight to the target, on the real stack: an ERP, a WhatsApp sender and a buyer's inbox,
each set up with one API call, each getting exactly its own request from one carrier batch."""

from __future__ import annotations

import json
import uuid
from typing import Any

from devstack.mail import Mailbox
from parcelhooks.merchant_api.presets import Preset
from testkit.presets import filled, pointed_at
from tests.e2e.conftest import Api, carrier_event, wait_for_attempts

DELIVERY_TIMEOUT_S = 30
ERP_TOKEN = "erp-token-" + uuid.uuid4().hex


def _create(merchant: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = merchant.call("POST", "/v1/subscriptions", body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _preset_body(merchant: Api, preset_id: str, **values: str) -> dict[str, Any]:
    """The preset as GET /v1/presets serves it, filled in."""
    listed = merchant.call("GET", "/v1/presets")
    assert listed.status_code == 200, listed.text
    [found] = [Preset.model_validate(p) for p in listed.json()["data"] if p["id"] == preset_id]
    return filled(found, values)


def test_an_erp_a_whatsapp_sender_and_an_inbox_each_get_exactly_their_own_request(
    carrier: Api, merchant: Api, receiver_factory: Any, mailbox: Mailbox
) -> None:
    erp, whatsapp = receiver_factory(), receiver_factory()
    buyer = f"comprador-{uuid.uuid4().hex[:8]}@example.com"
    update_erp = _create(
        merchant,
        {
            "url": erp.url + "/orders/{{ data.order_id }}/tracking",
            "event_types": ["*"],
            "filter": {"data": {"status": ["delivered"]}},
            "method": "PUT",
            "headers": [{"name": "Authorization", "value": f"Bearer {ERP_TOKEN}", "secret": True}],
            "template": '{"status": "{{ data.status }}", "tracking_code": '
            '"{{ data.tracking_code }}", "delivered_at": "{{ data.occurred_at }}"}',
        },
    )
    tell_buyer = _create(
        merchant,
        pointed_at(_preset_body(merchant, "whatsapp-cloud-action-required"), whatsapp.url),
    )
    thank_buyer = _create(
        merchant,
        _preset_body(merchant, "email-delivered-thank-you", **{"<STORE_NAME>": "Loja da Ana"}),
    )
    assert update_erp["headers"][0]["value"] == "********"
    preview = merchant.call(
        "POST", f"/v1/subscriptions/{update_erp['id']}/preview", {"data": {"order_id": "E-1"}}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["request"]["url"] == erp.url + "/orders/E-1/tracking"
    assert preview.json()["request"]["headers"]["Authorization"] == "********"

    metadata = {"buyer_name": "Ana", "buyer_phone": "+55 81 99999-0000", "buyer_email": buyer}
    batch = {
        "events": [
            carrier_event(merchant.owner_id, order_id="E-1", metadata=metadata),
            carrier_event(
                merchant.owner_id,
                order_id="E-2",
                status="available_for_pickup",
                status_detail="post_office",
                tracking_code="QB000000014BR",
                metadata=metadata,
            ),
            carrier_event(
                merchant.owner_id,
                order_id="E-3",
                status="posted",
                tracking_code="QB000000028BR",
                metadata=metadata,
            ),
        ]
    }
    accepted = carrier.call("POST", "/v1/events", batch)
    assert accepted.status_code == 202, accepted.text

    [to_erp] = erp.wait_for(1, DELIVERY_TIMEOUT_S)
    assert (to_erp.method, to_erp.path) == ("PUT", "/webhooks/orders/E-1/tracking")
    assert to_erp.headers["authorization"] == f"Bearer {ERP_TOKEN}"
    assert json.loads(to_erp.body)["status"] == "delivered"

    [to_whatsapp] = whatsapp.wait_for(1, DELIVERY_TIMEOUT_S)
    message = json.loads(to_whatsapp.body)
    assert message["to"] == "5581999990000" and message["type"] == "template"
    sentence = message["template"]["components"][0]["parameters"][1]["text"]
    assert sentence.startswith("Seu pedido E-2 está disponível para retirada")

    mail = mailbox.wait_for(lambda m: m["To"] == buyer, DELIVERY_TIMEOUT_S)
    assert "E-1" in mail["Subject"] or "entregue" in mail["Subject"].lower()
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None and "Seu pedido E-1 foi entregue." in text.get_content()

    # Each logged exactly one delivery, and nothing else reached any of them.
    for subscription in (update_erp, tell_buyer, thank_buyer):
        [line] = wait_for_attempts(merchant, subscription["id"])
        assert line["outcome"] == "delivered"
    assert len(erp.received) == 1 and len(whatsapp.received) == 1
    assert [m["To"] for m in mailbox.messages() if m["To"] == buyer] == [buyer]
