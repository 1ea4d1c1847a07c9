"""Endpoint health: the circuit breaker and the per-endpoint limits, as pure functions of
the record (its values are in core/health.py).

Every fan-out invocation shares one record per subscription (aws/endpoint_health_table.py).
Before a POST it takes a lane: one of its own share (core/health.py `lane_share`: with at
most N invocations at once, each may hold (max_in_flight - 1) // N lanes without asking,
and the record hands out the rest) while the record it read shows the endpoint healthy,
else a lease from the record. After the POST it gives a lease back with what the endpoint
answered; an answer on a lane of its own share is written only when it changes the record
(`worth_recording`). From those answers:

- **healthy**: the last answer was a success (or nothing was sent yet);
- **failing**: the last answers failed, fewer than `pause_after_failures` in a row;
- **paused**: that many failed in a row: one probe at a time, at most one per
  `probe_interval`; every other delivery waits in the retry queue without an attempt
  counted, and the first success resumes full speed;
- **disabled**: the subscription is off (410, its owner, or the breaker, which trips when
  every delivery failed for `disable_after` with at least `disable_min_failures` failures).

A `429` holds the endpoint until its `Retry-After` and slows it for `SLOW_FOR`: one request
at a time and half its rate limit.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Literal

from parcelhooks.core.deliveries import Outcome
from parcelhooks.core.health import BreakerPolicy, EndpointHealth, Limits, Observation
from parcelhooks.core.models import Subscription
from parcelhooks.delivery.outcomes import UNEXPECTED_ERROR, AttemptResult, classify

THROTTLED = 429
# After a 429: how long the endpoint stays slowed, and the longest hold a Retry-After gets.
SLOW_FOR = timedelta(minutes=5)
MAX_HOLD = timedelta(minutes=15)
HOLD_WITHOUT_RETRY_AFTER = timedelta(seconds=5)
# A lane outlives the longest POST by this much: a crashed worker's lane comes back then.
LEASE_MARGIN = timedelta(seconds=20)
# The longest wait SQS can give a message (its DelaySeconds limit).
MAX_DEFER_S = 900
# A delivery over its endpoint's in-flight limit waits this long at first, then twice as
# long each time, up to MAX_DEFER_S.
BUSY_DEFER_S = 2.0

# A run of successes on invocations' own lanes is written at most this often per
# invocation: the record's last_success_at is that fresh, not fresher.
SUCCESS_NOTED_EVERY = timedelta(minutes=1)

HealthState = Literal["healthy", "failing", "paused", "disabled"]


def health_state(
    subscription: Subscription, health: EndpointHealth, policy: BreakerPolicy
) -> HealthState:
    if not subscription.enabled:
        return "disabled"
    if health.paused(policy):
        return "paused"
    return "failing" if health.consecutive_failures else "healthy"


def observe(result: AttemptResult) -> Observation:
    if result.error == UNEXPECTED_ERROR:
        return Observation.NEUTRAL
    if classify(result) is Outcome.DELIVERED:
        return Observation.SUCCESS
    if result.status_code == THROTTLED:
        return Observation.THROTTLED
    return Observation.FAILURE


def lease_expiry(now: datetime, delivery_timeout_s: float) -> datetime:
    return now + timedelta(seconds=delivery_timeout_s) + LEASE_MARGIN


def hold_after_throttle(retry_after_s: float | None) -> timedelta:
    """How long a 429 keeps the endpoint from being sent anything."""
    if retry_after_s is None:
        return HOLD_WITHOUT_RETRY_AFTER
    # Clamped as seconds first: a receiver's Retry-After of 10^14 s overflows a timedelta.
    return timedelta(seconds=min(retry_after_s, MAX_HOLD.total_seconds()))


def probing_after(health_at_admission: EndpointHealth, policy: BreakerPolicy) -> bool:
    """Will a failure now leave the endpoint paused (so the next probe must wait)?"""
    return health_at_admission.consecutive_failures + 1 >= policy.pause_after_failures


def open_to_its_share(health: EndpointHealth, policy: BreakerPolicy, now: datetime) -> bool:
    """May an invocation send on a lane of its own share (no write before the POST)? Only
    while the record it saw shows nothing the record's own rules would narrow: not paused,
    not held back, not slowed."""
    return not (health.paused(policy) or health.held_back(now) or health.slowed(now))


def worth_recording(observation: Observation, seen: EndpointHealth, now: datetime) -> bool:
    """Must an answer on a lane of the invocation's own share be written to the record? A
    failure or a 429 always; a success when it changes the record as this invocation saw it
    (failures to reset, a hold to lift) or when the last success written is older than
    SUCCESS_NOTED_EVERY; an answer that says nothing of the endpoint never."""
    if observation is Observation.NEUTRAL:
        return False
    if observation is not Observation.SUCCESS:
        return True
    if seen.consecutive_failures or seen.failing_since or seen.hold_until:
        return True
    return seen.last_success_at is None or now - seen.last_success_at >= SUCCESS_NOTED_EVERY


def breaker_trips(health: EndpointHealth, policy: BreakerPolicy, now: datetime) -> bool:
    return (
        health.failing_since is not None
        and health.consecutive_failures >= policy.disable_min_failures
        and now - health.failing_since >= policy.disable_after
    )


def breaker_reason(health: EndpointHealth, now: datetime) -> str:
    since = health.failing_since.isoformat() if health.failing_since else "?"
    return (
        f"every delivery failed since {since} ({health.consecutive_failures} failures in a "
        f"row); disabled by the circuit breaker at {now.isoformat()}"
    )


def refusal_wait_s(
    health: EndpointHealth, limits: Limits, policy: BreakerPolicy, now: datetime
) -> float:
    """Seconds until asking again for a lane can succeed, from the record that refused."""
    waits = [0.0]
    if health.held_back(now):
        assert health.hold_until is not None
        waits.append((health.hold_until - now).total_seconds())
    if limits.interval_s is not None and health.rate_next_at is not None:
        ahead = (health.rate_next_at - now).total_seconds() - limits.burst_s
        waits.append(ahead)
    if health.paused(policy) and health.in_flight:
        waits.append(policy.probe_interval.total_seconds())
    return max(waits)


def refusal_reason(
    health: EndpointHealth, limits: Limits, policy: BreakerPolicy, now: datetime
) -> str:
    """Why the endpoint gave no lane, in the words the delivery log shows."""
    if health.held_back(now):
        if health.paused(policy):
            return "endpoint paused after failures in a row: waiting for the next probe"
        return "endpoint held back after it answered 429"
    if health.paused(policy):
        return "endpoint paused after failures in a row: a probe is in flight"
    pace = health.rate_next_at
    if limits.interval_s is not None and pace and (pace - now).total_seconds() > limits.burst_s:
        return "over the subscription's rate_limit_per_second"
    if health.slowed(now):
        return "endpoint slowed after it answered 429: one request at a time"
    return "over the subscription's max_in_flight"


def defer_s(wait_s: float, deferrals: int, rng: random.Random) -> int:
    """SQS delay for a delivery put off: at least `wait_s`, longer each time, jittered."""
    base = max(wait_s, BUSY_DEFER_S * (1 << min(deferrals, 10)))
    return min(MAX_DEFER_S, math.ceil(base * rng.uniform(1.0, 1.5)))
