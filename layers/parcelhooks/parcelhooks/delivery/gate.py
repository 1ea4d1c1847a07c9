"""The gate every POST passes: an endpoint's lane before it, its answer recorded after.

Lanes are shared by every fan-out invocation through the health store; within one
invocation a semaphore per endpoint keeps deliveries over the limit from asking the store
at all. A delivery refused a lane waits here a little (`wait_budget_s`) when a lane is
likely to free up soon, and is otherwise put off through the retry queue by the fan-out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from parcelhooks.core.health import BreakerPolicy, EndpointHealth, Limits, Observation
from parcelhooks.core.models import Subscription
from parcelhooks.core.observability import logger
from parcelhooks.delivery.health import (
    SLOW_FOR,
    hold_after_throttle,
    lease_expiry,
    observe,
    probing_after,
    refusal_reason,
    refusal_wait_s,
)
from parcelhooks.delivery.outcomes import AttemptResult, retry_after_s

FIRST_PAUSE_S = 0.05
LONGEST_PAUSE_S = 0.5


class HealthStore(Protocol):
    def admit(
        self,
        subscription_id: str,
        limits: Limits,
        *,
        pause_after_failures: int,
        lease_until: datetime,
        now: datetime,
    ) -> tuple[str | None, EndpointHealth]: ...

    def release(
        self,
        subscription_id: str,
        token: str,
        observation: Observation,
        *,
        now: datetime,
        hold_until: datetime | None = None,
        slow_until: datetime | None = None,
    ) -> EndpointHealth: ...

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None: ...


@dataclass(frozen=True, slots=True)
class Admission:
    """A lane (`lease`), or a refusal with how long to wait before asking again."""

    lease: str | None
    health: EndpointHealth
    wait_s: float = 0.0
    reason: str = ""


class EndpointGate:
    def __init__(
        self,
        store: HealthStore,
        policy: BreakerPolicy,
        *,
        delivery_timeout_s: float,
        executor: Executor,
        clock: Callable[[], datetime],
        wait_budget_s: float = 2.0,
    ) -> None:
        self._store = store
        self._policy = policy
        self._delivery_timeout_s = delivery_timeout_s
        self._executor = executor
        self._clock = clock
        self._wait_budget_s = wait_budget_s
        self._local: dict[tuple[str, int], asyncio.Semaphore] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slowed_until: dict[str, datetime] = {}

    @property
    def policy(self) -> BreakerPolicy:
        return self._policy

    @property
    def wait_budget_s(self) -> float:
        return self._wait_budget_s

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        """Add to the endpoint's held and pending counts (blocking)."""
        self._store.count(subscription_id, held=held, pending=pending)

    def local_limit(self, subscription: Subscription) -> asyncio.Semaphore:
        """This invocation's share: never more lanes than the endpoint allows in all."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a semaphore belongs to one loop
            self._loop, self._local = loop, {}
        key = (subscription.id, subscription.max_in_flight)
        if key not in self._local:
            self._local[key] = asyncio.Semaphore(subscription.max_in_flight)
        return self._local[key]

    async def admit(self, subscription: Subscription) -> Admission:
        """Ask for a lane until one is given or waiting longer is not worth it."""
        deadline = time.monotonic() + self._wait_budget_s
        pause = FIRST_PAUSE_S
        while True:
            now = self._clock()
            try:
                admission = await self._ask(subscription, now)
            except Exception:
                # Without the shared record the limits cannot be kept: the delivery waits.
                logger.exception("endpoint gate unavailable", subscription_id=subscription.id)
                return Admission(
                    None, EndpointHealth(), self._wait_budget_s, "endpoint health unavailable"
                )
            if admission.lease is not None:
                return admission
            wait = max(admission.wait_s, pause)
            if time.monotonic() + wait > deadline:
                return admission
            await asyncio.sleep(wait)
            pause = min(pause * 2, LONGEST_PAUSE_S)

    async def release(
        self, subscription: Subscription, admission: Admission, result: AttemptResult
    ) -> EndpointHealth | None:
        """Give the lane back with the answer; the record after, or None if not written
        (the lane then expires by itself)."""
        assert admission.lease is not None
        now = self._clock()
        observation = observe(result)
        hold_until = slow_until = None
        if observation is Observation.THROTTLED:
            hold_until = now + hold_after_throttle(retry_after_s(result, now))
            slow_until = now + SLOW_FOR
        elif observation is Observation.FAILURE and probing_after(admission.health, self._policy):
            hold_until = now + self._policy.probe_interval
        try:
            return await self._blocking(
                lambda: self._store.release(
                    subscription.id,
                    admission.lease or "",
                    observation,
                    now=now,
                    hold_until=hold_until,
                    slow_until=slow_until,
                )
            )
        except Exception:
            logger.exception("endpoint lane not released", subscription_id=subscription.id)
            return None

    async def _ask(self, subscription: Subscription, now: datetime) -> Admission:
        # Slowed by a 429 (as last seen here): half the rate; the store caps the lanes.
        slowed_until = self._slowed_until.get(subscription.id)
        limits = Limits.of(subscription, slowed=slowed_until is not None and slowed_until > now)
        lease, health = await self._blocking(
            lambda: self._store.admit(
                subscription.id,
                limits,
                pause_after_failures=self._policy.pause_after_failures,
                lease_until=lease_expiry(now, self._delivery_timeout_s),
                now=now,
            )
        )
        if health.slow_until is not None:
            self._slowed_until[subscription.id] = health.slow_until
        if lease is not None:
            return Admission(lease, health)
        return Admission(
            None,
            health,
            refusal_wait_s(health, limits, self._policy, now),
            refusal_reason(health, limits, self._policy, now),
        )

    async def _blocking[T](self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)
