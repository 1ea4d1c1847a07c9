"""Every preset, filled in as a merchant would: accepted by the API, and the exact request its
target documents reaching a loopback receiver through the fan-out and the real HTTP client
(or, for e-mail, the exact mail)."""

import asyncio
import json
from datetime import UTC, datetime
from ipaddress import ip_network
from typing import Any
from urllib.parse import parse_qsl

import pytest
from standardwebhooks import Webhook

from parcelhooks.core.models import EmailDestination, Location, StoredHeader, Subscription
from parcelhooks.delivery.destination import basic_auth_value
from parcelhooks.delivery.http.netguard import GuardPolicy, system_resolver
from parcelhooks.delivery.http.sender import HttpSender
from parcelhooks.delivery.signing import generate_secret
from parcelhooks.merchant_api.presets import PRESETS, Preset, preset
from parcelhooks.wiring import admin as admin_wiring
from testkit.factories import LambdaContextStub, api_event, load_function, shipment_event
from testkit.fakes import FanoutKit
from testkit.presets import filled, markers, pointed_at
from testkit.receivers import Receiver, serving

BUYER = {
    "buyer_name": "Ana",
    "buyer_phone": "+55 (81) 99999-0000",
    "buyer_email": "ana@example.com",
}
LOOPBACK = GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),))


def _event(**overrides: Any):  # type: ignore[no-untyped-def]
    fields: dict[str, Any] = {
        "order_id": "A-1001",
        "tracking_code": "QN242960622BR",
        "metadata": {**BUYER, "bling_order_id": "12345678"},
        "location": Location(city="Recife", state="PE"),
    }
    return shipment_event(**(fields | overrides))


def _stored(body: dict[str, Any], now: datetime) -> Subscription:
    """The create body as the API stores it, secret values sealed as the fakes seal them."""
    headers = [
        StoredHeader(name=h["name"], sealed=f"sealed:{h['value']}")
        if h.get("secret")
        else StoredHeader(name=h["name"], value=h["value"])
        for h in body.get("headers", [])
    ]
    if auth := body.get("basic_auth"):
        value = basic_auth_value(auth["username"], auth["password"])
        headers.append(StoredHeader(name="Authorization", sealed=f"sealed:{value}"))
    email = body.get("email")
    return Subscription(
        id="sub_preset",
        merchant_id="merchant-a",
        kind=body.get("kind", "webhook"),
        url=body.get("url"),
        event_types=body["event_types"],
        filter=body.get("filter"),
        method=body.get("method", "POST"),
        headers=headers,
        content_type=body.get("content_type", "application/json"),
        template=body.get("template"),
        email=EmailDestination.model_validate(email) if email else None,
        metadata=body.get("metadata", {}),
        secrets=[generate_secret()],
        created_at=now,
        rate_limit_per_second=body.get("rate_limit_per_second"),
    )


def _deliver(preset_id: str, event: Any, receiver: Receiver | None = None) -> FanoutKit:
    body = filled(_preset(preset_id))
    if receiver is not None:
        body = pointed_at(body, receiver.url)
    now = datetime.now(UTC)
    kit = FanoutKit([_stored(body, now)], now=now)
    kit.fanout._sender = HttpSender(
        connect_timeout_s=3,
        total_timeout_s=5,
        max_connections=4,
        policy=LOOPBACK,
        resolve=system_resolver,
    )
    asyncio.run(kit.fanout.handle_message(event.model_dump_json()))
    return kit


def _preset(preset_id: str) -> Preset:
    found = preset(preset_id)
    assert found is not None
    return found


@pytest.mark.parametrize("item", PRESETS, ids=lambda p: p.id)
def test_every_marker_of_a_preset_is_explained_and_every_explanation_is_used(item: Preset) -> None:
    assert markers(item.subscription) == {p.name for p in item.fill}
    assert markers(filled(item)) == set()


