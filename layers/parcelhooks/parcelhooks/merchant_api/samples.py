"""Sample events: what a template is checked against when it is saved, what a preview
renders when the merchant gives no event of their own, and what a test sends.

A sample's `data.metadata` answers every key a template asks for with a plausible value
(an address for `…email…`, a phone for `…phone…`): the merchant's events carry their own
metadata, which parcelhooks cannot know when the template is saved.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from parcelhooks.core.models import (
    CarrierStatus,
    Location,
    ShipmentAlert,
    ShipmentEvent,
    WithdrawnEvent,
)
from parcelhooks.core.operational import (
    DELIVERY_EXHAUSTED,
    SUBSCRIPTION_DISABLED,
    DeliveryExhausted,
    OperationalEvent,
    SubscriptionDisabled,
    WebhookEvent,
)
from parcelhooks.core.statuses import (
    ALERT_EVENT_TYPES,
    CORRECTION_EVENT_TYPE,
    TEST_EVENT_TYPE,
    VOCABULARY,
    Status,
)

SAMPLE_CARRIER = "parcelhooks"
SAMPLE_ORDER = "PEDIDO-1001"
SAMPLE_TRACKING_CODE = "TEST00000000BR"


# What a sample event's metadata shows in a preview.
SAMPLE_METADATA = {
    "buyer_name": "Maria",
    "buyer_email": "comprador@example.com",
    "buyer_phone": "+55 81 99999-0000",
}


class SampleMetadata(dict[str, Any]):
    """Metadata that has every key: what a saved template may ask of a real event."""

    def __missing__(self, key: str) -> str:
        lowered = key.lower()
        if "mail" in lowered:
            return "comprador@example.com"
        if "phone" in lowered or "fone" in lowered or "whats" in lowered or "celular" in lowered:
            return "+55 81 99999-0000"
        if "name" in lowered or "nome" in lowered:
            return "Maria"
        return f"exemplo-{key}"


def sample_event(event_type: str, merchant_id: str, now: datetime) -> WebhookEvent:
    """An event of this type, as the merchant's endpoint would receive it."""
    if event_type == SUBSCRIPTION_DISABLED:
        return OperationalEvent(
            event_id="evt_sample_disabled",
            merchant_id=merchant_id,
            type=SUBSCRIPTION_DISABLED,
            occurred_at=now,
            about_subscription_id="sub_sample",
            data=SubscriptionDisabled(
                subscription_id="sub_sample",
                url="https://erp.example.com/webhooks",
                disabled_by="breaker",
                reason="every delivery failed for 120 h (10 failures)",
                disabled_at=now,
                failing_since=now - timedelta(hours=120),
                consecutive_failures=10,
            ),
        )
    if event_type == DELIVERY_EXHAUSTED:
        return OperationalEvent(
            event_id="evt_sample_exhausted",
            merchant_id=merchant_id,
            type=DELIVERY_EXHAUSTED,
            occurred_at=now,
            about_subscription_id="sub_sample",
            data=DeliveryExhausted(
                delivery_id="dlv_sample",
                subscription_id="sub_sample",
                event_id="evt_sample",
                event_type="shipment.delivered",
                attempts=8,
                last_status=503,
                last_error=None,
                first_attempt_at=now - timedelta(hours=27),
                last_attempt_at=now,
            ),
        )
    return _shipment_sample(event_type, merchant_id, now)


def _shipment_sample(event_type: str, merchant_id: str, now: datetime) -> ShipmentEvent:
    correction = event_type == CORRECTION_EVENT_TYPE
    test = event_type == TEST_EVENT_TYPE
    alert = _sample_alert(event_type, now)
    named = correction or test or alert is not None
    status = Status.DELIVERED if named else Status(event_type.split(".", 1)[1])
    if alert is not None:
        status = Status.IN_TRANSIT
    details = list(VOCABULARY.get(status, {}))
    return ShipmentEvent(
        event_id="evt_sample",
        carrier=SAMPLE_CARRIER,
        carrier_event_id="sample",
        merchant_id=merchant_id,
        tracking_code=SAMPLE_TRACKING_CODE,
        status=Status.IN_TRANSIT if correction else status,
        status_detail=details[0] if details and not correction else None,
        occurred_at=now,
        received_at=now,
        description="Exemplo de evento do parcelhooks",
        location=Location(city="Recife", state="PE", country="BR", postal_code="50000-000"),
        order_id=SAMPLE_ORDER,
        carrier_status=CarrierStatus(code="BDE", type="01", description="Objeto entregue"),
        metadata=dict(SAMPLE_METADATA),
        estimated_delivery=(now + timedelta(days=3)).date() if not test else date(2026, 12, 12),
        sequence=None if test else 3,
        previous_status=None if test else Status.OUT_FOR_DELIVERY,
        test=test,
        correction=correction,
        corrects=(
            WithdrawnEvent(
                event_id="evt_sample_withdrawn",
                sequence=2,
                status=Status.DELIVERED,
                occurred_at=now - timedelta(hours=1),
            )
            if correction
            else None
        ),
        alert=alert,
    )


def _sample_alert(event_type: str, now: datetime) -> ShipmentAlert | None:
    if event_type not in ALERT_EVENT_TYPES:
        return None
    stalled = event_type == "shipment.stalled"
    return ShipmentAlert(
        kind="stalled" if stalled else "late",
        stalled_since=now - timedelta(days=6),
        promised=(now - timedelta(days=2)).date(),
        business_days=4 if stalled else 2,
    )


def sample_now() -> datetime:
    return datetime.now(UTC)
