"""Builders for test data: carrier events, queued events, attempts, subscriptions, API Gateway
and SQS Lambda events, and the handlers as Lambda loads them.

Every time a builder stamps is relative to the `now` it is given. `carrier_event`'s defaults
to the real clock, as a carrier stamps an event just before sending it and most are sent
through a handler or the stack, which read the real clock; a test that hands the code its
clock gives both the same `now`. The records the fakes keep (queued events, attempts,
subscriptions) default to the fixed `NOW` the fakes run on.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from parcelhooks.core.deliveries import AttemptRecord, Outcome, delivery_id_of
from parcelhooks.core.models import CarrierStatus, ShipmentEvent, Subscription
from parcelhooks.core.operational import OperationalEvent, SubscriptionDisabled, WebhookEvent
from parcelhooks.core.shipments import ShipmentKey
from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.delivery.signing import generate_secret

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
# The fixed time of every test that hands the code under test its clock (the `now` fixture).
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def carrier_event(*, now: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """An event as a carrier posts it at `now` (the real clock's time if none), an hour old."""
    occurred_at = (now or datetime.now(UTC)) - timedelta(hours=1)
    event: dict[str, Any] = {
        "carrier_event_id": "ce-1",
        "merchant_id": "merchant-a",
        "tracking_code": "QB123456785BR",
        "status": "delivered",
        "occurred_at": occurred_at.isoformat(timespec="seconds"),
        "description": "Objeto entregue ao destinatário",
        "order_id": "order-1001",
    }
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


def nested(levels: int) -> dict[str, Any]:
    """`{"a": {"a": ... {"leaf": 1}}}`: an object `levels` levels deep."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def shipment_event(*, now: datetime = NOW, **overrides: Any) -> ShipmentEvent:
    """An event as ingest queues it, received at `now`."""
    fields: dict[str, Any] = {
        "event_id": "evt_01TEST",
        "carrier": "carrier-x",
        "carrier_event_id": "ce-1",
        "merchant_id": "merchant-a",
        "tracking_code": "QB123456785BR",
        "status": Status.DELIVERED,
        "occurred_at": now - timedelta(hours=2, minutes=45),
        "received_at": now,
    }
    fields.update(overrides)
    return ShipmentEvent(**fields)


def attempt_record(*, now: datetime = NOW, **overrides: Any) -> AttemptRecord:
    """A delivery attempt made at `now`."""
    outcome = overrides.get("outcome", "delivered")
    fields: dict[str, Any] = {
        "delivery_id": "dlv_1",
        "event_id": "evt_1",
        "event_type": "shipment.delivered",
        "subscription_id": "sub_1",
        "merchant_id": "merchant-a",
        "attempt": 1,
        "attempted_at": now,
        "outcome": outcome,
        "status_code": 204 if outcome == "delivered" else 500,
        "error": None,
        "latency_ms": 42.0,
        "response_excerpt": "",
        "next_attempt_at": None,
    }
    fields.update(overrides)
    return AttemptRecord(**fields)


def held_attempt(
    subscription_id: str, event: WebhookEvent, at: datetime, attempt: int = 1
) -> AttemptRecord:
    """A log line as the fan-out writes it for a disabled subscription."""
    return attempt_record(
        delivery_id=delivery_id_of(event, subscription_id),
        event_id=event.event_id,
        event_type=event.type,
        subscription_id=subscription_id,
        attempt=attempt,
        attempted_at=at,
        outcome=Outcome.HELD,
        status_code=None,
        error="disabled by the merchant",
        latency_ms=0.0,
        event=event,
    )


def disabled_notice(event_id: str, occurred_at: datetime) -> OperationalEvent:
    """A subscription.disabled about another subscription of merchant-a (sub_other)."""
    return OperationalEvent(
        event_id=event_id,
        merchant_id="merchant-a",
        type="subscription.disabled",
        occurred_at=occurred_at,
        about_subscription_id="sub_other",
        data=SubscriptionDisabled(
            subscription_id="sub_other",
            url="https://other.example.com/",
            disabled_by="gone",
            reason="endpoint answered 410 Gone at attempt 1",
            disabled_at=occurred_at,
        ),
    )


def subscription(*, now: datetime = NOW, **overrides: Any) -> Subscription:
    """A subscription created at `now`."""
    fields: dict[str, Any] = {
        "id": "sub_1",
        "merchant_id": "merchant-a",
        "url": "https://hooks.example.com/parcel",
        "event_types": ["*"],
        "secrets": [generate_secret()],
        "created_at": now,
    }
    fields.update(overrides)
    return Subscription(**fields)


def _unsigned(content: Any) -> str:
    """What an attacker can make without the key: the old format, or ours re-encoded."""
    return base64.urlsafe_b64encode(json.dumps(content).encode()).decode()


_FIRST_KEY = {"merchant_id": "merchant-a", "subscription_id": "sub_1"}
# Page cursors nobody signed, or that are no cursor at all ("" is the first page).
FORGED_CURSORS = [
    _unsigned({"merchant_id": "merchant-a"}),  # a key with parts missing
    _unsigned({"merchant_id": "merchant-a", "subscription_id": 7}),  # a number
    _unsigned({"merchant_id": "merchant-a", "subscription_id": 1.5e300}),  # a float
    _unsigned(["merchant-a"]),
    _unsigned(
        {
            "s": "subscriptions/merchant-a",
            "k": {"merchant_id": "merchant-a", "subscription_id": "sub_1"},
        }
    )
    + ".AAAAAAAAAAAAAAAAAAAAAA",
    "!!!",
    "a.b.c",
    "é" * 10,
    "A" * 5000,
    "",
]


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    role: str | None = None,
    owner_id: str = "merchant-a",
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the authorizer leaves it."""
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    authorizer = {"role": role, "owner_id": owner_id, "key_id": "key_1"} if role else {}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-1",
            "authorizer": authorizer,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"msg-{index}",
                "receiptHandle": f"rh-{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:EventsQueue",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (every handler is `app`)."""
    module_name = f"function_{name}_app"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class LambdaContextStub:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# One shipment's history, hour by hour from HISTORY_START (the shipment tests of both tiers).
HISTORY_START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HISTORY_KEY = ShipmentKey("merchant-a", "carrier-x", "TRK-0001")


def history_event(event_id: str, status: Status, hour: int, **overrides: Any) -> ShipmentEvent:
    """An event of HISTORY_KEY's shipment, `hour` hours after HISTORY_START."""
    fields: dict[str, Any] = {
        "event_id": event_id,
        "carrier_event_id": event_id,
        "tracking_code": HISTORY_KEY.tracking_code,
        "status": status,
        "occurred_at": HISTORY_START + timedelta(hours=hour),
    }
    return shipment_event(**(fields | overrides))


def history_correction(event_id: str, hour: int) -> ShipmentEvent:
    """Correios EST: "Favor desconsiderar a informação anterior"."""
    return history_event(
        event_id,
        Status.IN_TRANSIT,
        hour,
        status_detail=StatusDetail.CORRECTION,
        carrier_status=CarrierStatus(type="EST", code="01"),
    )
