"""Duplicates, claims and enqueue failures, with small in-memory fakes."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from parcelhooks.core.errors import EnqueueFailedError
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.ingest.accept import STALE_CLAIM_AFTER, Claim, Ingest
from parcelhooks.ingest.events import CarrierEventIn
from tests.factories import NOW, carrier_event


class FakeClaims:
    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], Claim] = {}

    def claim(self, carrier: str, ceid: str, event_id: str, now: datetime) -> Claim | None:
        if (carrier, ceid) in self.claims:
            return self.claims[(carrier, ceid)]
        self.claims[(carrier, ceid)] = Claim(event_id, confirmed=False, claimed_at=now)
        return None

    def take_over(self, carrier: str, ceid: str, stale: Claim, now: datetime) -> bool:
        self.claims[(carrier, ceid)] = Claim(stale.event_id, confirmed=False, claimed_at=now)
        return True

    def confirm(self, carrier: str, queued: Sequence[tuple[str, str]], now: datetime) -> None:
        for ceid, _ in queued:
            old = self.claims[(carrier, ceid)]
            self.claims[(carrier, ceid)] = Claim(old.event_id, True, old.claimed_at)

    def release(self, carrier: str, ceids: Sequence[str]) -> None:
        for ceid in ceids:
            del self.claims[(carrier, ceid)]


class FakeQueue:
    def __init__(self, refuse: set[str] | None = None) -> None:
        self.sent: list[ShipmentEvent] = []
        self.refuse = refuse or set()

    def publish(self, events: Sequence[ShipmentEvent]) -> list[str]:
        failed = [e.event_id for e in events if e.carrier_event_id in self.refuse]
        self.sent.extend(e for e in events if e.event_id not in failed)
        return failed


def _events(*ids: str) -> list[CarrierEventIn]:
    return [CarrierEventIn.model_validate(carrier_event(carrier_event_id=i)) for i in ids]


def _ingest(claims: FakeClaims, queue: FakeQueue, now: datetime = NOW) -> Ingest:
    counter = iter(range(1000))
    return Ingest(claims, queue, clock=lambda: now, make_event_id=lambda: f"evt_{next(counter)}")


def test_claims_run_on_the_pool_and_answers_keep_request_order() -> None:
    queue = FakeQueue()
    with ThreadPoolExecutor(max_workers=8) as pool:
        ingest = Ingest(FakeClaims(), queue, clock=lambda: NOW, executor=pool)
        ids = [f"ce-{i}" for i in range(40)]
        answer = ingest.accept("correios", _events(*ids, "ce-3"))
    assert [e.carrier_event_id for e in answer.events] == [*ids, "ce-3"]
    assert answer.events[-1].duplicate and answer.events[-1].event_id == answer.events[3].event_id
    assert len(queue.sent) == 40


def test_new_events_are_queued_with_fresh_ids_and_the_carrier_of_the_key() -> None:
    queue = FakeQueue()
    answer = _ingest(FakeClaims(), queue).accept("correios", _events("a", "b"))
    assert (answer.accepted, answer.duplicates) == (2, 0)
    assert [e.event_id for e in answer.events] == ["evt_0", "evt_1"]
    assert {e.carrier for e in queue.sent} == {"correios"}


def test_a_duplicate_is_answered_with_the_original_event_id_and_not_queued_again() -> None:
    claims, queue = FakeClaims(), FakeQueue()
    first = _ingest(claims, queue).accept("correios", _events("a"))
    again = _ingest(claims, queue).accept("correios", _events("a"))
    assert again.events[0].event_id == first.events[0].event_id
    assert again.events[0].duplicate and (again.accepted, again.duplicates) == (0, 1)
    assert len(queue.sent) == 1


def test_the_same_id_from_another_carrier_is_not_a_duplicate() -> None:
    claims, queue = FakeClaims(), FakeQueue()
    _ingest(claims, queue).accept("correios", _events("a"))
    answer = _ingest(claims, queue).accept("jadlog", _events("a"))
    assert answer.accepted == 1 and len(queue.sent) == 2


def test_a_repeat_inside_one_request_is_queued_once() -> None:
    queue = FakeQueue()
    answer = _ingest(FakeClaims(), queue).accept("correios", _events("a", "a"))
    assert [e.duplicate for e in answer.events] == [False, True]
    assert answer.events[0].event_id == answer.events[1].event_id
    assert len(queue.sent) == 1


def test_events_that_could_not_be_queued_are_released_and_reported() -> None:
    claims, queue = FakeClaims(), FakeQueue(refuse={"b"})
    with pytest.raises(EnqueueFailedError):
        _ingest(claims, queue).accept("correios", _events("a", "b"))
    assert ("correios", "b") not in claims.claims  # the carrier's retry will be taken
    assert claims.claims[("correios", "a")].confirmed  # and "a" answered as a duplicate
    queue.refuse.clear()
    retry = _ingest(claims, queue).accept("correios", _events("a", "b"))
    assert [e.duplicate for e in retry.events] == [True, False]
    assert [e.carrier_event_id for e in queue.sent] == ["a", "b"]


def test_a_claim_left_pending_by_a_crash_is_queued_again_once_stale() -> None:
    claims, queue = FakeClaims(), FakeQueue()
    claims.claims[("correios", "a")] = Claim("evt_old", False, NOW - STALE_CLAIM_AFTER * 2)
    answer = _ingest(claims, queue).accept("correios", _events("a"))
    assert answer.events[0].event_id == "evt_old"
    assert [e.event_id for e in queue.sent] == ["evt_old"]


def test_a_fresh_pending_claim_is_not_called_a_duplicate_but_sent_again_later() -> None:
    claims, queue = FakeClaims(), FakeQueue()
    claims.claims[("correios", "a")] = Claim("evt_x", False, NOW - timedelta(seconds=5))
    with pytest.raises(EnqueueFailedError) as caught:
        _ingest(claims, queue).accept("correios", _events("a", "b"))
    assert [d["type"] for d in caught.value.details] == ["in_progress"]
    assert [e.carrier_event_id for e in queue.sent] == ["b"]  # the rest is queued
    assert claims.claims[("correios", "b")].confirmed


class BrokenClaims(FakeClaims):
    """Fails to claim one id, as a throttled DynamoDB would."""

    def claim(self, carrier: str, ceid: str, event_id: str, now: datetime) -> Claim | None:
        if ceid == "bad":
            raise RuntimeError("ProvisionedThroughputExceeded")
        return super().claim(carrier, ceid, event_id, now)


@pytest.mark.parametrize("pooled", [False, True])
def test_a_claim_that_fails_releases_the_others_and_queues_nothing(pooled: bool) -> None:
    claims, queue = BrokenClaims(), FakeQueue()
    with ThreadPoolExecutor(max_workers=4) as pool:
        ingest = Ingest(claims, queue, clock=lambda: NOW, executor=pool if pooled else None)
        with pytest.raises(EnqueueFailedError):
            ingest.accept("correios", _events("a", "bad", "c"))
    assert claims.claims == {} and queue.sent == []
