"""Redrive of the dead-letter queues, against an in-memory DLQ that keeps SQS's visibility rules."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from pydantic import ValidationError

from parcelhooks.core.deliveries import DeadLetter, DeliveryJob
from parcelhooks.core.held_messages import HeldMessage
from parcelhooks.core.models import ShipmentEvent, Subscription
from parcelhooks.ops.redrive import Redrive, RedriveRequest
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import FanoutKit


@dataclass
class _Stored:
    body: str
    sent_at: datetime
    handle: str | None = None  # set while a run holds it


class FakeDLQ:
    """Receive hides a message until it is released, deleted or its hold runs out (`expire`)."""

    def __init__(self) -> None:
        self.messages: list[_Stored] = []
        self._handles = count()
        self._lock = threading.Lock()

    def add(self, body: str, sent_at: datetime = NOW) -> None:
        self.messages.append(_Stored(body, sent_at))

    def receive(self, max_count: int) -> list[HeldMessage]:
        with self._lock:
            visible = [m for m in self.messages if m.handle is None][:max_count]
            for message in visible:
                message.handle = f"h{next(self._handles)}"
            return [HeldMessage(m.body, m.handle or "", m.sent_at) for m in visible]

    def release(self, handles: Sequence[str]) -> None:
        with self._lock:
            for message in self.messages:
                if message.handle in handles:
                    message.handle = None

    def delete(self, handles: Sequence[str]) -> None:
        with self._lock:
            self.messages = [m for m in self.messages if m.handle not in handles]

    def expire(self) -> None:
        """Every hold runs out, as after a crash."""
        for message in self.messages:
            message.handle = None


class CrashingDLQ(FakeDLQ):
    def delete(self, handles: Sequence[str]) -> None:
        raise RuntimeError("the function died between send and delete")


class Sinks:
    def __init__(self, refuse: set[str] | None = None) -> None:
        self.events: list[ShipmentEvent] = []
        self.jobs: list[DeliveryJob] = []
        self.refuse = refuse or set()

    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        self.events += [e for e in events if e.event_id not in self.refuse]
        return [e.event_id for e in events if e.event_id in self.refuse]

    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        self.jobs += [j for j in jobs if j.delivery_id not in self.refuse]
        return [j for j in jobs if j.delivery_id in self.refuse]


class Subscriptions:
    def __init__(self, *subscriptions: Subscription) -> None:
        self.by_id = {s.id: s for s in subscriptions}

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        found = self.by_id.get(subscription_id)
        return found if found is not None and found.merchant_id == merchant_id else None


def dead_letter(
    n: int, *, merchant: str = "merchant-a", sub: str = "sub_1", **event: Any
) -> DeadLetter:
    return DeadLetter(
        delivery_id=f"dlv_{n}",
        event=shipment_event(event_id=f"evt_{n}", merchant_id=merchant, **event),
        subscription_id=sub,
        merchant_id=merchant,
        attempts=8,
        last_status=500,
        last_error=None,
        first_attempt_at=NOW - timedelta(hours=28),
        last_attempt_at=NOW - timedelta(hours=n),
    )


def _kit(
    dlq: FakeDLQ, *subscriptions: Subscription, refuse: set[str] | None = None
) -> tuple[Redrive, Sinks]:
    sinks = Sinks(refuse)
    known = subscriptions or (
        subscription(id="sub_1", merchant_id="merchant-a"),
        subscription(id="sub_2", merchant_id="merchant-a"),
        subscription(id="sub_9", merchant_id="merchant-b"),
    )
    redrive = Redrive(
        dead_letters=lambda queue: dlq,
        events=sinks,
        retries=sinks,
        subscriptions=Subscriptions(*known),
        clock=lambda: NOW,
    )
    return redrive, sinks


def _request(**fields: Any) -> RedriveRequest:
    return RedriveRequest.model_validate({"queue": "deliveries", **fields})


def _fill(dlq: FakeDLQ, *letters: DeadLetter) -> None:
    for letter in letters:
        dlq.add(letter.model_dump_json())


def test_a_dead_letter_goes_back_with_its_delivery_id_a_fresh_schedule_and_its_numbering() -> None:
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1))
    redrive, sinks = _kit(dlq)
    result = redrive.run(_request())
    assert (result.matched, result.moved, result.left, result.skipped) == (1, 1, 0, 0)
    [job] = sinks.jobs
    assert (job.delivery_id, job.event.event_id) == ("dlv_1", "evt_1")  # same webhook-id
    assert (job.attempt, job.schedule_from, job.due_at) == (9, 9, NOW)
    assert job.origin == "redrive" and job.force is False
    assert dlq.messages == []


@pytest.mark.parametrize(
    ("filters", "moved"),
    [
        ({"merchant_id": "merchant-b"}, ["dlv_3"]),
        ({"subscription_id": "sub_2"}, ["dlv_2"]),
        ({"event_type": "shipment.posted"}, ["dlv_2"]),
        ({"since": (NOW - timedelta(hours=2)).isoformat()}, ["dlv_1", "dlv_2"]),
        ({"merchant_id": "merchant-a", "subscription_id": "sub_1"}, ["dlv_1"]),
    ],
)
def test_only_matching_dead_letters_move_and_the_rest_stay_readable(
    filters: dict[str, Any], moved: list[str]
) -> None:
    dlq = FakeDLQ()
    _fill(
        dlq,
        dead_letter(1),
        dead_letter(2, sub="sub_2", status="posted"),
        dead_letter(3, merchant="merchant-b", sub="sub_9"),
    )
    redrive, sinks = _kit(dlq)
    result = redrive.run(_request(**filters))
    assert sorted(j.delivery_id for j in sinks.jobs) == moved == sorted(result.moved_ids)
    assert result.left == 3 - len(moved) == len(dlq.messages)
    assert all(m.handle is None for m in dlq.messages)  # released: the next run sees them


def test_a_dry_run_moves_nothing_and_reports_exactly_what_would_move() -> None:
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1), dead_letter(2), dead_letter(3, merchant="merchant-b", sub="sub_9"))
    redrive, sinks = _kit(dlq)
    dry = redrive.run(_request(merchant_id="merchant-a", dry_run=True))
    assert sinks.jobs == [] and len(dlq.messages) == 3
    assert all(m.handle is None for m in dlq.messages)
    real = redrive.run(_request(merchant_id="merchant-a"))
    assert (dry.matched, dry.moved, sorted(dry.moved_ids)) == (
        real.matched,
        real.moved,
        sorted(real.moved_ids),
    )
    assert dry.dry_run and not real.dry_run


def test_max_messages_moves_that_many_and_leaves_the_rest() -> None:
    dlq = FakeDLQ()
    _fill(dlq, *(dead_letter(n) for n in range(1, 26)))
    redrive, sinks = _kit(dlq)
    result = redrive.run(_request(max_messages=12))
    assert result.moved == 12 == len(sinks.jobs) and len(dlq.messages) == 13
    assert redrive.run(_request(max_messages=100)).moved == 13 and dlq.messages == []


def test_dead_letters_of_disabled_or_deleted_subscriptions_are_skipped_and_kept() -> None:
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1), dead_letter(2, sub="sub_2"), dead_letter(3, sub="sub_gone"))
    disabled = subscription(id="sub_2", merchant_id="merchant-a", enabled=False)
    redrive, sinks = _kit(dlq, subscription(id="sub_1", merchant_id="merchant-a"), disabled)
    result = redrive.run(_request())
    assert (result.matched, result.moved, result.skipped, result.left) == (3, 1, 2, 2)
    assert sorted(result.skipped_ids) == ["dlv_2", "dlv_3"]
    assert [j.delivery_id for j in sinks.jobs] == ["dlv_1"] and len(dlq.messages) == 2


def test_a_crash_between_send_and_delete_loses_nothing_and_resends_the_same_delivery() -> None:
    dlq = CrashingDLQ()
    _fill(dlq, dead_letter(1))
    redrive, sinks = _kit(dlq)
    with pytest.raises(RuntimeError):
        redrive.run(_request())
    dlq.expire()  # the hold runs out: the message is back in the DLQ
    assert len(dlq.messages) == 1
    healthy = FakeDLQ()
    healthy.messages = dlq.messages
    again, _ = _kit(healthy)
    again._retries = sinks  # the same retry queue as before the crash
    assert again.run(_request()).moved == 1 and healthy.messages == []
    assert [j.delivery_id for j in sinks.jobs] == ["dlv_1", "dlv_1"]
    assert {j.event.event_id for j in sinks.jobs} == {"evt_1"}  # one webhook-id


def test_two_runs_at_once_never_move_one_message_twice() -> None:
    dlq = FakeDLQ()
    _fill(dlq, *(dead_letter(n) for n in range(1, 201)))
    redrive, sinks = _kit(dlq)
    results = []

    def run() -> None:
        results.append(redrive.run(_request(max_messages=1000)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    moved = [j.delivery_id for j in sinks.jobs]
    assert len(moved) == len(set(moved)) == 200
    assert sum(r.moved for r in results) == 200 and dlq.messages == []


def test_a_send_sqs_refuses_stays_in_the_dlq() -> None:
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1), dead_letter(2))
    redrive, sinks = _kit(dlq, refuse={"dlv_2"})
    result = redrive.run(_request())
    assert (result.moved, result.left) == (1, 1)
    assert [j.delivery_id for j in sinks.jobs] == ["dlv_1"]
    assert [json_id(m.body) for m in dlq.messages] == ["dlv_2"]


def json_id(body: str) -> str:
    return DeadLetter.model_validate_json(body).delivery_id


def test_unreadable_dead_letters_stay_and_are_counted_left() -> None:
    dlq = FakeDLQ()
    dlq.add("not json")
    dlq.add('{"delivery_id": "x"}')
    _fill(dlq, dead_letter(1))
    redrive, _ = _kit(dlq)
    result = redrive.run(_request())
    assert (result.matched, result.moved, result.left) == (1, 1, 2) and len(dlq.messages) == 2


def test_poison_events_go_back_to_the_events_queue_and_poison_retries_to_the_retry_queue() -> None:
    dlq = FakeDLQ()
    event = shipment_event(event_id="evt_poison", merchant_id="merchant-a")
    dlq.add(event.model_dump_json(), sent_at=NOW - timedelta(hours=1))
    job = DeliveryJob(
        delivery_id="dlv_9",
        event=shipment_event(event_id="evt_9", merchant_id="merchant-a"),
        subscription_id="sub_1",
        merchant_id="merchant-a",
        attempt=3,
        due_at=NOW - timedelta(days=1),
        first_attempt_at=NOW - timedelta(days=1),
        last_attempt_at=NOW - timedelta(days=1),
    )
    dlq.add(job.model_dump_json(), sent_at=NOW - timedelta(days=1))
    redrive, sinks = _kit(dlq)
    result = redrive.run(_request(queue="events"))
    assert result.moved == 2 and dlq.messages == []
    assert [e.event_id for e in sinks.events] == ["evt_poison"]
    assert [(j.delivery_id, j.attempt, j.due_at) for j in sinks.jobs] == [("dlv_9", 3, NOW)]
    assert redrive.run(_request(queue="events", since=NOW.isoformat())).matched == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"queue": "nope"},
        {"queue": "deliveries", "max_messages": 0},
        {"queue": "deliveries", "max_messages": 100_000},
        {"queue": "deliveries", "merchant_id": "a#b"},
        {"queue": "deliveries", "since": "yesterday"},
        {"queue": "deliveries", "since": "2026-11-28T10:00:00"},  # no offset
        {"queue": "deliveries", "surprise": 1},
    ],
)
def test_a_bad_payload_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RedriveRequest.model_validate(payload)


def test_the_redriven_attempt_is_logged_as_a_redrive_and_its_retries_as_scheduled() -> None:
    sub = subscription(id="sub_1", merchant_id="merchant-a")
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1))
    redrive, sinks = _kit(dlq)
    redrive.run(_request())
    [job] = sinks.jobs
    asyncio.run(kit.fanout.handle_message(job.model_dump_json()))
    [attempt] = kit.log.attempts
    assert (attempt.attempt, attempt.origin) == (9, "redrive")
    [next_job] = kit.retries.jobs
    assert (next_job.attempt, next_job.origin) == (10, "schedule")


def _redriven(kit: FanoutKit, dlq: FakeDLQ) -> None:
    """Redrive what `dlq` holds, then work the fan-out until nothing is left to retry."""
    redrive, sinks = _kit(dlq)
    redrive.run(_request())
    [job] = sinks.jobs
    asyncio.run(kit.fanout.handle_message(job.model_dump_json()))
    for retry in kit.retries.jobs:  # each retry worked appends the next, if there is one
        kit.now = retry.due_at
        asyncio.run(kit.fanout.handle_message(retry.model_dump_json()))


def test_a_redriven_delivery_that_fails_again_is_logged_exhausted_and_dead_lettered_again() -> None:
    sub = subscription(id="sub_1", merchant_id="merchant-a")
    kit = FanoutKit([sub], scripts={sub.url: [500, 500, 503]}, schedule_s=(1, 2))
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1))
    _redriven(kit, dlq)
    assert [(a.attempt, a.origin, a.outcome) for a in kit.log.attempts] == [
        (9, "redrive", "retry"),
        (10, "schedule", "retry"),
        (11, "schedule", "exhausted"),
    ]
    assert (kit.log.attempts[-1].status_code, kit.log.attempts[-1].next_attempt_at) == (503, None)
    [dead] = kit.dead_letters.dead
    assert (dead.event.event_id, dead.attempts, dead.last_status) == ("evt_1", 11, 503)


def test_a_redriven_delivery_whose_one_attempt_fails_is_logged_exhausted_as_a_redrive() -> None:
    sub = subscription(id="sub_1", merchant_id="merchant-a")
    kit = FanoutKit([sub], scripts={sub.url: [None]}, schedule_s=())
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1))
    _redriven(kit, dlq)
    [line] = kit.log.attempts
    assert (line.attempt, line.origin, line.outcome) == (9, "redrive", "exhausted")
    assert (line.status_code, line.error) == (None, "connection_error")
    assert [dead.attempts for dead in kit.dead_letters.dead] == [9]


def test_a_redriven_delivery_that_succeeds_is_logged_delivered() -> None:
    sub = subscription(id="sub_1", merchant_id="merchant-a")
    kit = FanoutKit([sub], scripts={sub.url: [204]})
    dlq = FakeDLQ()
    _fill(dlq, dead_letter(1))
    _redriven(kit, dlq)
    [line] = kit.log.attempts
    assert (line.attempt, line.origin, line.outcome) == (9, "redrive", "delivered")
    assert kit.dead_letters.dead == [] and kit.retries.jobs == []