@pytest.mark.parametrize("item", PRESETS, ids=lambda p: p.id)
def test_every_preset_filled_in_is_accepted_by_the_api(
    item: Preset, moto_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The targets' real hosts, answered as public addresses (no DNS beyond loopback).
    monkeypatch.setattr(admin_wiring, "resolver", lambda: lambda host, port: ["93.184.216.34"])
    app = load_function("admin")
    event = api_event("POST", "/v1/subscriptions", filled(item), role="merchant", owner_id="m-1")
    response = app.handler(event, LambdaContextStub())
    assert response["statusCode"] == 201, response["body"]


def test_whatsapp_cloud_api_gets_a_template_message_when_the_buyer_must_act() -> None:
    with serving(Receiver()) as receiver:
        pickup = _event(status="available_for_pickup", status_detail="post_office")
        kit = _deliver("whatsapp-cloud-action-required", pickup, receiver)
        [got] = receiver.wait_for(1, 5)
    assert got.method == "POST"
    assert got.path == "/webhooks/v23.0/106540352242922/messages"
    assert got.headers["authorization"] == "Bearer EAAJB..."
    assert got.headers["content-type"] == "application/json"
    body = json.loads(got.body)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5581999990000",
        "type": "template",
        "template": {
            "name": "pedido_acao_necessaria",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {
                            "type": "text",
                            "text": body["template"]["components"][0]["parameters"][1]["text"],
                        },
                        {"type": "text", "text": "QN242960622BR"},
                    ],
                }
            ],
        },
    }
    assert "retirada" in body["template"]["components"][0]["parameters"][1]["text"]
    # Still a signed webhook, over the body the target got.
    secret = kit.subscriptions.items[("merchant-a", "sub_preset")].secrets[0].secret
    Webhook(secret).verify(got.body, got.headers)


def test_whatsapp_cloud_api_hears_nothing_of_a_delivery_the_buyer_need_not_act_on() -> None:
    with serving(Receiver()) as receiver:
        kit = _deliver("whatsapp-cloud-action-required", _event(), receiver)
        assert receiver.received == []
    assert kit.log.attempts == []


def test_twilio_gets_a_form_with_basic_auth() -> None:
    with serving(Receiver(statuses=[201])) as receiver:
        _deliver("twilio-whatsapp-delivered", _event(), receiver)
        [got] = receiver.wait_for(1, 5)
    assert (got.method, got.path) == (
        "POST",
        "/webhooks/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json",
    )
    assert got.headers["authorization"] == basic_auth_value(
        "AC0123456789abcdef0123456789abcdef", "f2a1..."
    )
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = dict(parse_qsl(got.body.decode()))
    assert fields["To"] == "whatsapp:+5581999990000"
    assert fields["From"] == "whatsapp:+5511955550000"
    assert fields["Body"] == ("Seu pedido A-1001 foi entregue. Código de rastreio: QN242960622BR")


def test_twilio_content_template_gets_its_variables_as_one_json_field() -> None:
    with serving(Receiver(statuses=[201])) as receiver:
        _deliver("twilio-whatsapp-template-delivered", _event(), receiver)
        [got] = receiver.wait_for(1, 5)
    fields = dict(parse_qsl(got.body.decode()))
    assert fields["ContentSid"].startswith("HX")
    assert json.loads(fields["ContentVariables"]) == {
        "1": "Ana",
        "2": "Seu pedido A-1001 foi entregue.",
        "3": "QN242960622BR",
    }


def test_zapi_gets_the_phone_and_the_message_with_its_client_token() -> None:
    with serving(Receiver()) as receiver:
        _deliver("zapi-status-updates", _event(), receiver)
        [got] = receiver.wait_for(1, 5)
    assert got.method == "POST" and got.path.endswith("/send-text")
    assert "/instances/" in got.path and "/token/" in got.path
    assert got.headers["client-token"] == "Fa1b2c3d4e5f60718293a4b5c6d7e8f90S"
    assert json.loads(got.body) == {
        "phone": "5581999990000",
        "message": "Olá, Ana! Seu pedido A-1001 foi entregue.\nCódigo de rastreio: QN242960622BR",
    }


def test_bling_gets_a_patch_of_the_orders_situation() -> None:
    with serving(Receiver()) as receiver:
        _deliver("bling-order-delivered", _event(), receiver)
        [got] = receiver.wait_for(1, 5)
    assert (got.method, got.path) == (
        "PATCH",
        "/webhooks/Api/v3/pedidos/vendas/12345678/situacoes/9",
    )
    assert got.headers["authorization"] == "Bearer eyJhbGciOi..."
    assert got.headers["enable-jwt"] == "1"
    assert json.loads(got.body) == {}


def test_the_thank_you_email_is_sent_to_the_buyer_in_portuguese() -> None:
    kit = _deliver("email-delivered-thank-you", _event())
    [mail] = kit.mailer.sent
    assert mail.to == ("ana@example.com",)
    assert "A-1001" in mail.subject or "entregue" in mail.subject.lower()
    assert mail.text is not None and "Seu pedido A-1001 foi entregue." in mail.text
    assert mail.html is not None and "<p>Olá, Ana!</p>" in mail.html
