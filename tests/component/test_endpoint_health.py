"""Endpoint health's shared limits across invocations, on the DynamoDB table under moto and on
testkit's in-memory store, which must agree with it. (The breaker's states, held deliveries
and operational events: tests/unit/test_endpoint_health.py.)"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta

import boto3
import pytest

from parcelhooks.aws.endpoint_health_table import EndpointHealthTable
from parcelhooks.core.health import EndpointHealth, Limits, Observation
from parcelhooks.delivery.gate import EndpointGate, HealthStore
from testkit.factories import NOW, subscription
from testkit.fakes import TEST_BREAKER, FakeHealthStore


@pytest.fixture
def health_table(moto_stack: dict[str, str]) -> EndpointHealthTable:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["ENDPOINT_HEALTH_TABLE"]
    )
    return EndpointHealthTable(table)


def _admit(store: HealthStore, limits: Limits, now: datetime) -> str | None:
    lease, _ = store.admit(
        "sub_1", limits, pause_after_failures=5, lease_until=now + timedelta(seconds=30), now=now
    )
    return lease


def test_lanes_are_shared_across_invocations(health_table: EndpointHealthTable) -> None:
    # Two table objects: two fan-out invocations, one DynamoDB item.
    first, second = health_table, EndpointHealthTable(health_table._table)
    limits = Limits(max_in_flight=2, interval_s=None, burst_s=0.0)
    lanes = [_admit(first, limits, NOW), _admit(second, limits, NOW)]
    assert None not in lanes and _admit(second, limits, NOW) is None
    first.release("sub_1", lanes[0] or "", Observation.SUCCESS, now=NOW)
    assert _admit(second, limits, NOW) is not None
    assert first.read("sub_1").in_flight == 2


def test_a_crashed_worker_s_lane_comes_back_when_it_expires(
    health_table: EndpointHealthTable,
) -> None:
    limits = Limits(max_in_flight=1, interval_s=None, burst_s=0.0)
    assert _admit(health_table, limits, NOW) is not None  # never released: a crash
    assert _admit(health_table, limits, NOW + timedelta(seconds=29)) is None
    assert _admit(health_table, limits, NOW + timedelta(seconds=31)) is not None
    assert health_table.read("sub_1").in_flight == 1


def test_a_lane_released_after_it_expired_still_records_the_answer(
    health_table: EndpointHealthTable,
) -> None:
    limits = Limits(max_in_flight=1, interval_s=None, burst_s=0.0)
    late = _admit(health_table, limits, NOW) or ""
    taken_back = _admit(health_table, limits, NOW + timedelta(seconds=31)) or ""
    after = health_table.release("sub_1", late, Observation.FAILURE, now=NOW)
    assert (after.consecutive_failures, after.in_flight) == (1, 1)  # the new lane still counts
    health_table.release("sub_1", taken_back, Observation.SUCCESS, now=NOW)
    assert health_table.read("sub_1").in_flight == 0


@pytest.mark.parametrize("store_kind", ["dynamodb", "memory"])
def test_the_rate_limit_holds_across_two_invocations_on_a_fake_clock(
    store_kind: str, moto_stack: dict[str, str]
) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["ENDPOINT_HEALTH_TABLE"]
    )
    stores: list[HealthStore] = (
        [EndpointHealthTable(table), EndpointHealthTable(table)]
        if store_kind == "dynamodb"
        else [FakeHealthStore()] * 2
    )
    sub = subscription(id="sub_1", rate_limit_per_second=4, max_in_flight=256)
    limits = Limits.of(sub, slowed=False)
    granted: list[datetime] = []
    now = NOW
    # Both invocations ask every 50 ms for 5 s, and give each lane straight back.
    for _ in range(100):
        for store in stores:
            lease = _admit(store, limits, now)
            if lease is not None:
                granted.append(now)
                store.release("sub_1", lease, Observation.SUCCESS, now=now)
        now += timedelta(milliseconds=50)
    # A burst of 4 (one second's worth), then 4 a second.
    assert 4 * 5 <= len(granted) <= 4 * 5 + 4
    for start in granted:
        window = [t for t in granted if start <= t < start + timedelta(seconds=1)]
        assert len(window) <= 4 + 4


def test_a_slowed_endpoint_gets_one_lane_and_half_the_rate(
    health_table: EndpointHealthTable,
) -> None:
    limits = Limits(max_in_flight=8, interval_s=None, burst_s=0.0)
    lane = _admit(health_table, limits, NOW) or ""
    health_table.release(
        "sub_1",
        lane,
        Observation.THROTTLED,
        now=NOW,
        hold_until=NOW + timedelta(seconds=2),
        slow_until=NOW + timedelta(minutes=5),
    )
    assert _admit(health_table, limits, NOW + timedelta(seconds=1)) is None  # held back
    later = NOW + timedelta(seconds=3)
    assert _admit(health_table, limits, later) is not None
    assert _admit(health_table, limits, later) is None  # slowed: one at a time
    slowed = Limits.of(subscription(rate_limit_per_second=10), slowed=True)
    assert slowed.interval_s == pytest.approx(0.2)


def test_the_gate_puts_a_delivery_off_when_the_endpoint_stays_busy(
    health_table: EndpointHealthTable,
) -> None:
    sub = subscription(id="sub_1", max_in_flight=1)
    with ThreadPoolExecutor(max_workers=2) as executor:
        gate = EndpointGate(
            health_table,
            TEST_BREAKER,
            delivery_timeout_s=10,
            executor=executor,
            clock=lambda: NOW,
            wait_budget_s=0.2,
        )
        first = asyncio.run(gate.admit(sub))
        second = asyncio.run(gate.admit(sub))
    assert first.lease is not None and second.lease is None


@pytest.mark.parametrize("store_kind", ["dynamodb", "memory"])
def test_an_answer_on_a_lane_of_an_invocation_s_own_is_recorded_alone(
    store_kind: str, moto_stack: dict[str, str]
) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["ENDPOINT_HEALTH_TABLE"]
    )
    store: HealthStore = (
        EndpointHealthTable(table) if store_kind == "dynamodb" else FakeHealthStore()
    )
    failed = store.record("sub_1", Observation.FAILURE, now=NOW)
    assert (failed.consecutive_failures, failed.failing_since, failed.in_flight) == (1, NOW, 0)
    held = store.record(
        "sub_1", Observation.THROTTLED, now=NOW, hold_until=NOW + timedelta(seconds=5)
    )
    assert held.hold_until == NOW + timedelta(seconds=5)
    later = NOW + timedelta(seconds=9)
    ok = store.record("sub_1", Observation.SUCCESS, now=later)
    assert (ok.consecutive_failures, ok.failing_since, ok.hold_until) == (0, None, None)
    assert ok.last_success_at == later
    # An answer that says nothing of the endpoint changes nothing, and is the record as read.
    assert store.record("sub_1", Observation.NEUTRAL, now=later) == store.read("sub_1") == ok
    # A hold alone (the probe's, set after a failure paused the endpoint) is only the hold.
    hold = later + timedelta(seconds=30)
    assert store.record("sub_1", Observation.NEUTRAL, now=later, hold_until=hold) == replace(
        ok, hold_until=hold
    )


def test_records_are_read_together_and_an_endpoint_never_written_reads_fresh(
    health_table: EndpointHealthTable,
) -> None:
    now = NOW
    health_table.record("sub_a", Observation.FAILURE, now=now)
    health_table.record("sub_b", Observation.SUCCESS, now=now)
    read = health_table.read_many(["sub_a", "sub_b", "sub_never"])
    assert read["sub_a"].consecutive_failures == 1
    assert read["sub_b"].last_success_at == now
    assert read["sub_never"] == EndpointHealth()
    assert read == {id_: health_table.read(id_) for id_ in read}
