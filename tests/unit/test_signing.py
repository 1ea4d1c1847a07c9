import base64
import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from parcelhooks.delivery.signing import generate_secret, webhook_headers
from parcelhooks.delivery.webhook import DATA_FIELDS, webhook_body
from testkit.factories import shipment_event


def _now() -> int:
    return int(time.time())


def test_standard_webhooks_verifies_our_signature() -> None:
    secret = generate_secret()
    body = webhook_body(shipment_event())
    headers = webhook_headers([secret], "evt_1", _now(), body)
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "shipment.delivered"


def test_a_tampered_body_fails_verification() -> None:
    secret = generate_secret()
    body = webhook_body(shipment_event())
    headers = webhook_headers([secret], "evt_1", _now(), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"delivered", b"returned"), headers)


def test_during_rotation_receivers_on_either_secret_verify() -> None:
    old, new = generate_secret(), generate_secret()
    body = webhook_body(shipment_event())
    headers = webhook_headers([new, old], "evt_1", _now(), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_secrets_are_whsec_and_at_least_24_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert secret != generate_secret()


def test_the_body_is_the_contract_envelope_with_data_in_contract_order() -> None:
    payload = json.loads(webhook_body(shipment_event(order_id="order-9")))
    assert payload["type"] == "shipment.delivered"
    assert payload["timestamp"] == payload["data"]["occurred_at"]
    assert tuple(payload["data"]) == DATA_FIELDS
    assert payload["data"]["order_id"] == "order-9"


def test_the_same_event_always_serializes_to_the_same_bytes() -> None:
    assert webhook_body(shipment_event()) == webhook_body(shipment_event())
