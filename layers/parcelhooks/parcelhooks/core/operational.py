"""Operational events: what the platform tells a merchant about its own endpoints.

`subscription.disabled` (an endpoint answered 410, or failed long enough for the circuit
breaker) and `delivery.exhausted` (a delivery went to the dead-letter queue) travel the
same queues, signing and retries as shipment events, but never to the subscription they
describe: a failing endpoint would not hear of its own failure anyway. Only subscriptions
that name them get them: `"*"` means every shipment event type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from parcelhooks.core.models import Model, ShipmentEvent, WithdrawnEvent
from parcelhooks.core.statuses import OPERATIONAL_EVENT_TYPES

SUBSCRIPTION_DISABLED, DELIVERY_EXHAUSTED = OPERATIONAL_EVENT_TYPES

DisabledBy = Literal["gone", "breaker"]


class SubscriptionDisabled(Model):
    """`data` of `subscription.disabled`."""

    subscription_id: str
    url: str | None = Field(description="The endpoint (null for an e-mail destination).")
    disabled_by: DisabledBy = Field(
        description="`gone`: the endpoint answered 410 Gone; `breaker`: every delivery to "
        "it failed for longer than the platform allows."
    )
    reason: str
    disabled_at: datetime
    failing_since: datetime | None = Field(
        default=None, description="When the failures began (the breaker only)."
    )
    consecutive_failures: int = 0


class DeliveryExhausted(Model):
    """`data` of `delivery.exhausted`: every attempt failed; the delivery is dead-lettered."""

    delivery_id: str
    subscription_id: str
    event_id: str
    event_type: str
    tracking_code: str | None = None
    order_id: str | None = None
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    first_attempt_at: datetime
    last_attempt_at: datetime


class OperationalEvent(Model):
    """An operational event as it travels on the queues."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["operational"] = "operational"
    event_id: str
    merchant_id: str
    type: Literal["subscription.disabled", "delivery.exhausted"]
    occurred_at: datetime
    # The subscription the event is about: it is never sent there.
    about_subscription_id: str
    data: SubscriptionDisabled | DeliveryExhausted

    # What the fan-out asks of every event; an operational one is never stale or a correction.
    @property
    def stale(self) -> bool:
        return False

    @property
    def corrects(self) -> WithdrawnEvent | None:
        return None


def _kind(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return "operational" if kind == "operational" else "shipment"


# Anything a webhook can carry, told apart by `kind` (shipment events have none).
WebhookEvent = Annotated[
    Annotated[ShipmentEvent, Tag("shipment")] | Annotated[OperationalEvent, Tag("operational")],
    Discriminator(_kind),
]
