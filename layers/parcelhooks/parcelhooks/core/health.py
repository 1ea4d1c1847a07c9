"""An endpoint's health as values: the shared record every fan-out invocation keeps per
subscription (aws/endpoint_health_table.py stores it), the limits a lane is taken under,
what one answer says of the endpoint, and the circuit breaker's thresholds.

What follows from them (states, holds, deferrals) is delivery/health.py's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from parcelhooks.core.models import Subscription


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    disable_after: timedelta
    disable_min_failures: int
    probe_interval: timedelta
    pause_after_failures: int = 5


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """The shared record of one subscription's endpoint."""

    consecutive_failures: int = 0
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    hold_until: datetime | None = None
    slow_until: datetime | None = None
    # The next free slot of the rate limit (GCRA's theoretical arrival time).
    rate_next_at: datetime | None = None
    in_flight: int = 0
    held: int = 0
    pending: int = 0

    def paused(self, policy: BreakerPolicy) -> bool:
        return self.consecutive_failures >= policy.pause_after_failures

    def slowed(self, now: datetime) -> bool:
        return self.slow_until is not None and self.slow_until > now

    def held_back(self, now: datetime) -> bool:
        return self.hold_until is not None and self.hold_until > now


class Observation(StrEnum):
    """What one answer says about the endpoint (not about the delivery)."""

    SUCCESS = "success"
    FAILURE = "failure"
    THROTTLED = "throttled"
    # Our own fault (an unexpected error before the POST): says nothing of the endpoint.
    NEUTRAL = "neutral"


def lane_share(max_in_flight: int, invocations: int | None) -> int:
    """The lanes each fan-out invocation may use without asking the shared record, when at
    most `invocations` run at once (None: not known, so none): with `invocations` of them
    each using its share, at least one lane is left for the record to hand out (probes of
    a paused endpoint, deliveries past a share), and the sum never passes `max_in_flight`."""
    if invocations is None:
        return 0
    return max(0, (max_in_flight - 1) // invocations)


@dataclass(frozen=True, slots=True)
class Limits:
    """What the gate lets through for one endpoint right now."""

    # The lanes the shared record hands out: the endpoint's max_in_flight less every
    # invocation's share.
    max_in_flight: int
    # Seconds between two sends at the rate limit (None: no rate limit), and how far ahead
    # of that pace a burst may run.
    interval_s: float | None
    burst_s: float
    # Lanes this invocation holds of its own (lane_share): used without a write while the
    # endpoint is healthy. 0 for a rate-limited endpoint: every send takes a rate slot
    # from the record, and with it a lane of the whole max_in_flight.
    share: int = 0

    @classmethod
    def of(
        cls, subscription: Subscription, *, slowed: bool, invocations: int | None = None
    ) -> Limits:
        rate = subscription.rate_limit_per_second
        if rate is None:
            share = lane_share(subscription.max_in_flight, invocations)
            shared = share * (invocations or 0)
            return cls(subscription.max_in_flight - shared, None, 0.0, share)
        interval = (2 if slowed else 1) / rate
        # A burst of up to one second's worth of requests (at least one) at the full rate.
        burst = max(1, math.floor(rate)) - 1
        return cls(subscription.max_in_flight, interval, burst * interval)
