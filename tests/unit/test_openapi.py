"""docs/openapi.json is what the code serves. (That it describes every route template.yaml
deploys: tests/component/test_template.py.)"""

import json
from datetime import timedelta

from devstack.openapi import current_document, render
from devstack.stack import ROOT
from parcelhooks.core.deliveries import DeadLetter, delivery_id_of
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.operational import OPERATIONAL_EVENT_TYPES, OperationalEvent
from parcelhooks.delivery import notices
from parcelhooks.delivery.payloads import OPERATIONAL_PAYLOADS
from parcelhooks.delivery.webhook import webhook_body
from testkit.factories import (
    NOW,
    LambdaContextStub,
    api_event,
    load_function,
    shipment_event,
    subscription,
)

DOCUMENT = ROOT / "docs" / "openapi.json"


def test_docs_openapi_json_matches_the_code() -> None:
    assert DOCUMENT.read_text() == render(current_document()), (
        "docs/openapi.json is out of date: run `make openapi` and commit it"
    )


def test_it_is_openapi_3_1_with_bearer_auth_and_the_error_shape() -> None:
    document = current_document()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (path, method)
            schema = responses["401"]["content"]["application/json"]["schema"]
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/ErrorResponse"}


def test_the_admin_function_serves_it_without_a_key() -> None:
    app = load_function("admin")
    response = app.handler(api_event("GET", "/v1/openapi.json"), LambdaContextStub())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["info"]["title"] == "parcelhooks"


def _notices() -> list[OperationalEvent]:
    """One of each operational event, as the fan-out raises them."""
    gone = notices.subscription_disabled(
        subscription(id="sub_gone"),
        by="breaker",
        reason="every delivery failed",
        at=NOW,
        health=EndpointHealth(consecutive_failures=12, failing_since=NOW - timedelta(days=5)),
    )
    event = shipment_event(order_id="order-1001")
    dead = DeadLetter(
        delivery_id=delivery_id_of(event, "sub_1"),
        event=event,
        subscription_id="sub_1",
        merchant_id="merchant-a",
        attempts=8,
        last_status=500,
        last_error=None,
        first_attempt_at=NOW - timedelta(hours=27),
        last_attempt_at=NOW,
    )
    exhausted = notices.delivery_exhausted(dead)
    assert exhausted is not None
    return [gone, exhausted]


def test_the_operational_webhooks_are_documented_with_the_bodies_we_send() -> None:
    document = current_document()
    for notice in _notices():
        webhook = document["webhooks"][notice.type]["post"]
        schema = webhook["requestBody"]["content"]["application/json"]["schema"]
        payload = OPERATIONAL_PAYLOADS[notice.type]
        assert schema == {"$ref": f"#/components/schemas/{payload.__name__}"}
        assert "never to the subscription it describes" in webhook["description"]
        body = json.loads(webhook_body(notice))
        # Nothing missing, nothing extra: the model reads back exactly the bytes sent.
        assert payload.model_validate(body).model_dump(mode="json") == body
    schemas = document["components"]["schemas"]
    assert {"SubscriptionDisabled", "DeliveryExhausted"} <= set(schemas)


def test_subscriptions_may_ask_for_the_operational_events() -> None:
    filters = current_document()["components"]["schemas"]["SubscriptionIn"]["properties"][
        "event_types"
    ]["items"]["enum"]
    assert {"*", *OPERATIONAL_EVENT_TYPES} <= set(filters)
    assert set(OPERATIONAL_PAYLOADS) == set(OPERATIONAL_EVENT_TYPES)
