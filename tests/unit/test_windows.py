"""The windows agree: an event may be as old as dedupe remembers (DuplicateWindowDays), and a
shipment outlives that window (ShipmentQuietDays), so an old batch sent again is answered as
duplicates or refused, never accepted as new events with a new sequence."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from devstack.template import parameter_default, resources
from parcelhooks.core.claims import Claim
from parcelhooks.core.errors import ValidationFailedError
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.settings import SettingsError
from parcelhooks.core.shipments import ShipmentKey, ShipmentState
from parcelhooks.ingest.accept import Ingest
from parcelhooks.ingest.events import parse_events
from parcelhooks.ingest.settings import IngestSettings
from parcelhooks.ingest.shipments import ShipmentBook
from parcelhooks.ingest.timing import MAX_CLOCK_SKEW
from testkit.factories import carrier_event

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)
WINDOW = timedelta(days=30)


class ForgetfulClaims:
    """Claims remembered for `memory` (the window by default), then forgotten (as the
    table's TTL does)."""

    def __init__(self, clock: list[datetime], memory: timedelta = WINDOW) -> None:
        self._clock = clock
        self._memory = memory
        self._claims: dict[str, Claim] = {}

    def claim(self, carrier: str, ceid: str, event_id: str, now: datetime) -> Claim | None:
        held = self._claims.get(ceid)
        if held is not None and now - held.claimed_at < self._memory:
            return held
        self._claims[ceid] = Claim(event_id, confirmed=False, claimed_at=now)
        return None

    def take_over(self, carrier: str, ceid: str, stale: Claim, now: datetime) -> bool:
        return False

    def confirm(self, carrier: str, queued: Sequence[tuple[str, str]], now: datetime) -> None:
        for ceid, event_id in queued:
            self._claims[ceid] = Claim(event_id, confirmed=True, claimed_at=now)

    def release(self, carrier: str, ceids: Sequence[str]) -> None:
        for ceid in ceids:
            self._claims.pop(ceid, None)


class Shipments:
    def __init__(self) -> None:
        self.state = ShipmentState()

    def load(self, key: ShipmentKey) -> ShipmentState:
        return self.state

    def load_many(self, keys: Collection[ShipmentKey]) -> dict[ShipmentKey, ShipmentState]:
        return dict.fromkeys(keys, self.state)

    def save(
        self,
        key: ShipmentKey,
        state: ShipmentState,
        previous: ShipmentState,
        expires: datetime,
        *,
        order_id: str | None = None,
        due_at: datetime | None = None,
    ) -> ShipmentState | None:
        self.state = state
        return None

    def keep(self, events: Sequence[ShipmentEvent], expires: datetime) -> None:
        pass


class Queue:
    def __init__(self) -> None:
        self.sent: list[ShipmentEvent] = []

    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        self.sent += events
        return []


def test_an_old_batch_sent_again_is_duplicates_then_refused_never_new_sequences() -> None:
    clock = [T0]
    queue, shipments = Queue(), Shipments()
    ingest = Ingest(
        ForgetfulClaims(clock),
        queue,
        clock=lambda: clock[0],
        shipments=ShipmentBook(shipments, WINDOW * 3, clock=lambda: clock[0]),
    )
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
    # Within the window: every event a duplicate of the first, nothing queued again.
    assert send_at(T0 + timedelta(days=29)) == [True, True, True]
    # Past it, dedupe has forgotten them, and each event is refused as too old.
    with pytest.raises(ValidationFailedError) as refused:
        send_at(T0 + WINDOW + timedelta(days=1))
    assert [d["loc"] for d in refused.value.details] == [
        f"events[{n}].occurred_at" for n in range(3)
    ]
    assert [(e.event_id, e.sequence) for e in queue.sent] == first
    assert shipments.state.last_sequence == 3


def test_an_event_dated_ahead_stays_a_duplicate_as_long_as_it_stays_acceptable() -> None:
    memory = _settings(30, 90).claim_memory
    assert memory == WINDOW + MAX_CLOCK_SKEW
    clock = [T0]
    queue, shipments = Queue(), Shipments()
    ingest = Ingest(
        ForgetfulClaims(clock, memory),
        queue,
        clock=lambda: clock[0],
        shipments=ShipmentBook(shipments, WINDOW * 3, clock=lambda: clock[0]),
    )
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
    assert len(queue.sent) == 1


def _settings(duplicate_days: int, quiet_days: int) -> IngestSettings:
    return IngestSettings.from_env(
        {
            "IDEMPOTENCY_TABLE": "claims",
            "EVENTS_QUEUE_URL": "https://sqs.example/q",
            "API_KEYS_TABLE": "keys",
            "SHIPMENTS_TABLE": "shipments",
            "IDEMPOTENCY_TTL_DAYS": str(duplicate_days),
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
    wired = {name: (tag.tag, tag.value) for name, tag in environment.items() if "TTL" in name}
    assert wired["IDEMPOTENCY_TTL_DAYS"] == ("Ref", "DuplicateWindowDays")
    assert wired["SHIPMENT_TTL_DAYS"] == ("Ref", "ShipmentQuietDays")
    duplicate = int(parameter_default("DuplicateWindowDays"))
    assert int(parameter_default("ShipmentQuietDays")) >= duplicate
    assert duplicate == 30  # the event window tools use when a request names none
