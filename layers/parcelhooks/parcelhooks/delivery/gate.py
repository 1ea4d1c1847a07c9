"""The gate every POST passes: an endpoint's lane before it, its answer recorded after.

Lanes are shared by every fan-out invocation through the health store, less each
invocation's own share (core/health.py `lane_share`, when the number of invocations at
once is known): while the record this invocation read shows the endpoint healthy, a
delivery takes a lane of that share with no write at all, and its answer is written only
when it changes the record (delivery/health.py `worth_recording`). Within one invocation a
semaphore per endpoint keeps deliveries over the limit from asking the store at all. A
delivery refused a lane waits here a little (`wait_budget_s`) when a lane is likely to free
up soon, and is otherwise put off through the retry queue by the fan-out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
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
    open_to_its_share,
    probing_after,
    refusal_reason,
    refusal_wait_s,
    worth_recording,
)
from parcelhooks.delivery.outcomes import AttemptResult, retry_after_s

FIRST_PAUSE_S = 0.05
LONGEST_PAUSE_S = 0.5
# How long an invocation trusts the record it read for its share lanes, at most: a long
# invocation reads it again, so what other invocations wrote (a pause, a hold) is seen soon.
SEEN_FOR_S = 2.0
# How long a delivery waits for a lane of its invocation's share of a healthy endpoint (its
# siblings' POSTs to the same endpoint) before it takes one from the record instead.
SHARE_WAIT_S = 0.5


class HealthStore(Protocol):
    def read_many(self, subscription_ids: Collection[str]) -> dict[str, EndpointHealth]: ...

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

    def record(
        self,
        subscription_id: str,
        observation: Observation,
        *,
        now: datetime,
        hold_until: datetime | None = None,
        slow_until: datetime | None = None,
    ) -> EndpointHealth: ...

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None: ...


class ShareLane:
    """One lane of the invocation's share of an endpoint, given back exactly once."""

    __slots__ = ("_lanes",)

    def __init__(self, lanes: asyncio.Semaphore) -> None:
        self._lanes: asyncio.Semaphore | None = lanes

    def give_back(self) -> None:
        if self._lanes is not None:
            self._lanes.release()
            self._lanes = None


@dataclass(frozen=True, slots=True)
class Admission:
    """A lane (a `lease` from the store, or one of the invocation's own `share`), or a
    refusal with how long to wait before asking again."""

    lease: str | None
    health: EndpointHealth
    wait_s: float = 0.0
    reason: str = ""
    share: ShareLane | None = None

    @property
    def shared(self) -> bool:
        return self.share is not None

    @property
    def admitted(self) -> bool:
        return self.shared or self.lease is not None

    def give_back_share(self) -> None:
        """The share's lane back, if not already (a send or release that raised: the
        invocation's semaphore must not keep a lane nobody uses)."""
        if self.share is not None:
            self.share.give_back()


