"""Duplicates and failures at each step of ingest, against an in-memory shipments table.

An event's history item is its dedupe claim: written once, with a condition; a duplicate
queues the stored copy again (same event_id, same body), so a request that died at any
step is finished by the carrier's resend."""

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from parcelhooks.core.errors import EnqueueFailedError
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.shipments import MAX_ENTRIES, ShipmentKey
from parcelhooks.ingest.accept import Ingest, to_shipment_event
from parcelhooks.ingest.events import CarrierEventIn
from parcelhooks.ingest.shipments import ShipmentBook
from testkit.factories import NOW, carrier_event
from testkit.shipments import MemoryShipments

RETENTION = timedelta(days=90)


class FakeQueue:
    def __init__(self, refuse: Collection[str] = ()) -> None:
        self.sent: list[ShipmentEvent] = []
        self.refuse = set(refuse)
        self.first_queued: list[str] = []

    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        failed = [e.event_id for e in events if e.carrier_event_id in self.refuse]
        self.sent += [e for e in events if e.event_id not in failed]
        self.first_queued += [
            e.event_id for e in events if e.event_id in first_queued and e.event_id not in failed
        ]
        return failed


class ExplodingQueue(FakeQueue):
    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        raise RuntimeError("the worker died while queueing")


def _events(*ids: str, **fields: str) -> list[CarrierEventIn]:
    """Events as ingest parsed them at NOW (one shipment unless `tracking_code` says)."""
    sent = [carrier_event(now=NOW, carrier_event_id=i, **fields) for i in ids]
    return [CarrierEventIn.model_validate(event, context={"now": NOW}) for event in sent]


def _store(fail_record: Collection[str] = (), written_anyway: bool = False) -> MemoryShipments:
    """The table on the test's clock (its items expire against NOW, not the machine's)."""
    return MemoryShipments(lambda: NOW, fail_record, written_anyway)


def _ingest(
    store: MemoryShipments, queue: FakeQueue, pool: ThreadPoolExecutor | None = None
) -> Ingest:
    book = ShipmentBook(store, RETENTION, executor=pool, clock=lambda: NOW)
    return Ingest(queue, book, clock=lambda: NOW)


def _key(carrier: str = "correios") -> ShipmentKey:
    [event] = _events("x")
    return ShipmentKey(event.merchant_id, carrier, event.tracking_code)


