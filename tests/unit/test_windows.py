"""The windows agree: an event may be as old as dedupe remembers (DuplicateWindowDays), and a
shipment outlives that window (ShipmentQuietDays), so an old batch sent again is answered as
duplicates or refused, never accepted as new events with a new sequence."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from devstack.template import parameter_default, resources
from parcelhooks.core.errors import ValidationFailedError
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.settings import SettingsError
from parcelhooks.ingest.accept import Ingest
from parcelhooks.ingest.events import parse_events
from parcelhooks.ingest.settings import IngestSettings
from parcelhooks.ingest.shipments import ShipmentBook
from parcelhooks.ingest.timing import MAX_CLOCK_SKEW
from testkit.factories import carrier_event
from testkit.shipments import MemoryShipments

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)
WINDOW = timedelta(days=30)


class Queue:
    def __init__(self) -> None:
        self.sent: list[ShipmentEvent] = []

    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        self.sent += events
        return []


def _ingest(clock: list[datetime], retention: timedelta) -> tuple[Ingest, Queue, MemoryShipments]:
    """Ingest on a shipments table whose history items expire `retention` after writing."""
    queue, shipments = Queue(), MemoryShipments(clock=lambda: clock[0])
    book = ShipmentBook(shipments, retention, clock=lambda: clock[0])
    return Ingest(queue, book, clock=lambda: clock[0]), queue, shipments


def test_an_old_batch_sent_again_is_duplicates_then_refused_never_new_sequences() -> None:
    clock = [T0]
    ingest, queue, shipments = _ingest(clock, WINDOW * 3)
    batch = json.dumps(
        {
            "events": [
                carrier_event(
                    carrier_event_id=f"ce-{n}",
                    status=status,
                    occurred_at=(T0 - timedelta(hours=5 - n)).isoformat(),
                )
                for n, status in enumerate(["posted", "in_transit", "delivered"])
            ]
        }
    )

    def send_at(moment: datetime) -> list[bool]:
        clock[0] = moment
        events = parse_events(batch, now=moment, window=WINDOW)
        return [answer.duplicate for answer in ingest.accept("carrier-x", events).events]

    assert send_at(T0) == [False, False, False]
    first = [(e.event_id, e.sequence) for e in queue.sent]
    assert [sequence for _, sequence in first] == [1, 2, 3]
    # Within the window: every event a duplicate of the first, queued again as it was.
    assert send_at(T0 + timedelta(days=29)) == [True, True, True]
    assert [(e.event_id, e.sequence) for e in queue.sent[3:]] == first
    # Past it, dedupe has forgotten them, and each event is refused as too old.
    with pytest.raises(ValidationFailedError) as refused:
        send_at(T0 + WINDOW + timedelta(days=1))
    assert [d["loc"] for d in refused.value.details] == [
        f"events[{n}].occurred_at" for n in range(3)
    ]
    assert len(queue.sent) == 6 and {(e.event_id, e.sequence) for e in queue.sent} == set(first)
    [state] = shipments.states.values()
    assert state.last_sequence == 3


def test_an_event_dated_ahead_stays_a_duplicate_as_long_as_it_stays_acceptable() -> None:
    # ShipmentQuietDays as short as the window: history items (the claims) are kept the
    # claim memory all the same.
    settings = _settings(30, 30)
    assert settings.claim_memory == WINDOW + MAX_CLOCK_SKEW
    assert settings.shipment_retention == settings.claim_memory
    clock = [T0]
    ingest, queue, _ = _ingest(clock, settings.shipment_retention)
    # A carrier clock 20 hours ahead: still inside the accepted skew.
    body = json.dumps(carrier_event(occurred_at=(T0 + timedelta(hours=20)).isoformat()))

    def send_at(moment: datetime) -> bool:
        clock[0] = moment
        [event] = parse_events(body, now=moment, window=WINDOW)
        return ingest.accept("carrier-x", [event]).events[0].duplicate

    assert send_at(T0) is False
    # Past the window since the first send, the event is still acceptable (it is dated
    # ahead), and it is still remembered: a duplicate, never a second event.
    assert send_at(T0 + WINDOW + timedelta(hours=12)) is True
    assert len({(e.event_id, e.sequence) for e in queue.sent}) == 1


def _settings(duplicate_days: int, quiet_days: int) -> IngestSettings:
    return IngestSettings.from_env(
        {
            "EVENTS_QUEUE_URL": "https://sqs.example/q",
            "API_KEYS_TABLE": "keys",
            "SHIPMENTS_TABLE": "shipments",
            "DUPLICATE_WINDOW_DAYS": str(duplicate_days),
            "SHIPMENT_TTL_DAYS": str(quiet_days),
        }
    )


def test_a_shipment_kept_shorter_than_the_duplicate_window_stops_ingest_at_start() -> None:
    assert _settings(30, 30).event_window == timedelta(days=30)
    with pytest.raises(SettingsError, match="ShipmentQuietDays cannot be shorter"):
        _settings(30, 29)


def test_the_template_wires_both_windows_and_its_defaults_agree() -> None:
    environment = resources("AWS::Serverless::Function")["IngestFunction"]["Environment"][
        "Variables"
    ]
    wired = {name: (tag.tag, tag.value) for name, tag in environment.items() if "DAYS" in name}
    assert wired["DUPLICATE_WINDOW_DAYS"] == ("Ref", "DuplicateWindowDays")
    assert wired["SHIPMENT_TTL_DAYS"] == ("Ref", "ShipmentQuietDays")
    duplicate = int(parameter_default("DuplicateWindowDays"))
    assert int(parameter_default("ShipmentQuietDays")) >= duplicate
    assert duplicate == 30  # the event window tools use when a request names none
