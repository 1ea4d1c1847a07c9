"""Endpoint health in the fan-out, on the in-memory health store: the breaker's states, held
deliveries, operational events, and one invocation's limit. (The shared limits on the
DynamoDB table, and the in-memory store agreeing with it:
tests/component/test_endpoint_health.py.)"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from standardwebhooks import Webhook

from parcelhooks.core.deliveries import DeliveryJob, Outcome
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.ids import delivery_id
from parcelhooks.core.models import Subscription
from parcelhooks.core.operational import OperationalEvent
from parcelhooks.delivery.health import MAX_HOLD, health_state, hold_after_throttle
from parcelhooks.delivery.outcomes import AttemptResult
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import TEST_BREAKER, FanoutKit


def _run(kit: FanoutKit, body: str) -> None:
    """One message, in an invocation of its own (which reads the health records afresh)."""
    kit.fanout.begin_invocation()
    asyncio.run(kit.fanout.handle_message(body))


def _send(kit: FanoutKit, n: int, *, every: timedelta = timedelta(0), first: int = 0) -> None:
    """`n` new events, `every` apart on the kit's clock."""
    for index in range(first, first + n):
        _run(kit, shipment_event(event_id=f"evt_{index:04d}").model_dump_json())
        kit.now += every


def _state(kit: FanoutKit, sub: Subscription) -> str:
    stored = kit.subscriptions.get(sub.merchant_id, sub.id)
    assert stored is not None
    return health_state(stored, kit.health.health(sub.id), TEST_BREAKER)


# --- the breaker ---------------------------------------------------------------------


def test_a_success_keeps_the_endpoint_healthy() -> None:
    sub = subscription()
    kit = FanoutKit([sub])
    _send(kit, 1)
    health = kit.health.health(sub.id)
    assert _state(kit, sub) == "healthy"
    assert (health.last_success_at, health.consecutive_failures, health.in_flight) == (NOW, 0, 0)


def test_failures_below_the_pause_threshold_leave_it_failing_and_every_event_sent() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    _send(kit, 4, every=timedelta(seconds=1))
    health = kit.health.health(sub.id)
    assert len(kit.sender.requests) == 4
    assert _state(kit, sub) == "failing"
    assert (health.consecutive_failures, health.failing_since) == (4, NOW)
    assert health.pending == 4  # each failed first attempt waits for its retry


def test_five_failures_in_a_row_pause_it_to_one_probe_per_interval() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    _send(kit, 5, every=timedelta(seconds=1))
    assert _state(kit, sub) == "paused"
    _send(kit, 1, first=5)  # within the probe interval: put off, not attempted
    assert len(kit.sender.requests) == 5
    put_off = kit.retries.jobs[-1]
    assert (put_off.attempt, put_off.deferrals, put_off.counted) == (1, 1, True)
    assert put_off.due_at >= kit.now + TEST_BREAKER.probe_interval
    # Not an attempt, but in sight: a `deferred` line says why and when it goes.
    deferred = kit.log.attempts[-1]
    assert (deferred.outcome, deferred.attempt, deferred.latency_ms) == ("deferred", 1, 0.0)
    assert deferred.next_attempt_at == put_off.due_at
    assert "paused" in (deferred.error or "")
    assert [a.outcome for a in kit.log.attempts[:5]] == ["retry"] * 5
    kit.now += TEST_BREAKER.probe_interval
    _send(kit, 2, first=6)  # one probe goes; the other waits for it
    assert len(kit.sender.requests) == 6


def test_a_successful_probe_resumes_full_speed() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500, 500, 500, 500, 500, 204]})
    _send(kit, 5)
    kit.now += TEST_BREAKER.probe_interval
    _send(kit, 1, first=5)
    assert _state(kit, sub) == "healthy"
    _send(kit, 3, first=6)
    assert len(kit.sender.requests) == 9


def test_a_paused_endpoint_s_retry_waits_without_using_an_attempt() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    _send(kit, 5)
    job = kit.retries.jobs[0]
    kit.now = max(kit.now, job.due_at)
    kit.health.endpoints[sub.id].health = _held_until(kit, sub, kit.now + timedelta(seconds=5))
    _run(kit, job.model_dump_json())
    again = kit.retries.jobs[-1]
    assert (again.attempt, again.delivery_id, again.deferrals) == (2, job.delivery_id, 1)
    assert again.event.event_id == job.event.event_id  # the same webhook-id when it goes


