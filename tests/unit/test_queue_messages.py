"""Every kind of queue message, read back as the kind it was written as, and each way a
delivery comes to wait for an attempt built by its own constructor."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from parcelhooks.core.deliveries import DeadLetter, DeliveryJob, queue_message
from parcelhooks.core.ids import delivery_id
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.operational import OperationalEvent
from testkit.factories import NOW, disabled_notice, shipment_event, subscription

SUB = subscription(id="sub_1")
EVENT = shipment_event(event_id="evt_1")
LATER = NOW + timedelta(minutes=5)


def _failed_once() -> DeliveryJob:
    return DeliveryJob.after_failure(
        EVENT,
        SUB,
        attempt=2,
        due_at=LATER,
        first_attempt_at=NOW,
        sent_at=NOW,
        status=503,
        error=None,
        schedule_from=1,
    )


@pytest.mark.parametrize(
    "message",
    [
        EVENT,
        disabled_notice("evt_op", NOW),
        _failed_once(),
        DeliveryJob.asked_by_merchant(EVENT, SUB, attempt=3, now=NOW),
    ],
    ids=["shipment", "operational", "retry", "merchant retry"],
)
def test_each_kind_of_message_is_read_back_as_itself(
    message: ShipmentEvent | OperationalEvent | DeliveryJob,
) -> None:
    read = queue_message(message.model_dump_json())
    assert type(read) is type(message)
    assert read == message


def test_a_message_of_no_known_shape_is_refused() -> None:
    with pytest.raises(ValidationError):
        queue_message('{"kind": "retry", "delivery_id": "dlv_1"}')
    with pytest.raises(ValidationError):
        queue_message("not json")


def test_the_attempt_after_a_failure_carries_its_answer_and_its_schedule() -> None:
    job = _failed_once()
    assert job.delivery_id == delivery_id("evt_1", "sub_1", NOW)
    assert (job.attempt, job.due_at, job.last_attempt_at, job.last_status) == (2, LATER, NOW, 503)
    assert (job.force, job.origin, job.deferrals, job.counted) == (False, "schedule", 0, False)


def _put_off(waiting: DeliveryJob | None, attempt: int, now: datetime) -> DeliveryJob:
    return DeliveryJob.put_off(
        EVENT,
        SUB,
        waiting=waiting,
        attempt=attempt,
        due_at=LATER,
        first_attempt_at=NOW,
        schedule_from=attempt,
        origin=waiting.origin if waiting else "schedule",
        now=now,
    )


def test_a_put_off_attempt_keeps_what_its_job_carried_and_counts_the_wait() -> None:
    merchant = DeliveryJob.asked_by_merchant(EVENT, SUB, attempt=3, now=NOW)
    later = _put_off(merchant, 3, LATER)
    assert (later.force, later.origin, later.deferrals, later.due_at) == (
        True,
        "merchant",
        1,
        LATER,
    )
    first = _put_off(None, 1, NOW)
    assert (first.deferrals, first.last_attempt_at, first.force) == (1, NOW, False)


def test_a_merchant_s_retry_is_forced_counted_and_starts_its_schedule_at_its_attempt() -> None:
    job = DeliveryJob.asked_by_merchant(EVENT, SUB, attempt=3, now=NOW)
    assert (job.force, job.counted, job.origin, job.schedule_from, job.due_at) == (
        True,
        True,
        "merchant",
        3,
        NOW,
    )


def test_a_redriven_delivery_continues_its_attempts_on_a_fresh_schedule() -> None:
    dead = DeadLetter.of(_failed_once())
    job = DeliveryJob.redriven(dead, LATER)
    assert (job.attempt, job.schedule_from, job.origin, job.due_at) == (2, 2, "redrive", LATER)
    assert (job.last_status, job.first_attempt_at) == (503, NOW)
