"""Shipment order: sequence, latest, stale and corrections — the state, and its placement by
ingest against in-memory stores (lost races; events not recorded: tests/unit/test_ingest.py).
On moto, with concurrent requests and through the handlers: tests/component/test_shipments.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from parcelhooks.core.errors import EnqueueFailedError, NotFoundError
from parcelhooks.core.models import CarrierStatus, ShipmentEvent
from parcelhooks.core.shipments import MAX_ENTRIES, Entry, ShipmentKey, ShipmentState
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.shipments import MAX_PLACE_ATTEMPTS, ShipmentBook
from parcelhooks.merchant_api.shipments import Shipments
from testkit.factories import (
    HISTORY_KEY,
    HISTORY_START,
    history_correction,
    history_event,
)
from testkit.shipments import MemoryShipments

T0 = HISTORY_START
KEY = HISTORY_KEY
event = history_event
correction = history_correction


def place_all(*events: ShipmentEvent) -> tuple[ShipmentState, list[Entry]]:
    state, entries = ShipmentState(), []
    for item in events:
        state, entry = state.place(item)
        entries.append(entry)
    return state, entries


# ---------------------------------------------------------------------------------------
# The state


def test_events_in_order_get_increasing_sequences_and_the_status_before_them() -> None:
    state, entries = place_all(
        event("e1", Status.POSTED, 0),
        event("e2", Status.IN_TRANSIT, 1),
        event("e3", Status.DELIVERED, 2),
    )
    assert [e.sequence for e in entries] == [1, 2, 3]
    assert [e.previous_status for e in entries] == [None, Status.POSTED, Status.IN_TRANSIT]
    assert not any(e.stale for e in entries)
    assert state.latest is not None and state.latest.event_id == "e3"


def test_a_late_scan_is_stale_and_leaves_the_latest_alone() -> None:
    state, [_, late, after] = place_all(
        event("e1", Status.DELIVERED, 5),
        event("e2", Status.IN_TRANSIT, 3),  # occurred before the delivery, arrived after it
        event("e3", Status.OUT_FOR_DELIVERY, 4),
    )
    assert (late.sequence, late.stale, late.previous_status) == (2, True, Status.DELIVERED)
    assert (after.stale, after.previous_status) == (True, Status.DELIVERED)
    assert state.latest is not None and state.latest.event_id == "e1"


def test_events_that_occurred_at_the_same_instant_are_not_stale_and_the_later_one_is_latest() -> (
    None
):
    state, [_, second] = place_all(
        event("e1", Status.IN_TRANSIT, 1), event("e2", Status.IN_TRANSIT, 1)
    )
    assert not second.stale
    assert state.latest is not None and state.latest.event_id == "e2"


def test_a_correction_withdraws_the_latest_and_the_shipment_rolls_back() -> None:
    state, [_, delivered, fix] = place_all(
        event("e1", Status.OUT_FOR_DELIVERY, 1),
        event("e2", Status.DELIVERED, 2),
        correction("c1", 3),
    )
    assert fix.correction and fix.corrects == "e2"
    assert (fix.status, fix.previous_status, fix.stale) == (
        Status.OUT_FOR_DELIVERY,
        Status.DELIVERED,
        False,
    )
    assert state.latest is not None and state.latest.event_id == "e1"
    withdrawn = state.withdrawn_by(fix)
    assert withdrawn is not None and withdrawn.withdrawn().event_id == delivered.event_id
    # The next event is judged against the rolled-back shipment.
    _, next_one = state.place(event("e3", Status.DELIVERED, 4))
    assert (next_one.previous_status, next_one.stale) == (Status.OUT_FOR_DELIVERY, False)


def test_a_late_correction_withdraws_the_event_before_it_not_the_latest() -> None:
    state, [_, _, _, fix] = place_all(
        event("e1", Status.POSTED, 1),
        event("e2", Status.IN_TRANSIT, 2),
        event("e3", Status.DELIVERED, 5),
        correction("c1", 3),  # "disregard the previous information", sent after e3 arrived
    )
    assert (fix.corrects, fix.stale, fix.status) == ("e2", True, Status.DELIVERED)
    assert state.latest is not None and state.latest.event_id == "e3"


def test_a_correction_with_nothing_before_it_withdraws_nothing() -> None:
    state, [fix] = place_all(correction("c1", 1))
    assert fix.correction and fix.corrects is None and fix.status == Status.IN_TRANSIT
    assert state.latest is None


def test_an_est_carrier_code_is_a_correction_whatever_status_it_came_with() -> None:
    est = event("c1", Status.EXCEPTION, 3, carrier_status=CarrierStatus(type="est", code="09"))
    _, [_, fix] = place_all(event("e1", Status.DELIVERED, 2), est)
    assert fix.correction and fix.corrects == "e1"


def test_forgetting_events_undoes_their_corrections_and_never_reuses_a_sequence() -> None:
    state, _ = place_all(event("e1", Status.IN_TRANSIT, 1), event("e2", Status.DELIVERED, 2))
    state, _ = state.place(correction("c1", 3))
    state = state.without({"c1"})
    assert state.latest is not None and state.latest.event_id == "e2"  # the withdrawal undone
    state = state.without({"e2"})
    assert state.latest is not None and state.latest.event_id == "e1"
    _, entry = state.place(event("e3", Status.DELIVERED, 4))
    assert entry.sequence == 4 and entry.previous_status == Status.IN_TRANSIT


def test_an_event_placed_again_keeps_its_entry() -> None:
    state, [first] = place_all(event("e1", Status.POSTED, 1))
    again, entry = state.place(event("e1", Status.POSTED, 1))
    assert again is state and entry == first


def test_the_state_keeps_the_newest_events_and_always_the_one_just_placed() -> None:
    state, _ = place_all(*(event(f"e{h}", Status.IN_TRANSIT, h) for h in range(1, 20)))
    assert len(state.entries) == MAX_ENTRIES
    assert {e.event_id for e in state.entries} == {f"e{h}" for h in range(12, 20)}
    state, late = state.place(event("old", Status.POSTED, 0))
    assert len(state.entries) == MAX_ENTRIES and late in state.entries and late.stale
    assert state.last_sequence == 20


# ---------------------------------------------------------------------------------------
# Placement by ingest: compare-and-set, lost races, events that were not queued


class RacingStore(MemoryShipments):
    """The in-memory table, whose first `races` saves (of the shipment with tracking code
    `racing`, or any) lose to a writer that placed `rival` first (or changed the state)."""

    def __init__(
        self, rival: ShipmentEvent | None = None, races: int = 1, racing: str | None = None
    ) -> None:
        super().__init__()
        self.rival = rival
        self.races = races
        self.racing = racing

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
        if self.races > 0 and self.racing in (None, key.tracking_code):
            self.races -= 1
            self.saves += 1
            current = self.load(key)
            if self.rival is not None:
                current, _ = current.place(self.rival)
            else:
                current = ShipmentState(version=current.version + 1)
            self.states[key] = current
            return current
        return super().save(key, state, previous, expires, order_id=order_id, due_at=due_at)


def test_a_request_that_loses_the_race_places_its_events_after_the_winners() -> None:
    store = RacingStore(rival=event("rival", Status.DELIVERED, 5))
    placed = ShipmentBook(store, timedelta(days=30)).place([event("mine", Status.IN_TRANSIT, 3)])
    [mine] = placed.events
    assert (mine.sequence, mine.previous_status, mine.stale) == (2, Status.DELIVERED, True)
    assert store.saves == 2


def test_a_shipment_that_keeps_changing_fails_the_request_and_forgets_the_others() -> None:
    store = RacingStore(races=MAX_PLACE_ATTEMPTS, racing=KEY.tracking_code)
    other = event("b", Status.POSTED, 1, tracking_code="TRK-0002")
    book = ShipmentBook(store, timedelta(days=30))
    with pytest.raises(EnqueueFailedError):
        book.place([event("a", Status.POSTED, 1), other])
    state = store.states[ShipmentKey.of(other)]
    assert state.last_sequence == 1 and state.entries == ()  # placed, then forgotten


# ---------------------------------------------------------------------------------------
# The shipments route, before it reads anything


@pytest.mark.parametrize(
    "code", ["x" * 3000, "QB1\x00", "abc", "QB12/3456", "ab cd", "QB123456785ﬀ", "...."]
)
def test_a_tracking_code_ingest_could_never_store_is_a_404_not_a_500(code: str) -> None:
    class NoReader:
        def states(self, *args: object) -> dict[str, object]:
            raise AssertionError("looked up a code that cannot exist")

    with pytest.raises(NotFoundError):
        Shipments(NoReader()).get("merchant-a", code, None)  # type: ignore[arg-type]