class _Semaphores:
    """A semaphore per (subscription, size), made on first use."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, int], asyncio.Semaphore] = {}

    def of(self, subscription_id: str, size: int) -> asyncio.Semaphore:
        key = (subscription_id, size)
        if key not in self._made:
            self._made[key] = asyncio.Semaphore(size)
        return self._made[key]


@dataclass
class _LoopLanes:
    """One event loop's semaphores (the endpoint's whole limit, the invocation's share) and
    reads under way."""

    loop: asyncio.AbstractEventLoop
    local: _Semaphores = field(default_factory=_Semaphores)
    shares: _Semaphores = field(default_factory=_Semaphores)
    # Reads of a record under way: the deliveries asking at once share one.
    reads: dict[str, asyncio.Future[EndpointHealth]] = field(default_factory=dict)
    # Records asked for on this turn of the loop, not read yet: read together.
    unread: list[str] = field(default_factory=list)


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
        invocations: int | None = None,
    ) -> None:
        """`invocations`: how many fan-out invocations may run at once (the event sources'
        MaximumConcurrency together); None when not known: every lane from the store."""
        self._store = store
        self._policy = policy
        self._delivery_timeout_s = delivery_timeout_s
        self._executor = executor
        self._clock = clock
        self._wait_budget_s = wait_budget_s
        self._invocations = invocations
        self._loop_lanes: _LoopLanes | None = None
        self._slowed_until: dict[str, datetime] = {}
        # The record as last read or written here, and when (monotonic).
        self._seen: dict[str, tuple[float, EndpointHealth]] = {}

    @property
    def policy(self) -> BreakerPolicy:
        return self._policy

    @property
    def wait_budget_s(self) -> float:
        return self._wait_budget_s

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        """Add to the endpoint's held and pending counts (blocking)."""
        self._store.count(subscription_id, held=held, pending=pending)

    def begin_invocation(self) -> None:
        """A new invocation reads each record it needs afresh (a warm worker keeps its gate)."""
        self._seen.clear()

    def local_limit(self, subscription: Subscription) -> asyncio.Semaphore:
        """Never more lanes in this invocation than the endpoint allows in all."""
        return self._lanes().local.of(subscription.id, subscription.max_in_flight)

    def _lanes(self) -> _LoopLanes:
        loop = asyncio.get_running_loop()
        if self._loop_lanes is None or self._loop_lanes.loop is not loop:
            self._loop_lanes = _LoopLanes(loop)  # a semaphore belongs to one loop
        return self._loop_lanes

    async def admit(self, subscription: Subscription) -> Admission:
        """Ask for a lane until one is given or waiting longer is not worth it."""
        deadline = time.monotonic() + self._wait_budget_s
        pause = FIRST_PAUSE_S
        while True:
            now = self._clock()
            try:
                admission = await self._take_share(subscription, now)
                if admission is None:
                    admission = await self._ask(subscription, now)
            except Exception:
                # Without the shared record the limits cannot be kept: the delivery waits.
                logger.exception("endpoint gate unavailable", subscription_id=subscription.id)
                return Admission(
                    None, EndpointHealth(), self._wait_budget_s, "endpoint health unavailable"
                )
            if admission.admitted:
                return admission
            wait = max(admission.wait_s, pause)
            if time.monotonic() + wait > deadline:
                return admission
            await asyncio.sleep(wait)
            pause = min(pause * 2, LONGEST_PAUSE_S)

    async def release(
        self, subscription: Subscription, admission: Admission, result: AttemptResult
    ) -> EndpointHealth | None:
        """Give the lane back with the answer; the record after (as last seen, for a lane of
        the invocation's share whose answer changed nothing), or None if not written (a
        lease then expires by itself)."""
        assert admission.admitted
        now = self._clock()
        observation = observe(result)
        hold_until = slow_until = None
        if observation is Observation.THROTTLED:
            hold_until = now + hold_after_throttle(retry_after_s(result, now))
            slow_until = now + SLOW_FOR
        elif observation is Observation.FAILURE and probing_after(admission.health, self._policy):
            hold_until = now + self._policy.probe_interval
        if admission.shared:
            admission.give_back_share()
            seen = self._seen_of(subscription.id) or admission.health
            if not worth_recording(observation, seen, now):
                return seen
        try:
            if admission.shared:
                health = await self._blocking(
                    lambda: self._store.record(
                        subscription.id,
                        observation,
                        now=now,
                        hold_until=hold_until,
                        slow_until=slow_until,
                    )
                )
            else:
                health = await self._blocking(
                    lambda: self._store.release(
                        subscription.id,
                        admission.lease or "",
                        observation,
                        now=now,
                        hold_until=hold_until,
                        slow_until=slow_until,
                    )
                )
            if admission.shared and self._pausing_without_a_hold(
                observation, hold_until, health, now
            ):
                # Other invocations' failures, unseen here, made this one the pausing failure:
                # the next probe waits as if this lane had been a probe.
                health = await self._blocking(
                    lambda: self._store.record(
                        subscription.id,
                        Observation.NEUTRAL,
                        now=now,
                        hold_until=now + self._policy.probe_interval,
                    )
                )
        except Exception:
            logger.exception("endpoint lane not released", subscription_id=subscription.id)
            return None
        self._saw(subscription.id, health)
        return health

    def _pausing_without_a_hold(
        self,
        observation: Observation,
        hold_until: datetime | None,
        health: EndpointHealth,
        now: datetime,
    ) -> bool:
        """A failure that left the endpoint paused with no probe hold set or in force."""
        return (
            observation is Observation.FAILURE
            and hold_until is None
            and health.paused(self._policy)
            and not health.held_back(now)
        )

    def _limits(self, subscription: Subscription, now: datetime) -> Limits:
        # Slowed by a 429 (as last seen here): half the rate; the store caps the lanes.
        slowed_until = self._slowed_until.get(subscription.id)
        slowed = slowed_until is not None and slowed_until > now
        return Limits.of(subscription, slowed=slowed, invocations=self._invocations)

    def _shares_of(self, subscription: Subscription) -> asyncio.Semaphore:
        share = self._limits(subscription, self._clock()).share
        return self._lanes().shares.of(subscription.id, max(share, 1))

    async def _take_share(self, subscription: Subscription, now: datetime) -> Admission | None:
        """A lane of this invocation's own share, while the record it saw shows the endpoint
        healthy; None when there is no share, none frees within SHARE_WAIT_S, or the endpoint
        is not healthy."""
        if self._limits(subscription, now).share == 0:
            return None
        health = await self._seen_or_read(subscription.id)
        if not open_to_its_share(health, self._policy, now):
            return None
        lanes = self._shares_of(subscription)
        try:
            # A lane of the share frees up as soon as a sibling's answer arrives: worth a
            # short wait rather than two writes for a lease.
            await asyncio.wait_for(lanes.acquire(), SHARE_WAIT_S)
        except TimeoutError:
            return None
        health = self._seen_of(subscription.id) or health
        if not open_to_its_share(health, self._policy, self._clock()):
            lanes.release()  # a sibling's answer meanwhile: no longer healthy
            return None
        return Admission(None, health, share=ShareLane(lanes))

    def read_ahead(self, subscriptions: Iterable[Subscription]) -> None:
        """Start reading the records these endpoints' deliveries are about to ask for (the
        share lanes' endpoints not seen lately), with every other record asked for on this
        turn of the loop: a delivery that asks later shares the read, or finds it done."""
        now = self._clock()
        for subscription in subscriptions:
            if self._limits(subscription, now).share and self._seen_of(subscription.id) is None:
                self._reading(subscription.id)

    async def _seen_or_read(self, subscription_id: str) -> EndpointHealth:
        """The record as seen here lately, or read: once for every delivery asking at once,
        in one read with every other record asked for on the same turn of the loop."""
        health = self._seen_of(subscription_id)
        if health is not None:
            return health
        health = await asyncio.shield(self._reading(subscription_id))
        # The read's answer was seen as it came, unless a write answered after the read
        # started (a read ahead may start well before this delivery asks): that is newer.
        return self._seen_of(subscription_id) or health

    def _reading(self, subscription_id: str) -> asyncio.Future[EndpointHealth]:
        """The read of the record under way, or a new one, read on the next turn of the loop
        with the others asked for on this one."""
        lanes = self._lanes()
        reading = lanes.reads.get(subscription_id)
        if reading is None or reading.done():
            reading = lanes.loop.create_future()
            # A read ahead that no delivery awaits in the end must not report its error.
            reading.add_done_callback(_retrieve)
            lanes.reads[subscription_id] = reading
            if not lanes.unread:
                lanes.loop.call_soon(self._read_together, lanes)
            lanes.unread.append(subscription_id)
        return reading

    def _read_together(self, lanes: _LoopLanes) -> None:
        """Read the records asked for on this turn of the loop, in one call."""
        ids, lanes.unread = lanes.unread, []
        wanted = {id_: lanes.reads[id_] for id_ in ids}
        started = time.monotonic()

        def answer(call: asyncio.Future[dict[str, EndpointHealth]]) -> None:
            for id_, reading in wanted.items():
                if lanes.reads.get(id_) is reading:
                    del lanes.reads[id_]
                if reading.done():
                    continue
                if call.cancelled():
                    reading.cancel()
                elif (error := call.exception()) is not None:
                    reading.set_exception(error)
                else:
                    health = call.result()[id_]
                    seen = self._seen.get(id_)
                    if seen is None or seen[0] < started:
                        # Seen at once: a delivery asking before the readers resume reads
                        # nothing again (a write answered meanwhile is newer: kept).
                        self._saw(id_, health)
                    reading.set_result(health)

        read = asyncio.ensure_future(self._blocking(lambda: self._store.read_many(ids)))
        read.add_done_callback(answer)

    def _seen_of(self, subscription_id: str) -> EndpointHealth | None:
        seen = self._seen.get(subscription_id)
        if seen is None or time.monotonic() - seen[0] > SEEN_FOR_S:
            return None
        return seen[1]

    def _saw(self, subscription_id: str, health: EndpointHealth) -> None:
        self._seen[subscription_id] = (time.monotonic(), health)

    async def _ask(self, subscription: Subscription, now: datetime) -> Admission:
        limits = self._limits(subscription, now)
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
        self._saw(subscription.id, health)
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


def _retrieve(reading: asyncio.Future[EndpointHealth]) -> None:
    """Take a finished read's error, so asyncio does not log it as never retrieved (the
    deliveries that await the read get it all the same)."""
    if not reading.cancelled():
        reading.exception()
