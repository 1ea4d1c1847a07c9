"""The canonical shipment statuses and the webhook event types built from them."""

from enum import StrEnum


class Status(StrEnum):
    """Canonical shipment statuses; a webhook's type is `shipment.<status>`."""

    LABEL_CREATED = "label_created"
    POSTED = "posted"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    RETURNED_TO_SENDER = "returned_to_sender"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"


TEST_EVENT_TYPE = "webhook.test"
ALL_EVENT_TYPES = "*"
EVENT_TYPES: tuple[str, ...] = tuple(f"shipment.{status.value}" for status in Status)
