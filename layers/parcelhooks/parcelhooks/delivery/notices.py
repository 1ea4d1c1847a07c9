"""The operational events the fan-out raises about a merchant's own endpoints."""

from __future__ import annotations

from datetime import datetime

from parcelhooks.core.deliveries import DeadLetter
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.ids import operational_event_id
from parcelhooks.core.models import ShipmentEvent, Subscription
from parcelhooks.core.operational import (
    DELIVERY_EXHAUSTED,
    SUBSCRIPTION_DISABLED,
    DeliveryExhausted,
    DisabledBy,
    OperationalEvent,
    SubscriptionDisabled,
)


def subscription_disabled(
    subscription: Subscription,
    *,
    by: DisabledBy,
    reason: str,
    at: datetime,
    health: EndpointHealth | None,
) -> OperationalEvent:
    return OperationalEvent(
        event_id=operational_event_id(
            SUBSCRIPTION_DISABLED, f"{subscription.id}\x00{at.isoformat()}"
        ),
        merchant_id=subscription.merchant_id,
        type=SUBSCRIPTION_DISABLED,
        occurred_at=at,
        about_subscription_id=subscription.id,
        data=SubscriptionDisabled(
            subscription_id=subscription.id,
            url=subscription.url,
            disabled_by=by,
            reason=reason,
            disabled_at=at,
            failing_since=health.failing_since if health and by == "breaker" else None,
            consecutive_failures=health.consecutive_failures if health else 0,
        ),
    )


def delivery_exhausted(dead: DeadLetter) -> OperationalEvent | None:
    """None for an operational event's own delivery: a notice about a notice could loop."""
    event = dead.event
    if not isinstance(event, ShipmentEvent):
        return None
    return OperationalEvent(
        event_id=operational_event_id(DELIVERY_EXHAUSTED, f"{dead.delivery_id}\x00{dead.attempts}"),
        merchant_id=dead.merchant_id,
        type=DELIVERY_EXHAUSTED,
        occurred_at=dead.last_attempt_at,
        about_subscription_id=dead.subscription_id,
        data=DeliveryExhausted(
            delivery_id=dead.delivery_id,
            subscription_id=dead.subscription_id,
            event_id=event.event_id,
            event_type=event.type,
            tracking_code=event.tracking_code,
            order_id=event.order_id,
            attempts=dead.attempts,
            last_status=dead.last_status,
            last_error=dead.last_error,
            first_attempt_at=dead.first_attempt_at,
            last_attempt_at=dead.last_attempt_at,
        ),
    )
