"""Recovering held deliveries against in-memory stores: what was queued is counted, what was
refused is answered, and the counts failing does not lose the answer; and the `*` filter.
(Endpoint health through the merchant API on moto: tests/component/test_health_api.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from parcelhooks.core.deliveries import AttemptRecord, DeliveryJob, Outcome, delivery_id_of
from parcelhooks.core.errors import EnqueueFailedError
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.models import Subscription
from parcelhooks.core.operational import WebhookEvent
from parcelhooks.delivery.http.netguard import GuardPolicy
from parcelhooks.merchant_api.deliveries import DeliveryAdmin
from parcelhooks.merchant_api.subscriptions import Subscriptions
from testkit.factories import (
    NOW,
    attempt_record,
    disabled_notice,
    held_attempt,
    shipment_event,
    subscription,
)
from testkit.fakes import TEST_BREAKER, FakeSealer


def _three_events(start: datetime) -> list[WebhookEvent]:
    """In order of occurrence: a notice, then two scans of the same instant by sequence."""
    scanned = start + timedelta(minutes=10)
    return [
        disabled_notice("evt_notice", start),
        shipment_event(event_id="evt_seq_4", occurred_at=scanned, sequence=4),
        shipment_event(event_id="evt_seq_5", occurred_at=scanned, sequence=5),
    ]


class _Store:
    def __init__(self, only: Subscription) -> None:
        self.only = only

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        found = (merchant_id, subscription_id) == (self.only.merchant_id, self.only.id)
        return self.only if found else None


class _Log:
    def __init__(self, records: list[AttemptRecord]) -> None:
        self.records = records

    def since(
        self, subscription_id: str, since: datetime, limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        return self.records, False


class _Queue:
    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.jobs: list[DeliveryJob] = []

    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        self.jobs.extend(j for j in jobs if j.event.event_id not in self.refuse)
        return [j for j in jobs if j.event.event_id in self.refuse]


class _Counts:
    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.calls: list[tuple[str, int, int]] = []

    def read(self, subscription_id: str) -> EndpointHealth:
        return EndpointHealth()

    def reset_breaker(self, subscription_id: str) -> None:
        pass

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        if self.broken:
            raise RuntimeError("health table unavailable")
        self.calls.append((subscription_id, held, pending))


def _admin(records: list[AttemptRecord], queue: _Queue, counts: _Counts) -> DeliveryAdmin:
    subscriptions = Subscriptions(
        _Store(subscription()),  # type: ignore[arg-type]
        health=counts,
        breaker=TEST_BREAKER,
        policy=GuardPolicy(),
        max_per_merchant=50,
        sealer=FakeSealer(),
    )
    return DeliveryAdmin(
        log=_Log(records),  # type: ignore[arg-type]
        subscriptions=subscriptions,
        resender=queue,
        counts=counts,
        recover_window=timedelta(days=30),
        clock=lambda: NOW,
    )


def _mixed_lines() -> list[AttemptRecord]:
    """Two held deliveries and one that failed its last attempt, logged in that order."""
    start = NOW - timedelta(hours=2)
    notice, fourth, fifth = _three_events(start)
    failed = attempt_record(
        delivery_id=delivery_id_of(notice, "sub_1"),
        event_id=notice.event_id,
        event_type=notice.type,
        attempted_at=start + timedelta(minutes=30),
        outcome="retry",
        event=notice,
    )
    return [
        held_attempt("sub_1", fifth, start + timedelta(minutes=20)),
        held_attempt("sub_1", fourth, start + timedelta(minutes=21)),
        failed,
    ]


def test_only_what_was_queued_is_counted_and_the_refusal_is_answered() -> None:
    queue, counts = _Queue(refuse=frozenset({"evt_seq_4"})), _Counts()
    admin = _admin(_mixed_lines(), queue, counts)
    with pytest.raises(EnqueueFailedError, match="1 of 3"):
        admin.recover("merchant-a", "sub_1", NOW - timedelta(days=1))
    assert [j.event.event_id for j in queue.jobs] == ["evt_notice", "evt_seq_5"]
    assert counts.calls == [("sub_1", -1, 2)]  # evt_seq_5 left held; evt_seq_4 did not


def test_recover_answers_what_it_queued_when_the_counts_cannot_be_written() -> None:
    queue = _Queue()
    admin = _admin(_mixed_lines(), queue, _Counts(broken=True))
    recovered = admin.recover("merchant-a", "sub_1", NOW - timedelta(days=1))
    assert (recovered.recovered, recovered.held) == (3, 2)
    assert [j.event.event_id for j in queue.jobs] == ["evt_notice", "evt_seq_4", "evt_seq_5"]


def test_the_every_type_filter_leaves_the_operational_events_to_those_who_name_them() -> None:
    everything = subscription(event_types=["*"])
    assert everything.wants("shipment.delivered") and everything.wants("webhook.test")
    assert not everything.wants("subscription.disabled")
    assert not everything.wants("delivery.exhausted")
    named = subscription(event_types=["*", "delivery.exhausted"])
    assert named.wants("delivery.exhausted") and not named.wants("subscription.disabled")


def test_recover_sends_a_render_error_again_as_the_attempt_that_was_never_made() -> None:
    event = shipment_event()
    line = attempt_record(
        event=event,
        event_id=event.event_id,
        outcome=Outcome.RENDER_ERROR,
        status_code=None,
        error="template: line 1: 'dict object' has no attribute 'buyer_phone'",
        attempted_at=NOW - timedelta(hours=1),
        attempt=1,
    )
    queue = _Queue()
    recovered = _admin([line], queue, _Counts()).recover(
        "merchant-a", "sub_1", NOW - timedelta(days=1)
    )
    assert recovered.recovered == 1
    [job] = queue.jobs
    # Nothing was sent, so the re-send is attempt 1 still, sent whatever the log says.
    assert (job.event.event_id, job.attempt, job.force) == (event.event_id, 1, True)
