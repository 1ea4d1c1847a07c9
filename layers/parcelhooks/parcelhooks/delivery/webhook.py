"""The bytes a merchant receives: the Standard Webhooks envelope of an event."""

import json

from parcelhooks.core.operational import OperationalEvent, WebhookEvent

# The fields of `data`, in the order docs/api.md lists them.
DATA_FIELDS = (
    "event_id",
    "carrier",
    "merchant_id",
    "tracking_code",
    "status",
    "status_detail",
    "action_required",
    "occurred_at",
    "occurred_at_zone",
    "estimated_delivery",
    "description",
    "location",
    "order_id",
    "carrier_status",
    "metadata",
    # Where the event stands in its shipment (core/shipments.py).
    "sequence",
    "previous_status",
    "stale",
    "corrects",
    # On shipment.stalled / shipment.late (core/watch.py).
    "alert",
)


def webhook_body(event: WebhookEvent) -> bytes:
    """The same event always serializes to the same bytes, so every retry is identical."""
    if isinstance(event, OperationalEvent):
        envelope = {
            "type": event.type,
            "timestamp": event.model_dump(mode="json", include={"occurred_at"})["occurred_at"],
            "data": event.data.model_dump(mode="json"),
        }
        return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    data = event.model_dump(mode="json", include=set(DATA_FIELDS))
    # Derived from status_detail, not a stored field: computed here, once per body.
    data["action_required"] = event.action_required
    envelope = {
        "type": event.type,
        "timestamp": data["occurred_at"],
        "data": {name: data[name] for name in DATA_FIELDS},
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
