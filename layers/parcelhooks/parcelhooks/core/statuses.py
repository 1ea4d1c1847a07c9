"""The canonical shipment statuses, the fixed vocabulary of details under each, and the
webhook event types built from them.

A status says where a shipment stands; its `status_detail` says why or how, from a short
list that belongs to that status alone (`refused` means something under
`delivery_attempted` and something else under `exception`). The lists were drawn up
against the sub-statuses of AfterShip (subtags), 17TRACK, EasyPost (`status_detail`) and
Shippo (`substatus`), kept to what a merchant's system would act on differently.
`action_required` marks the details where the buyer must do something for the parcel to
move on: pay, pick it up, correct the address, send information. docs/statuses.md is
generated from this module.
"""

from collections.abc import Mapping
from dataclasses import dataclass
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
    # A carrier code nobody has mapped yet: delivered as it came rather than refused.
    UNKNOWN = "unknown"


class StatusDetail(StrEnum):
    """Every detail of every status; which ones a status takes is `VOCABULARY`'s to say."""

    INFO_RECEIVED = "info_received"
    PICKUP_SCHEDULED = "pickup_scheduled"
    PICKUP_FAILED = "pickup_failed"
    DROPPED_OFF = "dropped_off"
    PICKED_UP = "picked_up"
    AFTER_CUTOFF = "after_cutoff"
    FORWARDED = "forwarded"
    ARRIVED_AT_FACILITY = "arrived_at_facility"
    ARRIVED_AT_DELIVERY_UNIT = "arrived_at_delivery_unit"
    DELIVERY_SCHEDULED = "delivery_scheduled"
    INTERNATIONAL_ORIGIN = "international_origin"
    INTERNATIONAL_ARRIVAL = "international_arrival"
    CUSTOMS_PROCESSING = "customs_processing"
    CUSTOMS_CLEARED = "customs_cleared"
    PAYMENT_RECEIVED = "payment_received"
    CORRECTION = "correction"
    TO_RECIPIENT = "to_recipient"
    RECIPIENT_ABSENT = "recipient_absent"
    ADDRESS_PROBLEM = "address_problem"
    REFUSED = "refused"
    BUSINESS_CLOSED = "business_closed"
    POST_OFFICE = "post_office"
    LOCKER = "locker"
    PO_BOX = "po_box"
    PICKUP_POINT = "pickup_point"
    TO_NEIGHBOUR = "to_neighbour"
    TO_CONCIERGE = "to_concierge"
    TO_LOCKER = "to_locker"
    DELIVERED_TO_SENDER = "delivered_to_sender"
    RETURNED_TO_ORIGIN_COUNTRY = "returned_to_origin_country"
    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    DESTROYED = "destroyed"
    CUSTOMS_HOLD = "customs_hold"
    SEIZED = "seized"
    PAYMENT_REQUIRED = "payment_required"
    INFORMATION_REQUIRED = "information_required"
    RECIPIENT_MOVED = "recipient_moved"
    RECIPIENT_UNKNOWN = "recipient_unknown"
    UNCLAIMED = "unclaimed"
    HELD = "held"
    DELAYED = "delayed"
    RETURNING = "returning"
    BY_SENDER = "by_sender"
    PICKUP_CANCELLED = "pickup_cancelled"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a detail means under its status, and whether the buyer must act."""

    text: str
    action_required: bool = False


D = StatusDetail
# Each status's details in the order a reader meets them; `other` last wherever it is.
VOCABULARY: Mapping[Status, Mapping[StatusDetail, Meaning]] = {
    Status.LABEL_CREATED: {
        D.INFO_RECEIVED: Meaning("the carrier has the shipment's data, not the parcel yet"),
        D.PICKUP_SCHEDULED: Meaning("a collection from the sender is scheduled or under way"),
        D.PICKUP_FAILED: Meaning("the carrier came to collect and did not"),
        D.OTHER: Meaning("anything else before the carrier has the parcel"),
    },
    Status.POSTED: {
        D.DROPPED_OFF: Meaning("handed in at a post office or drop-off point"),
        D.PICKED_UP: Meaning("collected from the sender by the carrier"),
        D.AFTER_CUTOFF: Meaning("handed in after the day's cut-off; it moves the next day"),
        D.OTHER: Meaning("in the carrier's hands some other way"),
    },
    Status.IN_TRANSIT: {
        D.FORWARDED: Meaning("on its way between two of the carrier's units"),
        D.ARRIVED_AT_FACILITY: Meaning("received at a sorting or transit unit"),
        D.ARRIVED_AT_DELIVERY_UNIT: Meaning("at the unit that delivers it; delivery is next"),
        D.DELIVERY_SCHEDULED: Meaning("a delivery date is set, or a cancelled run is rescheduled"),
        D.INTERNATIONAL_ORIGIN: Meaning("at the export unit of the country of origin"),
        D.INTERNATIONAL_ARRIVAL: Meaning("received by the post of the destination country"),
        D.CUSTOMS_PROCESSING: Meaning("under customs or another agency's inspection"),
        D.CUSTOMS_CLEARED: Meaning("released by customs, with or without a tax"),
        D.PAYMENT_RECEIVED: Meaning("the tax or fee due on it is paid"),
        D.CORRECTION: Meaning("the carrier withdraws its previous event for this parcel"),
        D.OTHER: Meaning("moving through the carrier's network"),
    },
    Status.OUT_FOR_DELIVERY: {
        D.TO_RECIPIENT: Meaning("on the vehicle delivering it to the recipient today"),
        D.OTHER: Meaning("out for delivery"),
    },
    Status.DELIVERY_ATTEMPTED: {
        D.RECIPIENT_ABSENT: Meaning("nobody could receive it; the carrier tries again"),
        D.ADDRESS_PROBLEM: Meaning(
            "the address is wrong or incomplete; correct it or it may go back",
            action_required=True,
        ),
        D.REFUSED: Meaning("the recipient refused it at the door"),
        D.BUSINESS_CLOSED: Meaning("the business was closed; delivery the next working day"),
        D.OTHER: Meaning("not delivered this time for another reason; it is tried again"),
    },
    Status.AVAILABLE_FOR_PICKUP: {
        D.POST_OFFICE: Meaning("waiting at a post office or carrier unit", action_required=True),
        D.LOCKER: Meaning("waiting in a parcel locker, for a few days", action_required=True),
        D.PO_BOX: Meaning("waiting in the recipient's PO box", action_required=True),
        D.PICKUP_POINT: Meaning("waiting at a partner pickup point", action_required=True),
        D.OTHER: Meaning("waiting somewhere for the recipient", action_required=True),
    },
    Status.DELIVERED: {
        D.TO_RECIPIENT: Meaning("handed to the recipient or left at the address"),
        D.TO_NEIGHBOUR: Meaning("left with a neighbour, as the sender allows"),
        D.TO_CONCIERGE: Meaning("left with the building's concierge or reception"),
        D.TO_LOCKER: Meaning("put into the recipient's own locker or mailbox"),
        D.PICKED_UP: Meaning("collected by the recipient at a pickup point"),
        D.OTHER: Meaning("delivered"),
    },
    Status.RETURNED_TO_SENDER: {
        D.DELIVERED_TO_SENDER: Meaning("the returned parcel reached the sender"),
        D.RETURNED_TO_ORIGIN_COUNTRY: Meaning("sent back to the post of its country of origin"),
        D.OTHER: Meaning("back with the sender"),
    },
    Status.EXCEPTION: {
        D.LOST: Meaning("the carrier cannot find it (often compensated)"),
        D.STOLEN: Meaning("stolen while with the carrier"),
        D.DAMAGED: Meaning("the parcel or its contents are damaged"),
        D.DESTROYED: Meaning("destroyed, on the sender's or an authority's decision"),
        D.CUSTOMS_HOLD: Meaning("held by customs or another agency; nothing asked of the buyer"),
        D.SEIZED: Meaning("seized by an authority"),
        D.PAYMENT_REQUIRED: Meaning(
            "a tax or fee must be paid before it is delivered", action_required=True
        ),
        D.INFORMATION_REQUIRED: Meaning(
            "the buyer must send information or documents to release it",
            action_required=True,
        ),
        D.ADDRESS_PROBLEM: Meaning(
            "the address must be completed or corrected before delivery", action_required=True
        ),
        D.REFUSED: Meaning("the recipient refused it; it will not be delivered"),
        D.RECIPIENT_MOVED: Meaning("the recipient moved away; it goes back to the sender"),
        D.RECIPIENT_UNKNOWN: Meaning("nobody knows the recipient there; it goes back"),
        D.UNCLAIMED: Meaning("nobody collected it in time"),
        D.HELD: Meaning("held by the carrier (at the sender's request, or under review)"),
        D.DELAYED: Meaning("late, misrouted, or in an area with longer delivery times"),
        D.RETURNING: Meaning("on its way back to the sender"),
        D.OTHER: Meaning("something went wrong; read the carrier's description"),
    },
    Status.CANCELLED: {
        D.BY_SENDER: Meaning("the sender withdrew the shipment"),
        D.PICKUP_CANCELLED: Meaning("the collection from the sender was cancelled"),
        D.OTHER: Meaning("the shipment will not go ahead"),
    },
    # A code we do not know says nothing we could name: no detail is valid under it.
    Status.UNKNOWN: {},
}


def details_of(status: Status) -> tuple[StatusDetail, ...]:
    """The details a status takes, in the documented order."""
    return tuple(VOCABULARY[status])


def belongs(status: Status, detail: StatusDetail) -> bool:
    return detail in VOCABULARY[status]


def action_required(status: Status, detail: StatusDetail | None) -> bool:
    """True when the buyer must act; a detail that does not belong to the status never is."""
    meaning = VOCABULARY[status].get(detail) if detail is not None else None
    return meaning is not None and meaning.action_required


TEST_EVENT_TYPE = "webhook.test"
# A carrier withdrew its previous event (core/shipments.py); not a status of its own.
CORRECTION_EVENT_TYPE = "shipment.correction"
ALL_EVENT_TYPES = "*"
# Told by the sweep about a shipment (core/watch.py), not by a carrier: no new status.
ALERT_EVENT_TYPES: tuple[str, ...] = ("shipment.stalled", "shipment.late")
# About the merchant's own endpoints (core/operational.py): only for subscriptions that name
# them, so a receiver written for shipment events never gets a body it does not know.
OPERATIONAL_EVENT_TYPES: tuple[str, ...] = ("subscription.disabled", "delivery.exhausted")
EVENT_TYPES: tuple[str, ...] = tuple(f"shipment.{status.value}" for status in Status)
# Only to subscriptions that name them ("*" is every carrier's shipment event): a receiver
# written before them never gets a kind of event it did not ask for.
NAMED_ONLY_EVENT_TYPES: tuple[str, ...] = (*OPERATIONAL_EVENT_TYPES, *ALERT_EVENT_TYPES)