def test_a_put_off_delivery_sqs_refuses_is_dead_lettered_and_its_line_stays_deferred() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    _send(kit, 1)
    job = kit.retries.jobs[0]
    kit.now = job.due_at
    kit.health.endpoints[sub.id].health = _held_until(kit, sub, kit.now + timedelta(seconds=5))
    kit.retries.refuse = True
    _run(kit, job.model_dump_json())
    # No attempt was made: the last one (1) stays `retry`, the put-off line `deferred`.
    assert [(a.attempt, a.outcome) for a in kit.log.attempts] == [(1, "retry"), (2, "deferred")]
    [dead] = kit.dead_letters.dead
    assert (dead.attempts, dead.last_status) == (1, 500)


def _held_until(kit: FanoutKit, sub: Subscription, until: datetime) -> EndpointHealth:
    return replace(kit.health.health(sub.id), hold_until=until)


def test_the_breaker_disables_after_the_failing_period_and_tells_the_other_endpoints() -> None:
    failing = subscription(id="sub_fail", url="https://a.example/h")
    ops = subscription(
        id="sub_ops", url="https://b.example/h", event_types=["subscription.disabled"]
    )
    kit = FanoutKit([failing, ops], scripts={failing.url: [500]})
    # Eight failures over more than an hour: probes spaced by the probe interval.
    for index in range(8):
        _send(kit, 1, first=index)
        kit.now += timedelta(minutes=10)
    stored = kit.subscriptions.get(failing.merchant_id, failing.id)
    assert stored is not None and not stored.enabled
    assert "circuit breaker" in (stored.disabled_reason or "")
    [notice] = kit.notices.events
    assert (notice.type, notice.about_subscription_id) == ("subscription.disabled", failing.id)
    assert notice.data.model_dump()["disabled_by"] == "breaker"
    assert kit.telemetry.disables == [(failing.id, "breaker")]
    kit.now = datetime.now().astimezone()  # the verifier checks the timestamp against the clock
    _run(kit, notice.model_dump_json())  # it travels the events queue like any event
    [told] = [r for r in kit.sender.requests if r.url == ops.url]
    payload = Webhook(ops.secrets[0].secret).verify(told.body, told.headers)
    assert payload["type"] == "subscription.disabled"
    assert payload["data"]["subscription_id"] == failing.id


def test_the_breaker_waits_for_enough_failures_however_long_they_took() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    for index in range(7):
        _send(kit, 1, first=index)
        kit.now += timedelta(hours=1)
    stored = kit.subscriptions.get(sub.merchant_id, sub.id)
    assert stored is not None and stored.enabled


def test_the_breaker_waits_for_the_period_however_many_failures() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    for index in range(20):
        _send(kit, 1, first=index)
        kit.now += TEST_BREAKER.probe_interval
    assert kit.now - NOW < TEST_BREAKER.disable_after
    stored = kit.subscriptions.get(sub.merchant_id, sub.id)
    assert stored is not None and stored.enabled and _state(kit, sub) == "paused"


def test_a_429_holds_the_endpoint_until_retry_after_without_counting_a_failure() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [AttemptResult(429, 1.0, retry_after="20"), 204]})
    _send(kit, 2)
    health = kit.health.health(sub.id)
    assert len(kit.sender.requests) == 1 and health.consecutive_failures == 0
    assert health.hold_until == NOW + timedelta(seconds=20)
    assert kit.retries.jobs[-1].due_at >= NOW + timedelta(seconds=20)
    kit.now += timedelta(seconds=20)
    _send(kit, 1, first=2)
    assert len(kit.sender.requests) == 2


# --- held while disabled ---------------------------------------------------------------


def test_an_event_for_a_disabled_subscription_is_held_in_its_log() -> None:
    sub = subscription(enabled=False, disabled_reason="disabled by the merchant")
    kit = FanoutKit([sub])
    _send(kit, 1)
    [line] = kit.log.attempts
    assert kit.sender.requests == []
    assert (line.outcome, line.attempt, line.error) == (Outcome.HELD, 1, "disabled by the merchant")
    assert line.event is not None and line.event.event_id == "evt_0000"
    assert kit.log.done == set()  # not done: the merchant's recover sends it
    assert kit.health.health(sub.id).held == 1


def test_a_retry_pending_when_the_subscription_was_disabled_is_held() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500, 410]})
    _send(kit, 2)  # the first fails and waits; the second's 410 disables
    job = kit.retries.jobs[0]
    kit.now = job.due_at
    _run(kit, job.model_dump_json())
    held = kit.log.attempts[-1]
    assert (held.outcome, held.attempt, held.delivery_id) == (Outcome.HELD, 2, job.delivery_id)
    health = kit.health.health(sub.id)
    assert (health.held, health.pending) == (1, 0)