def test_history_writes_run_on_the_pool_and_answers_keep_request_order() -> None:
    store, queue = _store(), FakeQueue()
    ids = [f"ce-{i}" for i in range(40)]
    events = [e for n, i in enumerate(ids) for e in _events(i, tracking_code=f"QB{n:04d}")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answer = _ingest(store, queue, pool).accept("correios", [*events, events[3]])
    assert [e.carrier_event_id for e in answer.events] == [*ids, "ce-3"]
    assert answer.events[-1].duplicate and answer.events[-1].event_id == answer.events[3].event_id
    assert len(queue.sent) == 40 and len(store.history) == 40


def test_new_events_are_queued_first_with_derived_ids_and_the_carrier_of_the_key() -> None:
    store, queue = _store(), FakeQueue()
    answer = _ingest(store, queue).accept("correios", _events("a", "b"))
    assert (answer.accepted, answer.duplicates) == (2, 0)
    ids = [e.event_id for e in answer.events]
    assert ids == [to_shipment_event(e, "correios", NOW).event_id for e in _events("a", "b")]
    assert {e.carrier for e in queue.sent} == {"correios"}
    assert queue.first_queued == ids  # nothing else can have queued them
    assert [e.sequence for e in store.events(_key())] == [1, 2]


def test_a_duplicate_is_answered_with_the_same_id_and_queued_again_unmarked_as_stored() -> None:
    store, queue = _store(), FakeQueue()
    first = _ingest(store, queue).accept("correios", _events("a"))
    again = _ingest(store, queue).accept("correios", _events("a"))
    assert again.events[0].event_id == first.events[0].event_id
    assert again.events[0].duplicate and (again.accepted, again.duplicates) == (0, 1)
    # Queued again (the first request may have died before queueing it), the same body:
    # the fan-out asks its delivery log, as the copy is not marked first.
    assert [e.model_dump() for e in queue.sent[1:]] == [queue.sent[0].model_dump()]
    assert queue.first_queued == [first.events[0].event_id]
    assert store.states[_key()].last_sequence == 1  # placed once


def test_the_same_id_from_another_carrier_or_for_another_shipment_is_a_new_event() -> None:
    store, queue = _store(), FakeQueue()
    _ingest(store, queue).accept("correios", _events("a"))
    other_carrier = _ingest(store, queue).accept("jadlog", _events("a"))
    other_code = _ingest(store, queue).accept("correios", _events("a", tracking_code="QB0001"))
    assert other_carrier.accepted == 1 and other_code.accepted == 1
    assert len({e.event_id for e in queue.sent}) == 3


def test_a_repeat_inside_one_request_is_placed_and_queued_once() -> None:
    store, queue = _store(), FakeQueue()
    answer = _ingest(store, queue).accept("correios", _events("a", "a"))
    assert [e.duplicate for e in answer.events] == [False, True]
    assert answer.events[0].event_id == answer.events[1].event_id
    assert len(queue.sent) == 1 and store.states[_key()].last_sequence == 1


def test_an_event_sqs_refused_keeps_its_place_and_its_resend_queues_the_stored_copy() -> None:
    # SQS may have queued an event whose send timed out: the resend must be the same
    # event (id and body), so the fan-out's delivery log lookup sends it once.
    store, queue = _store(), FakeQueue(refuse={"b"})
    with pytest.raises(EnqueueFailedError) as refused:
        _ingest(store, queue).accept("correios", _events("a", "b"))
    assert [d["loc"] for d in refused.value.details] == ["carrier_event_id=b"]
    [stored_b] = [e for e in store.events(_key()) if e.carrier_event_id == "b"]
    queue.refuse.clear()
    resend = _ingest(store, queue).accept("correios", _events("a", "b"))
    assert [e.duplicate for e in resend.events] == [True, True]
    assert queue.sent[-1].model_dump() == stored_b.model_dump()
    assert stored_b.event_id not in queue.first_queued
    assert store.states[_key()].last_sequence == 2


def test_an_event_whose_history_write_failed_is_out_of_its_shipment_and_new_on_resend() -> None:
    store, queue = _store(fail_record={"b"}), FakeQueue()
    with pytest.raises(EnqueueFailedError) as refused:
        _ingest(store, queue).accept("correios", _events("a", "b"))
    assert [d["loc"] for d in refused.value.details] == ["carrier_event_id=b"]
    assert [e.carrier_event_id for e in queue.sent] == ["a"]  # the others are queued
    state = store.states[_key()]
    assert [e.sequence for e in state.entries] == [1] and state.last_sequence == 2  # a gap
    store.fail_record.clear()
    resend = _ingest(store, queue).accept("correios", _events("b"))
    assert not resend.events[0].duplicate and queue.sent[-1].sequence == 3
    assert queue.first_queued[-1] == resend.events[0].event_id


def test_a_history_write_that_took_effect_unanswered_is_a_duplicate_on_resend() -> None:
    store, queue = _store(fail_record={"a"}, written_anyway=True), FakeQueue()
    with pytest.raises(EnqueueFailedError):
        _ingest(store, queue).accept("correios", _events("a"))
    assert queue.sent == [] and store.states[_key()].entries == ()
    [stored] = store.events(_key())
    store.fail_record.clear()
    resend = _ingest(store, queue).accept("correios", _events("a"))
    # Placed again, found recorded, taken out again: the stored copy is what is queued.
    assert resend.events[0].duplicate and queue.first_queued == []
    assert [e.model_dump() for e in queue.sent] == [stored.model_dump()]
    assert store.states[_key()].entries == ()


def test_a_request_that_died_after_placing_is_finished_by_the_resend_in_the_same_place() -> None:
    store, queue = _store(), FakeQueue()
    book = ShipmentBook(store, RETENTION, clock=lambda: NOW)
    [placed] = book.place([to_shipment_event(_events("a")[0], "correios", NOW)]).events
    resend = _ingest(store, queue).accept("correios", _events("a"))
    # Never recorded, so never queued: new, first queued, in the place it was given.
    assert not resend.events[0].duplicate and queue.first_queued == [placed.event_id]
    assert queue.sent[0].sequence == placed.sequence == 1
    assert store.states[_key()].last_sequence == 1


def test_a_request_that_died_while_queueing_is_finished_by_the_resend() -> None:
    store = _store()
    with pytest.raises(RuntimeError):
        _ingest(store, ExplodingQueue()).accept("correios", _events("a", "b"))
    queue = FakeQueue()
    resend = _ingest(store, queue).accept("correios", _events("a", "b"))
    assert [e.duplicate for e in resend.events] == [True, True]
    assert [e.model_dump() for e in queue.sent] == [e.model_dump() for e in store.events(_key())]
    assert queue.first_queued == []  # the dead request may have queued them


def test_a_duplicate_older_than_the_state_remembers_is_not_placed_twice() -> None:
    store, queue = _store(), FakeQueue()
    ids = [f"ce-{n}" for n in range(MAX_ENTRIES + 3)]
    times = [(NOW - timedelta(hours=30 - n)).isoformat() for n in range(len(ids))]
    for ceid, at in zip(ids, times, strict=True):
        _ingest(store, queue).accept("correios", _events(ceid, occurred_at=at))
    before = store.states[_key()]
    assert "ce-0" not in {e.event_id for e in before.entries}  # fallen out of the entries
    [oldest] = _events("ce-0", occurred_at=times[0])
    resend = _ingest(store, queue).accept("correios", [oldest])
    assert resend.events[0].duplicate and queue.sent[-1].sequence == 1
    after = store.states[_key()]
    # Taken out again: the shipment stands where it stood (the entry its placement pushed
    # out of the newest MAX_ENTRIES is not brought back: one correction less to roll back).
    assert set(after.entries) <= set(before.entries) and after.latest == before.latest
    assert after.last_sequence == before.last_sequence + 1  # a gap, never a reuse
    assert len(store.history) == len(ids)


def test_a_shipment_that_cannot_be_placed_records_and_queues_nothing() -> None:
    class Unwritable(MemoryShipments):
        def save(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("throttled")

    store, queue = Unwritable(clock=lambda: NOW), FakeQueue()
    with pytest.raises(EnqueueFailedError):
        _ingest(store, queue).accept("correios", _events("a"))
    assert store.history == {} and queue.sent == []
