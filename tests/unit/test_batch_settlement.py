"""An invocation's batch is settled at once: its writes are shared by every message, and
what could not be written fails only the message it belongs to."""

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from parcelhooks.core.deliveries import DeliveryJob
from parcelhooks.core.ids import delivery_id
from parcelhooks.delivery.fanout import QueuedMessage
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import FanoutKit

A, B, C = "merchant-a", "merchant-b", "merchant-c"


def _kit(scripts: dict[str, list[Any]] | None = None, **kwargs: Any) -> FanoutKit:
    """One subscription per merchant, each at its own host."""
    subs = [
        subscription(id=f"sub_{m[-1]}", merchant_id=m, url=f"https://{m}.example/h")
        for m in (A, B, C)
    ]
    return FanoutKit(subs, scripts=scripts, **kwargs)


def _batch(*merchants: str) -> list[QueuedMessage]:
    return [
        QueuedMessage(
            f"msg-{i}",
            shipment_event(event_id=f"evt_{i}", merchant_id=merchant).model_dump_json(),
        )
        for i, merchant in enumerate(merchants)
    ]


def _handle(kit: FanoutKit, messages: list[QueuedMessage]) -> list[str]:
    return asyncio.run(kit.fanout.handle_batch(messages))


def _counting[**P, T](calls: list[int], function: Callable[P, T]) -> Callable[P, T]:
    def counted(*args: P.args, **kwargs: P.kwargs) -> T:
        calls.append(1)
        return function(*args, **kwargs)

    return counted


def test_a_batch_writes_its_log_once_and_reads_each_merchant_once() -> None:
    kit = _kit({"https://merchant-b.example/h": [500]})
    writes: list[int] = []
    listings: list[int] = []
    schedules: list[int] = []
    kit.log.record = _counting(writes, kit.log.record)  # type: ignore[method-assign]
    kit.subscriptions.list_for_merchant = _counting(  # type: ignore[method-assign]
        listings, kit.subscriptions.list_for_merchant
    )
    kit.retries.schedule = _counting(schedules, kit.retries.schedule)  # type: ignore[method-assign]
    assert _handle(kit, _batch(A, A, B, B, C)) == []
    assert len(kit.sender.requests) == 5
    # Delivered lines first (one write), then the failures' lines (one write).
    assert len(writes) == 2 and len(kit.log.attempts) == 5
    assert len(listings) == 3  # one per merchant, not per message
    assert len(schedules) == 1 and len(kit.retries.jobs) == 2


def test_a_batch_adds_up_each_endpoints_counts_before_writing_them() -> None:
    kit = _kit({"https://merchant-b.example/h": [500]})
    counted: list[tuple[str, int, int]] = []
    original = kit.health.count

    def count(subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        counted.append((subscription_id, held, pending))
        original(subscription_id, held=held, pending=pending)

    kit.health.count = count  # type: ignore[method-assign]
    _handle(kit, _batch(B, B, B))
    assert counted == [("sub_b", 0, 3)]


def test_batch_settlement_with_one_message_failing_fails_only_that_message() -> None:
    kit = _kit()
    kit.log.refuse = lambda record: record.merchant_id == B
    assert _handle(kit, _batch(A, B, C, A)) == ["msg-1"]
    # The others are settled: their lines are written (line by line after the batch failed).
    assert sorted(a.event_id for a in kit.log.attempts) == ["evt_0", "evt_2", "evt_3"]
    # Handed back, the failed message sends only its own delivery, and settles.
    kit.log.refuse = lambda record: False
    sent = len(kit.sender.requests)
    assert _handle(kit, [QueuedMessage("msg-1", _batch(A, B)[1].body)]) == []
    assert [r.url for r in kit.sender.requests[sent:]] == ["https://merchant-b.example/h"]


def test_a_message_that_cannot_be_read_fails_alone() -> None:
    kit = _kit()
    messages = [*_batch(A, B), QueuedMessage("msg-bad", "not json")]
    assert _handle(kit, messages) == ["msg-bad"]
    assert sorted(a.event_id for a in kit.log.attempts) == ["evt_0", "evt_1"]


def test_dead_letters_refused_for_one_message_fail_only_that_message() -> None:
    kit = _kit(
        {"https://merchant-a.example/h": [500], "https://merchant-b.example/h": [500]},
        schedule_s=(),  # no retries: straight to the dead-letter queue
    )
    sends: list[int] = []
    kit.dead_letters.refuse = lambda letter: letter.merchant_id == B
    kit.dead_letters.send = _counting(sends, kit.dead_letters.send)  # type: ignore[method-assign]
    assert _handle(kit, _batch(A, B)) == ["msg-1"]
    # One send for the batch; the letter the queue took is not sent a second time.
    assert len(sends) == 1
    assert [letter.merchant_id for letter in kit.dead_letters.dead] == [A]
    outcomes = {a.merchant_id: a.outcome for a in kit.log.attempts}
    # B's line says retry: the attempt is made again when SQS hands its message back.
    assert outcomes == {A: "exhausted", B: "retry"}


def test_a_dead_letter_queue_that_fails_outright_fails_every_message_with_letters() -> None:
    kit = _kit(
        {"https://merchant-a.example/h": [500], "https://merchant-b.example/h": [500]},
        schedule_s=(),
    )
    kit.dead_letters.broken = True
    assert sorted(_handle(kit, _batch(A, B, C))) == ["msg-0", "msg-1"]
    outcomes = {a.merchant_id: a.outcome for a in kit.log.attempts}
    assert outcomes == {A: "retry", B: "retry", C: "delivered"}


def test_a_job_not_due_that_the_retry_queue_refuses_fails_only_its_message() -> None:
    kit = _kit({"https://merchant-b.example/h": [500]})
    waiting = DeliveryJob.after_failure(
        shipment_event(event_id="evt_later", merchant_id=A),
        subscription(id="sub_a", merchant_id=A, url="https://merchant-a.example/h"),
        attempt=2,
        due_at=NOW + timedelta(hours=1),
        first_attempt_at=NOW,
        sent_at=NOW,
        status=500,
        error=None,
        schedule_from=1,
    )
    original = kit.retries.schedule

    def schedule(jobs: Sequence[DeliveryJob], now: Any) -> list[DeliveryJob]:
        refused = [job for job in jobs if job.delivery_id == waiting.delivery_id]
        original([job for job in jobs if job not in refused], now)
        return refused

    kit.retries.schedule = schedule  # type: ignore[method-assign]
    messages = [QueuedMessage("msg-job", waiting.model_dump_json()), *_batch(B)]
    assert _handle(kit, messages) == ["msg-job"]
    # The other message's retry is queued all the same.
    assert [job.delivery_id for job in kit.retries.jobs] == [delivery_id("evt_0", "sub_b", NOW)]
