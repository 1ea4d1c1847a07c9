"""Carrier ingest: validate a request whole, drop duplicates, enqueue the rest, lose nothing.

A request is validated before anything is written, so a bad request leaves no trace.

An event's id is derived from the carrier, the shipment and its `carrier_event_id`
(core/ids.py `event_id_of`): whichever request brings an event, it is the same event. Each
event is first placed in its shipment's state (ingest/shipments.py: sequence, previous
status, stale, what a correction withdrew), then its shipment-history item is written with
one conditional write that is also its dedupe claim, then it is queued:

- the write succeeds: the event is new, and queued marked `FirstQueued` (no other copy of it
  can be in the queue, so the fan-out need not ask the delivery log what was sent of it);
- an item is there already: the event is a duplicate. Its stored copy (the one body every
  copy of it has) is queued again, unmarked, and the carrier is answered `duplicate`: the
  request that wrote it may have died before queueing it, and the fan-out sends nothing
  its delivery log shows sent. A duplicate this request placed again (one older than the
  state remembers) is taken out of the state;
- the write fails: the event is taken out of its shipment's state and answered as not
  queued, so the carrier sends it again.

An event SQS does not take keeps its history item and its place: the carrier is answered
503 for it, and its resend queues the stored copy. Nothing is ever confirmed after
queueing, so a worker dying at any step leaves nothing a resend cannot finish.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from parcelhooks.core.errors import Detail, EnqueueFailedError
from parcelhooks.core.ids import event_id_of
from parcelhooks.core.models import OccurredAtZone, ShipmentEvent
from parcelhooks.ingest.events import (
    MAX_EVENTS_PER_REQUEST,
    AcceptedEvent,
    CarrierEventIn,
    IngestResponse,
)
from parcelhooks.ingest.shipments import ShipmentBook


class EventPublisher(Protocol):
    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        """Enqueue every event (saying of those in `first_queued` that no earlier request
        queued them); return the event ids that could not be enqueued."""
        ...


def to_shipment_event(event: CarrierEventIn, carrier: str, received_at: datetime) -> ShipmentEvent:
    assert event.status is not None  # CarrierEventIn guarantees it after validation
    zone = event.occurred_at_zone
    return ShipmentEvent(
        event_id=event_id_of(
            carrier, event.merchant_id, event.tracking_code, event.carrier_event_id
        ),
        carrier=carrier,
        received_at=received_at,
        occurred_at_zone=OccurredAtZone(name=zone.name, source=zone.source) if zone else None,
        **event.model_dump(exclude_none=False),
    )


@dataclass
class _Recorded:
    """What the history said of the request's events."""

    new: list[ShipmentEvent] = field(default_factory=list)
    # Duplicates: each as stored by the request that first brought it.
    known: list[ShipmentEvent] = field(default_factory=list)
    unrecorded: list[ShipmentEvent] = field(default_factory=list)


class Ingest:
    def __init__(
        self,
        publisher: EventPublisher,
        shipments: ShipmentBook,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._publisher = publisher
        self._shipments = shipments
        self._clock = clock

    def accept(self, carrier: str, events: Sequence[CarrierEventIn]) -> IngestResponse:
        assert 0 < len(events) <= MAX_EVENTS_PER_REQUEST
        now = self._clock()
        incoming = [to_shipment_event(event, carrier, now) for event in events]
        # A repeat inside one request is placed once and answered as a duplicate below.
        unique: dict[str, ShipmentEvent] = {}
        for event in incoming:
            unique.setdefault(event.event_id, event)
        placement = self._shipments.place(list(unique.values()))  # nothing written if it fails
        recorded = self._record(placement.events)
        to_forget = {e.event_id for e in recorded.known + recorded.unrecorded}
        if to_forget:
            self._shipments.forget(placement, to_forget)
        to_queue = recorded.new + recorded.known
        first = {event.event_id for event in recorded.new}
        failed_ids = set(self._publisher.publish(to_queue, first)) if to_queue else set()
        failed = [e for e in to_queue if e.event_id in failed_ids]
        if failed or recorded.unrecorded:
            # Never "duplicate" for what is not known to be queued: the carrier sends again.
            raise EnqueueFailedError(
                "some events could not be queued yet; send the request again "
                "(events already queued will be answered as duplicates)",
                _not_queued(failed, "not queued")
                + _not_queued(recorded.unrecorded, "not recorded"),
            )
        return _response(incoming, {event.event_id for event in recorded.known})

    def _record(self, placed: list[ShipmentEvent]) -> _Recorded:
        recorded = _Recorded()
        for event, outcome in zip(placed, self._shipments.record(placed), strict=True):
            if isinstance(outcome, BaseException):
                recorded.unrecorded.append(event)
            elif outcome is None:
                recorded.new.append(event)
            else:
                recorded.known.append(outcome)
        return recorded


def _not_queued(events: Sequence[ShipmentEvent], message: str) -> list[Detail]:
    return [
        {"loc": f"carrier_event_id={event.carrier_event_id}", "message": message, "type": "retry"}
        for event in events
    ]


def _response(incoming: Sequence[ShipmentEvent], known: Collection[str]) -> IngestResponse:
    seen: set[str] = set()
    listed: list[AcceptedEvent] = []
    for event in incoming:
        # A repeat inside the request is a duplicate of its first copy.
        repeat = event.event_id in seen
        seen.add(event.event_id)
        listed.append(
            AcceptedEvent(
                carrier_event_id=event.carrier_event_id,
                event_id=event.event_id,
                duplicate=repeat or event.event_id in known,
            )
        )
    duplicates = sum(1 for answer in listed if answer.duplicate)
    return IngestResponse(accepted=len(listed) - duplicates, duplicates=duplicates, events=listed)
