"""Each fan-out invocation's own share of an endpoint's lanes: the bound it keeps with the
template's numbers, and the writes it saves (the shared record's rules themselves:
tests/unit/test_endpoint_health.py and tests/component/test_endpoint_health.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import Collection
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devstack.template import parameter_default, resources
from parcelhooks.core.health import EndpointHealth, Limits, Observation, lane_share
from parcelhooks.core.models import DEFAULT_MAX_IN_FLIGHT, MAX_IN_FLIGHT_LIMIT, Subscription
from parcelhooks.delivery.fanout import QueuedMessage
from parcelhooks.delivery.gate import SHARE_WAIT_S, EndpointGate
from parcelhooks.delivery.health import SUCCESS_NOTED_EVERY, worth_recording
from parcelhooks.delivery.http.sender import WebhookRequest
from parcelhooks.delivery.outcomes import AttemptResult
from parcelhooks.delivery.settings import FANOUT_EVENT_SOURCES
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import _EXECUTOR, TEST_BREAKER, FakeHealthStore, FanoutKit

# --- the bound --------------------------------------------------------------------------


@given(
    max_in_flight=st.integers(1, MAX_IN_FLIGHT_LIMIT),
    invocations=st.integers(1, 2 * 1000),
    rate=st.none() | st.floats(0.1, 1000),
)
def test_every_share_together_with_the_record_s_lanes_is_exactly_max_in_flight(
    max_in_flight: int, invocations: int, rate: float | None
) -> None:
    sub = subscription(max_in_flight=max_in_flight, rate_limit_per_second=rate)
    limits = Limits.of(sub, slowed=False, invocations=invocations)
    assert limits.share >= 0 and limits.max_in_flight >= 1
    assert invocations * limits.share + limits.max_in_flight == max_in_flight
    if rate is not None:
        assert limits.share == 0  # every send of a rate-limited endpoint takes a slot


def test_unknown_invocations_mean_no_share() -> None:
    assert lane_share(256, None) == 0
    assert Limits.of(subscription(max_in_flight=16), slowed=False).max_in_flight == 16


def _fanout_sources() -> list[dict[str, object]]:
    events = resources("AWS::Serverless::Function")["FanoutFunction"]["Events"]
    return [e["Properties"] for e in events.values() if e["Type"] == "SQS"]


def test_the_template_feeds_the_fanout_from_as_many_sources_as_the_share_counts() -> None:
    sources = _fanout_sources()
    assert len(sources) == FANOUT_EVENT_SOURCES
    for source in sources:
        limit = source["ScalingConfig"]["MaximumConcurrency"]  # type: ignore[index]
        assert (limit.tag, limit.value) == ("Ref", "FanoutMaxConcurrency")
    environment = resources("AWS::Serverless::Function")["FanoutFunction"]["Environment"]
    told = environment["Variables"]["FANOUT_MAX_CONCURRENCY"]
    assert (told.tag, told.value) == ("Ref", "FanoutMaxConcurrency")


def test_with_the_template_s_defaults_a_default_endpoint_has_a_lane_of_each_invocation_s_own() -> (
    None
):
    invocations = FANOUT_EVENT_SOURCES * int(parameter_default("FanoutMaxConcurrency"))
    limits = Limits.of(
        subscription(max_in_flight=DEFAULT_MAX_IN_FLIGHT), slowed=False, invocations=invocations
    )
    assert limits.share >= 1


@settings(max_examples=25, deadline=None)
@given(
    max_in_flight=st.integers(1, 12),
    invocations=st.integers(1, 5),
    per_invocation=st.integers(1, 8),
    failing=st.booleans(),
)
def test_invocations_at_once_never_have_more_than_max_in_flight_in_flight(
    max_in_flight: int, invocations: int, per_invocation: int, failing: bool
) -> None:
    """`invocations` gates (one per invocation) on one shared record, each sending a batch
    to one endpoint at once: the POSTs in flight together never pass max_in_flight."""
    sub = subscription(id="sub_1", max_in_flight=max_in_flight)
    store = FakeHealthStore()
    peak = in_flight = sent = 0

    async def post(gate: EndpointGate) -> None:
        nonlocal peak, in_flight, sent
        admission = await gate.admit(sub)
        if not admission.admitted:
            return
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.002)
        in_flight -= 1
        sent += 1
        await gate.release(sub, admission, AttemptResult(500 if failing else 204, 2.0))

    async def run() -> None:
        gates = [
            EndpointGate(
                store,
                TEST_BREAKER,
                delivery_timeout_s=10,
                executor=_EXECUTOR,
                clock=lambda: NOW,
                wait_budget_s=0.5,
                invocations=invocations,
            )
            for _ in range(invocations)
        ]
        await asyncio.gather(*(post(gate) for gate in gates for _ in range(per_invocation)))

    asyncio.run(run())
    assert sent >= 1 and peak <= max_in_flight


# --- the writes it saves ----------------------------------------------------------------


def _events(kit: FanoutKit, n: int, *, every: timedelta = timedelta(0)) -> None:
    for index in range(n):
        asyncio.run(
            kit.fanout.handle_message(shipment_event(event_id=f"evt_{index:04d}").model_dump_json())
        )
        kit.now += every


def test_a_healthy_endpoint_s_deliveries_take_no_lane_from_the_record() -> None:
    sub = subscription(max_in_flight=16)
    kit = FanoutKit([sub], invocations=14)
    _events(kit, 20, every=timedelta(seconds=1))
    assert len(kit.log.attempts) == 20
    assert kit.health.admissions == 0
    # The first success is written (nothing was yet), the rest within the minute are not.
    assert kit.health.records == 1
    assert kit.health.health(sub.id).last_success_at == NOW


def test_a_run_of_successes_is_noted_once_a_minute() -> None:
    sub = subscription(max_in_flight=16)
    kit = FanoutKit([sub], invocations=14)
    _events(kit, 7, every=timedelta(seconds=30))
    assert kit.health.admissions == 0
    assert kit.health.records == 4  # at 0 s, 60 s, 120 s and 180 s
    assert kit.health.health(sub.id).last_success_at == NOW + timedelta(seconds=180)


def test_failures_on_a_share_are_recorded_and_the_next_success_resets_them() -> None:
    sub = subscription(id="sub_1", max_in_flight=16)
    kit = FanoutKit([sub], scripts={sub.url: [500, 500, 204]}, invocations=14)
    _events(kit, 2)
    assert kit.health.health("sub_1").consecutive_failures == 2
    _events(kit, 1)
    health = kit.health.health("sub_1")
    assert (health.consecutive_failures, health.failing_since) == (0, None)
    assert kit.health.admissions == 0


def test_a_paused_endpoint_is_probed_through_the_record_not_the_share() -> None:
    sub = subscription(id="sub_1", max_in_flight=16)
    kit = FanoutKit([sub], scripts={sub.url: [500] * 5}, invocations=14)
    _events(kit, 5)
    assert kit.health.health("sub_1").paused(TEST_BREAKER)
    kit.now += timedelta(minutes=5)  # past the probe's hold (the gate's copy shows a pause)
    admissions = kit.health.admissions
    _events(kit, 1)
    assert kit.health.admissions == admissions + 1  # the probe's lane came from the record


def test_without_a_share_every_delivery_takes_a_lane_from_the_record() -> None:
    # Rate-limited, or max_in_flight not over the invocations: as before, a lease each.
    limited = subscription(id="sub_1", max_in_flight=16, rate_limit_per_second=100)
    narrow = subscription(id="sub_2", max_in_flight=14)
    kit = FanoutKit([limited, narrow], invocations=14)
    _events(kit, 3, every=timedelta(seconds=1))
    assert kit.health.admissions == 6


@given(
    observation=st.sampled_from(Observation),
    failures=st.integers(0, 3),
    since_success_s=st.none() | st.integers(0, 120),
)
def test_only_an_answer_that_changes_the_record_is_worth_a_write(
    observation: Observation, failures: int, since_success_s: int | None
) -> None:
    seen = EndpointHealth(
        consecutive_failures=failures,
        failing_since=NOW if failures else None,
        last_success_at=None
        if since_success_s is None
        else NOW - timedelta(seconds=since_success_s),
    )
    written = worth_recording(observation, seen, NOW)
    if observation is Observation.NEUTRAL:
        assert not written
    elif observation is not Observation.SUCCESS or failures:
        assert written
    else:
        stale = since_success_s is None or timedelta(seconds=since_success_s) >= SUCCESS_NOTED_EVERY
        assert written == stale


def test_deliveries_asking_at_once_read_the_record_once_per_invocation() -> None:
    sub = subscription(max_in_flight=16)
    kit = FanoutKit([sub], invocations=14)

    async def batch(first: int) -> None:
        await asyncio.gather(
            *(
                kit.fanout.handle_message(shipment_event(event_id=f"evt_{i}").model_dump_json())
                for i in range(first, first + 6)
            )
        )

    kit.fanout.begin_invocation()
    asyncio.run(batch(0))
    assert kit.health.reads == 1
    kit.fanout.begin_invocation()
    asyncio.run(batch(6))
    assert kit.health.reads == 2  # each invocation reads it afresh
    assert len(kit.log.attempts) == 12


def test_a_share_is_given_back_when_its_send_is_cut_off() -> None:
    """A delivery cancelled mid-send (the invocation's deadline) leaves its lane free for
    the next delivery of the same loop: no lease from the record, no lane lost."""
    sub = subscription(id="sub_1", max_in_flight=16)  # a share of one lane with 14 invocations
    kit = FanoutKit([sub], invocations=14)
    answer = kit.sender.send

    async def cut_off_once(request: WebhookRequest) -> AttemptResult:
        if len(kit.sender.requests) == 0:
            kit.sender.requests.append(request)
            raise asyncio.CancelledError
        return await answer(request)

    kit.sender.send = cut_off_once  # type: ignore[method-assign]

    async def scenario() -> None:
        first = shipment_event(event_id="evt_0").model_dump_json()
        with contextlib.suppress(asyncio.CancelledError):
            await kit.fanout.handle_message(first)
        await kit.fanout.handle_message(shipment_event(event_id="evt_1").model_dump_json())

    kit.fanout.begin_invocation()
    asyncio.run(scenario())
    assert len(kit.sender.requests) == 2
    assert kit.health.admissions == 0  # the second delivery had the share back


def test_a_failure_on_a_share_that_pauses_the_endpoint_holds_the_next_probe() -> None:
    """The invocation saw a healthy record, but other invocations' failures meanwhile make
    this failure the one that pauses the endpoint: the record gets the probe's hold all the
    same, so the next probe waits for it."""
    sub = subscription(id="sub_1", max_in_flight=16)
    kit = FanoutKit([sub], scripts={sub.url: [204, 500]}, invocations=14)
    kit.fanout.begin_invocation()

    async def scenario() -> None:
        # A success on the share: the healthy record is read, kept, and nothing written.
        await kit.fanout.handle_message(shipment_event(event_id="evt_0").model_dump_json())
        failures_elsewhere = TEST_BREAKER.pause_after_failures - 1
        endpoint = kit.health.endpoints[sub.id]
        endpoint.health = replace(endpoint.health, consecutive_failures=failures_elsewhere)
        await kit.fanout.handle_message(shipment_event(event_id="evt_1").model_dump_json())

    asyncio.run(scenario())
    assert kit.health.admissions == 0  # both on the share
    health = kit.health.health(sub.id)
    assert health.paused(TEST_BREAKER)
    assert health.hold_until == kit.now + TEST_BREAKER.probe_interval


def _gather_events(kit: FanoutKit, n: int) -> None:
    async def batch() -> None:
        await asyncio.gather(
            *(
                kit.fanout.handle_message(shipment_event(event_id=f"evt_{i}").model_dump_json())
                for i in range(n)
            )
        )

    kit.fanout.begin_invocation()
    asyncio.run(batch())


def test_siblings_to_a_healthy_endpoint_wait_for_the_share_instead_of_leasing() -> None:
    """One invocation's messages to the same endpoint, a share of one lane: each waits for
    the lane its sibling frees (answers arrive at once), and none writes for a lease."""
    sub = subscription(id="sub_1", max_in_flight=16)
    kit = FanoutKit([sub], invocations=14)
    _gather_events(kit, 6)
    assert len(kit.sender.requests) == 6
    assert kit.health.admissions == 0


def test_a_sibling_slower_than_the_wait_leaves_the_next_delivery_to_lease() -> None:
    sub = subscription(id="sub_1", max_in_flight=16)
    kit = FanoutKit([sub], invocations=14)
    answer = kit.sender.send

    async def slow(request: WebhookRequest) -> AttemptResult:
        await asyncio.sleep(SHARE_WAIT_S * 2)  # the receiver takes its time
        return await answer(request)

    kit.sender.send = slow  # type: ignore[method-assign]
    _gather_events(kit, 2)
    assert len(kit.sender.requests) == 2
    assert kit.health.admissions == 1  # one on the share, one leased after the wait


def test_the_records_of_every_endpoint_asked_for_at_once_are_read_in_one_call() -> None:
    subs = [subscription(id=f"sub_{i}", url=f"https://h{i}.example/h") for i in range(3)]
    kit = FanoutKit(subs, invocations=1)
    asked: list[set[str]] = []
    original = kit.health.read_many

    def read_many(ids: Collection[str]) -> dict[str, EndpointHealth]:
        asked.append(set(ids))
        return original(ids)

    kit.health.read_many = read_many  # type: ignore[method-assign]
    messages = [
        QueuedMessage(f"msg-{i}", shipment_event(event_id=f"evt_{i}").model_dump_json())
        for i in range(4)
    ]
    kit.fanout.begin_invocation()
    assert asyncio.run(kit.fanout.handle_batch(messages)) == []
    assert asked == [{"sub_0", "sub_1", "sub_2"}]
    assert len(kit.sender.requests) == 12


# --- reading ahead ----------------------------------------------------------------------


def _listing_waits_for_a_read(kit: FanoutKit) -> tuple[list[bool], threading.Event]:
    """Make each listing after the first wait (up to a deadline) for the health store to
    be read; what each one found (was the health read while the subscriptions were listed?),
    and the event a read sets."""
    read = threading.Event()
    seen: list[bool] = []
    read_many, list_for_merchant = kit.health.read_many, kit.subscriptions.list_for_merchant

    def reading(ids: Collection[str]) -> dict[str, EndpointHealth]:
        read.set()
        return read_many(ids)

    def listing(merchant_id: str) -> list[Subscription]:
        seen.append(read.wait(timeout=0.0 if not seen else 5.0))
        return list_for_merchant(merchant_id)

    kit.health.read_many = reading  # type: ignore[method-assign]
    kit.subscriptions.list_for_merchant = listing  # type: ignore[method-assign]
    return seen, read


def _invocation(kit: FanoutKit, *event_ids: str) -> list[str]:
    kit.fanout.begin_invocation()
    messages = [
        QueuedMessage(f"msg-{event_id}", shipment_event(event_id=event_id).model_dump_json())
        for event_id in event_ids
    ]
    return asyncio.run(kit.fanout.handle_batch(messages))


def test_a_warm_worker_reads_the_endpoints_health_while_it_lists_the_subscriptions() -> None:
    subs = [subscription(id=f"sub_{i}", url=f"https://h{i}.example/h") for i in range(2)]
    kit = FanoutKit(subs, invocations=14)
    listings_saw_a_read, read = _listing_waits_for_a_read(kit)
    assert _invocation(kit, "evt_1") == []
    # The worker's first sight of the merchant: its endpoints are known after the listing.
    assert listings_saw_a_read == [False] and read.is_set()
    read.clear()
    assert _invocation(kit, "evt_2", "evt_3") == []
    # The next invocation reads them while it lists again: one read, before the sends.
    assert listings_saw_a_read == [False, True]
    assert kit.health.reads == 2
    assert len(kit.sender.requests) == 6


def test_a_read_ahead_of_an_endpoint_no_longer_wanted_harms_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    subs = [subscription(id=f"sub_{i}", url=f"https://h{i}.example/h") for i in range(2)]
    kit = FanoutKit(subs, invocations=14)
    assert _invocation(kit, "evt_1") == []
    kit.subscriptions.disable(subs[1].merchant_id, "sub_1", "by the merchant", NOW)

    def unavailable(ids: Collection[str]) -> dict[str, EndpointHealth]:
        raise RuntimeError("throttled")

    kit.health.read_many = unavailable  # type: ignore[method-assign]
    caplog.set_level(logging.ERROR, logger="asyncio")
    assert _invocation(kit, "evt_2") == []
    gc.collect()
    # sub_1's read was started ahead and failed with sub_0's; nobody awaited it, nothing
    # reports it. sub_0's delivery waits for the record; sub_1's is held while disabled.
    assert "never retrieved" not in caplog.text
    outcomes = {(a.event_id, a.subscription_id): a.outcome for a in kit.log.attempts}
    assert outcomes[("evt_2", "sub_0")] == "deferred"
    assert outcomes[("evt_2", "sub_1")] == "held"
    assert len(kit.sender.requests) == 2
