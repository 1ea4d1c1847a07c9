"""What a merchant can read of its shipments: `GET /v1/shipments/{tracking_code}`, and
`GET /v1/shipments?order_id=` for every shipment of one of its orders.

For a system that was down (an ERP, a WhatsApp service) and must catch up without waiting
for webhooks: each shipment's latest status and its events in sequence order, each event
exactly as its webhook carried it. One tracking code may name shipments at several
carriers; the answer holds all of them (the `carrier` query parameter narrows it to one).
The code is read as ingest reads it (ingest/tracking_codes.py), so an S10 code is found in
any case. Only the key's own shipments exist here: another merchant's tracking code is a 404.
"""

from __future__ import annotations

import json
from typing import Protocol

from pydantic import Field

from parcelhooks.core.errors import NotFoundError
from parcelhooks.core.messages import buyer_message
from parcelhooks.core.models import Model, ShipmentEvent
from parcelhooks.core.shipments import ShipmentState
from parcelhooks.core.statuses import Status
from parcelhooks.delivery.public import WebhookPayload, webhook_body
from parcelhooks.ingest.public import check_tracking_code

# Per shipment; older events are left out (`events_truncated`). A shipment has tens.
MAX_EVENTS = 200


class ShipmentReader(Protocol):
    def states(
        self, merchant_id: str, tracking_code: str, carrier: str | None
    ) -> dict[str, ShipmentState]: ...

    def events(
        self, merchant_id: str, tracking_code: str, carrier: str, limit: int
    ) -> tuple[list[ShipmentEvent], bool]: ...

    def shipments_of_order(self, merchant_id: str, order_id: str) -> list[tuple[str, str]]: ...


class BuyerMessageOut(Model):
    pt_BR: str  # noqa: N815 - the locale's own spelling, as templates read it
    en: str


class ShipmentEventOut(WebhookPayload):
    """An event as its webhook carried it, whether a correction withdrew it since, and the
    sentence that tells the buyer about it."""

    withdrawn_by: str | None = Field(
        description="The event_id of the shipment.correction that withdrew this event; "
        "null while it stands."
    )
    message: BuyerMessageOut = Field(
        description="The buyer's sentence for the event in Brazilian Portuguese and English, "
        "as templates read it (`message.pt_BR`, `message.en`; docs/statuses.md)."
    )


class ShipmentOut(Model):
    carrier: str
    tracking_code: str
    status: Status | None = Field(
        description="The shipment's status: that of its latest standing event (the one "
        "that occurred last, corrections set aside); null when none stands."
    )
    latest: ShipmentEventOut | None = Field(
        description="That event in full (detail, location, ETA, ...); null when none "
        "stands or it is older than the events kept."
    )
    last_sequence: int = Field(description="The sequence of the last event accepted.")
    events: list[ShipmentEventOut] = Field(description="In sequence order (acceptance order).")
    events_truncated: bool = Field(
        description=f"True when older events were left out (at most {MAX_EVENTS} are listed)."
    )


class ShipmentsOut(Model):
    tracking_code: str
    data: list[ShipmentOut] = Field(description="One shipment per carrier, by carrier id.")


class OrderShipmentsOut(Model):
    order_id: str
    data: list[ShipmentOut] = Field(
        description="Every shipment an event named this order in, by tracking code, then "
        "carrier (empty when none did)."
    )


class Shipments:
    def __init__(self, reader: ShipmentReader, max_events: int = MAX_EVENTS) -> None:
        self._reader = reader
        self._max_events = max_events

    def get(self, merchant_id: str, code: str, carrier: str | None) -> ShipmentsOut:
        """The shipments under `code`, read as ingest read the carrier's (an S10 code in any
        case)."""
        try:
            tracking_code = check_tracking_code(code)
        except ValueError:
            # Ingest never accepts such a code: nothing can be stored under it.
            raise NotFoundError(f"no shipment {code[:64]}") from None
        states = self._reader.states(merchant_id, tracking_code, carrier)
        if not states:
            raise NotFoundError(f"no shipment {tracking_code}")
        shipments = [
            self._shipment(merchant_id, tracking_code, name, state)
            for name, state in sorted(states.items())
        ]
        return ShipmentsOut(tracking_code=tracking_code, data=shipments)

    def of_order(self, merchant_id: str, order_id: str) -> OrderShipmentsOut:
        """The merchant's shipments filed under `order_id` (by an event that named it)."""
        shipments = []
        for tracking_code, carrier in self._reader.shipments_of_order(merchant_id, order_id):
            states = self._reader.states(merchant_id, tracking_code, carrier)
            if carrier in states:  # expired since the index was read: left out
                shipments.append(
                    self._shipment(merchant_id, tracking_code, carrier, states[carrier])
                )
        return OrderShipmentsOut(order_id=order_id, data=shipments)

    def _shipment(
        self, merchant_id: str, tracking_code: str, carrier: str, state: ShipmentState
    ) -> ShipmentOut:
        events, truncated = self._reader.events(
            merchant_id, tracking_code, carrier, self._max_events
        )
        # What the merchant was sent: a correction in the history names what it withdrew.
        withdrawn = {e.corrects.event_id: e.event_id for e in events if e.corrects}
        listed = {e.event_id: _out(e, withdrawn.get(e.event_id)) for e in events}
        latest = state.latest
        return ShipmentOut(
            carrier=carrier,
            tracking_code=tracking_code,
            status=latest.status if latest else None,
            latest=listed.get(latest.event_id) if latest else None,
            last_sequence=state.last_sequence,
            events=list(listed.values()),
            events_truncated=truncated,
        )


def _out(event: ShipmentEvent, withdrawn_by: str | None) -> ShipmentEventOut:
    # The webhook's own bytes, read back: the history cannot drift from what was sent.
    message = buyer_message(event)
    return ShipmentEventOut(
        **json.loads(webhook_body(event)),
        withdrawn_by=withdrawn_by,
        message=BuyerMessageOut(pt_BR=message.pt_BR, en=message.en),
    )