def test_a_held_delivery_sent_after_re_enabling_keeps_its_webhook_id() -> None:
    sub = subscription(enabled=False, disabled_reason="endpoint answered 410 Gone")
    kit = FanoutKit([sub], now=datetime.now().astimezone())
    _send(kit, 1)
    kit.subscriptions.items[(sub.merchant_id, sub.id)] = sub.model_copy(update={"enabled": True})
    held = kit.log.attempts[0]
    assert held.event is not None
    recovered = DeliveryJob(
        delivery_id=held.delivery_id,
        event=held.event,
        subscription_id=sub.id,
        merchant_id=sub.merchant_id,
        attempt=2,
        due_at=kit.now,
        first_attempt_at=kit.now,
        last_attempt_at=kit.now,
        schedule_from=2,
        force=True,
        origin="merchant",
        counted=True,
    )
    _run(kit, recovered.model_dump_json())
    [request] = kit.sender.requests
    Webhook(sub.secrets[0].secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == "evt_0000"
    assert kit.log.attempts[-1].outcome == "delivered"


# --- operational events ----------------------------------------------------------------


def test_410_tells_the_merchant_s_other_endpoints() -> None:
    gone = subscription(id="sub_gone", url="https://a.example/h")
    ops = subscription(id="sub_ops", url="https://b.example/h", event_types=["*"])
    kit = FanoutKit([gone, ops], scripts={gone.url: [410]})
    _send(kit, 1)
    [notice] = kit.notices.events
    assert notice.about_subscription_id == gone.id
    assert notice.data.model_dump()["disabled_by"] == "gone"


def test_an_operational_event_never_goes_to_the_subscription_it_describes() -> None:
    wants_all = ["*", "delivery.exhausted"]
    about = subscription(id="sub_a", url="https://a.example/h", event_types=wants_all)
    other = subscription(id="sub_b", url="https://b.example/h", event_types=wants_all)
    shipments_only = subscription(id="sub_c", url="https://c.example/h", event_types=["*"])
    kit = FanoutKit([about, other, shipments_only], scripts={about.url: [500]}, schedule_s=())
    _send(kit, 1)  # no retries: the failed delivery to sub_a is dead-lettered at once
    [exhausted] = kit.notices.events
    assert exhausted.type == "delivery.exhausted" and exhausted.about_subscription_id == about.id
    before = len(kit.sender.requests)
    _run(kit, exhausted.model_dump_json())
    assert [r.url for r in kit.sender.requests[before:]] == [other.url]
    body = json.loads(kit.sender.requests[-1].body)
    assert body["data"]["delivery_id"] == delivery_id("evt_0000", about.id, NOW)


def test_an_operational_event_s_own_dead_letter_raises_no_further_notice() -> None:
    sub = subscription(url="https://a.example/h", event_types=["delivery.exhausted"])
    kit = FanoutKit([sub], scripts={sub.url: [500]}, schedule_s=())
    notice = OperationalEvent.model_validate(
        {
            "event_id": "evt_notice",
            "merchant_id": sub.merchant_id,
            "type": "delivery.exhausted",
            "occurred_at": NOW.isoformat(),
            "about_subscription_id": "sub_other",
            "data": {
                "delivery_id": "dlv_x",
                "subscription_id": "sub_other",
                "event_id": "evt_x",
                "event_type": "shipment.delivered",
                "attempts": 3,
                "first_attempt_at": NOW.isoformat(),
                "last_attempt_at": NOW.isoformat(),
            },
        }
    )
    _run(kit, notice.model_dump_json())
    assert len(kit.dead_letters.dead) == 1 and kit.notices.events == []
    [line] = kit.log.attempts  # its log says so all the same
    assert (line.event_id, line.outcome, line.status_code) == ("evt_notice", "exhausted", 500)


# --- the shared limits ------------------------------------------------------------------


def test_one_invocation_never_has_more_than_max_in_flight_to_an_endpoint() -> None:
    sub = subscription(max_in_flight=2)
    kit = FanoutKit([sub], wait_budget_s=5.0)
    peak = 0
    in_flight = 0

    async def slow(request: object) -> AttemptResult:
        nonlocal peak, in_flight
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return AttemptResult(204, 10.0)

    kit.sender.send = slow  # type: ignore[method-assign]

    async def batch() -> None:
        await asyncio.gather(
            *(
                kit.fanout.handle_message(shipment_event(event_id=f"evt_{i}").model_dump_json())
                for i in range(12)
            )
        )

    asyncio.run(batch())
    assert peak == 2
    assert len(kit.log.attempts) == 12 and kit.retries.jobs == []


@pytest.mark.parametrize("retry_after_s", [1e14, 8.64e13, float(10**12)])
def test_a_retry_after_too_long_for_a_timedelta_holds_the_endpoint_the_longest_we_hold(
    retry_after_s: float,
) -> None:
    # A hostile receiver's 429 once overflowed timedelta and failed the whole delivery.
    assert hold_after_throttle(retry_after_s) == MAX_HOLD
