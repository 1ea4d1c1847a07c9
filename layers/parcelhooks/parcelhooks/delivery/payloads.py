"""The webhook body as pydantic models, for the OpenAPI document and the shipments API.

`WebhookData` is made from `ShipmentEvent`'s fields named in `webhook.DATA_FIELDS`, so a
field added to the webhook is described at once, with the type and description it has on
the event (or, for a value the body computes, the property's). Every field is in every
body (null when unknown), so each one is required.

Operational events (`subscription.disabled`, `delivery.exhausted`) have their own bodies:
the same envelope, `data` the event's own model from core/operational.py.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import Field, create_model

from parcelhooks.core.models import Model, ShipmentEvent
from parcelhooks.core.operational import (
    DELIVERY_EXHAUSTED,
    SUBSCRIPTION_DISABLED,
    DeliveryExhausted,
    SubscriptionDisabled,
)
from parcelhooks.core.statuses import (
    ALERT_EVENT_TYPES,
    CORRECTION_EVENT_TYPE,
    EVENT_TYPES,
    TEST_EVENT_TYPE,
)
from parcelhooks.delivery.webhook import DATA_FIELDS

# Every type a webhook can have, in the order the documentation lists them.
WEBHOOK_TYPES: tuple[str, ...] = (
    *EVENT_TYPES,
    CORRECTION_EVENT_TYPE,
    *ALERT_EVENT_TYPES,
    TEST_EVENT_TYPE,
)


def _data_field(name: str) -> tuple[Any, Any]:
    """The type and description of one field of `data`: the event's field, or the property
    the body computes (its return type, its docstring)."""
    info = ShipmentEvent.model_fields.get(name)
    if info is not None:
        return info.annotation, Field(description=info.description)
    derived = getattr(ShipmentEvent, name).fget
    return get_type_hints(derived)["return"], Field(description=inspect.getdoc(derived))


def _data_fields() -> dict[str, Any]:
    return {name: _data_field(name) for name in DATA_FIELDS}


if TYPE_CHECKING:
    # For the type checker a model like any other; at run time, made from the event's fields.
    WebhookData = Model
else:
    WebhookData = create_model(
        "WebhookData",
        __base__=Model,
        __doc__="The event: `data` of every webhook.",
        **_data_fields(),
    )


class WebhookPayload(Model):
    """The body of every webhook (Standard Webhooks envelope)."""

    type: str = Field(
        description="`shipment.<status>`, `shipment.correction` when the carrier withdrew "
        "its previous event, or `webhook.test`.",
        json_schema_extra={"enum": list(WEBHOOK_TYPES)},
    )
    timestamp: datetime = Field(description="When the event occurred (`data.occurred_at`).")
    data: WebhookData


class SubscriptionDisabledPayload(Model):
    """The body of `subscription.disabled`: one of the merchant's subscriptions was disabled."""

    type: Literal["subscription.disabled"]
    timestamp: datetime = Field(description="When it was disabled (`data.disabled_at`).")
    data: SubscriptionDisabled


class DeliveryExhaustedPayload(Model):
    """The body of `delivery.exhausted`: a delivery failed every attempt and was
    dead-lettered."""

    type: Literal["delivery.exhausted"]
    timestamp: datetime = Field(description="Its last attempt (`data.last_attempt_at`).")
    data: DeliveryExhausted


# Each operational event type's body, in the order the documentation lists them.
OPERATIONAL_PAYLOADS: dict[str, type[Model]] = {
    SUBSCRIPTION_DISABLED: SubscriptionDisabledPayload,
    DELIVERY_EXHAUSTED: DeliveryExhaustedPayload,
}
