"""Duplicates, claims and enqueue failures, with small in-memory fakes."""

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from parcelhooks.core.claims import Claim
from parcelhooks.core.errors import EnqueueFailedError
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.ingest.accept import STALE_CLAIM_AFTER, Ingest
from parcelhooks.ingest.events import CarrierEventIn
from testkit.factories import NOW, carrier_event


class FakeClaims:
    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], Claim] = {}

    def claim(self, carrier: str, ceid: str, event_id: str, now: datetime) -> Claim | None:
        if (carrier, ceid) in self.claims:
            return self.claims[(carrier, ceid)]
        self.claims[(carrier, ceid)] = Claim(event_id, confirmed=False, claimed_at=now)
        return None

    def take_over(self, carrier: str, ceid: str, stale: Claim, now: datetime) -> bool:
        # Compare-and-set, as the table does it: only if nobody changed it since `stale`.
        current = self.claims.get((carrier, ceid))
        if current is None or current.confirmed or current.claimed_at != stale.claimed_at:
            return False
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
        self.first_queued: set[str] = set()

    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        failed = [e.event_id for e in events if e.carrier_event_id in self.refuse]
        self.sent.extend(e for e in events if e.event_id not in failed)
        self.first_queued |= set(first_queued)
        return failed


def _events(*ids: str) -> list[CarrierEventIn]:
    """Events as ingest parsed them at NOW, the time its clock gives here."""
    sent = [carrier_event(now=NOW, carrier_event_id=i) for i in ids]
    return [CarrierEventIn.model_validate(event, context={"now": NOW}) for event in sent]


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


def test_events_that_could_not_be_queued_keep_their_event_id_for_the_resend() -> None:
    # SQS may have queued an event whose send timed out: the resend must reuse its event_id,
    # so a second copy is the same webhook (the fan-out's delivery log lookup sends it once).
    claims, queue = FakeClaims(), FakeQueue(refuse={"b"})
    with pytest.raises(EnqueueFailedError):
        _ingest(claims, queue).accept("correios", _events("a", "b"))
    held = claims.claims[("correios", "b")]
    assert not held.confirmed and NOW - held.claimed_at > STALE_CLAIM_AFTER  # taken at once
    assert claims.claims[("correios", "a")].confirmed  # and "a" answered as a duplicate
    queue.refuse.clear()
    retry = _ingest(claims, queue).accept("correios", _events("a", "b"))
    assert [e.duplicate for e in retry.events] == [True, False]
    assert [e.carrier_event_id for e in queue.sent] == ["a", "b"]
    assert retry.events[1].event_id == held.event_id


STALE = NOW - STALE_CLAIM_AFTER * 2


def test_a_claim_left_pending_by_a_crash_is_queued_again_once_stale() -> None:
    claims, queue = FakeClaims(), FakeQueue()
    claims.claims[("correios", "a")] = Claim("evt_old", False, STALE)
    answer = _ingest(claims, queue).accept("correios", _events("a"))
    assert answer.events[0].event_id == "evt_old"
    assert [e.event_id for e in queue.sent] == ["evt_old"]


def test_only_events_no_earlier_request_queued_are_marked_queued_for_the_first_time() -> None:
    # A taken-over claim's event may have been queued by the request that died: the
    # fan-out must ask the delivery log what of it was sent.
    claims, queue = FakeClaims(), FakeQueue()
    claims.claims[("correios", "a")] = Claim("evt_old", False, STALE)
    answer = _ingest(claims, queue).accept("correios", _events("a", "b"))
    taken_over, new = (e.event_id for e in answer.events)
    assert taken_over == "evt_old" and {e.event_id for e in queue.sent} == {taken_over, new}
    assert queue.first_queued == {new}


def test_a_taken_over_claim_is_answered_as_queued_now_not_as_a_duplicate() -> None:
    # Class B: the event is queued for the first time by this request.
    claims = FakeClaims()
    claims.claims[("correios", "a")] = Claim("evt_old", False, STALE)
    answer = _ingest(claims, FakeQueue()).accept("correios", _events("a", "a"))
    assert [e.duplicate for e in answer.events] == [False, True]  # the repeat inside is one
    assert (answer.accepted, answer.duplicates) == (1, 1)
    assert claims.claims[("correios", "a")].confirmed


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


class ExplodingQueue(FakeQueue):
    """Raises while queueing, as an event that cannot be serialized once did."""

    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        raise ValueError("Maximum serialization depth exceeded")


class FlakyConfirm(FakeClaims):
    """Cannot confirm until `down` is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def confirm(self, carrier: str, queued: Sequence[tuple[str, str]], now: datetime) -> None:
        if self.down:
            raise RuntimeError("ProvisionedThroughputExceeded")
        super().confirm(carrier, queued, now)


@pytest.mark.parametrize("pooled", [False, True])
def test_an_error_while_queueing_leaves_the_claims_as_it_found_them(pooled: bool) -> None:
    # Class A: a claim left fresh would answer the carrier's corrected resend 503.
    claims = FakeClaims()
    claims.claims[("correios", "old")] = Claim("evt_old", False, STALE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        ingest = Ingest(
            claims, ExplodingQueue(), clock=lambda: NOW, executor=pool if pooled else None
        )
        with pytest.raises(ValueError, match="serialization"):
            ingest.accept("correios", _events("new", "old"))
    # Its own claim released; the one it took over handed back stale, with its event_id.
    assert claims.claims == {("correios", "old"): Claim("evt_old", False, STALE)}
    queue = FakeQueue()
    resend = _ingest(claims, queue).accept("correios", _events("new", "old"))
    assert (resend.accepted, resend.duplicates) == (2, 0)
    assert resend.events[1].event_id == "evt_old"
    assert len(queue.sent) == 2


def test_a_failing_claim_hands_back_a_claim_it_took_over() -> None:
    claims = BrokenClaims()
    claims.claims[("correios", "old")] = Claim("evt_old", False, STALE)
    with pytest.raises(EnqueueFailedError):
        _ingest(claims, FakeQueue()).accept("correios", _events("a", "old", "bad"))
    assert claims.claims == {("correios", "old"): Claim("evt_old", False, STALE)}


def test_an_event_sqs_refused_after_a_take_over_is_handed_back_not_deleted() -> None:
    claims = FakeClaims()
    claims.claims[("correios", "old")] = Claim("evt_old", False, STALE)
    with pytest.raises(EnqueueFailedError):
        _ingest(claims, FakeQueue(refuse={"old"})).accept("correios", _events("old"))
    assert claims.claims == {("correios", "old"): Claim("evt_old", False, STALE)}


def test_a_failing_confirm_keeps_every_event_id_for_the_resend() -> None:
    # Queued events keep a pending claim: once stale, the resend queues the same event_id
    # (which the fan-out sends once) instead of a new one (which it would send again).
    claims, queue = FlakyConfirm(), FakeQueue(refuse={"b"})
    with pytest.raises(RuntimeError):
        _ingest(claims, queue).accept("correios", _events("a", "b"))
    assert list(claims.claims) == [("correios", "a"), ("correios", "b")]
    assert not claims.claims[("correios", "a")].confirmed
    assert NOW - claims.claims[("correios", "b")].claimed_at > STALE_CLAIM_AFTER
    claims.down = False
    again = FakeQueue()
    resend = _ingest(claims, again, now=NOW + STALE_CLAIM_AFTER * 2).accept(
        "correios", _events("a")
    )
    assert resend.events[0].event_id == queue.sent[0].event_id == again.sent[0].event_id
    assert not resend.events[0].duplicate
