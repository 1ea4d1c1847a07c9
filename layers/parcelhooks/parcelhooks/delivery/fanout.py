"""Fan-out: one queued message in, a signed POST to every subscription that wants it.

All POSTs of a batch run at once on the event loop, at most `max_in_flight` at a time,
so a slow receiver holds up only itself. What follows from the answers — the log,
success marks, retries with the next delay of the schedule, the dead-letter queue —
is written once per message, in batches, on a worker thread (boto3 blocks).

One delivery cannot sink another: a POST that raises is that delivery's failed attempt,
and each write of the bookkeeping stands alone, the log falling back to line by line.

An event flagged stale (it occurred before its shipment's latest event) is not POSTed to
a subscription with `include_stale: false`: its log takes a `skipped_stale` line and the
delivery is marked done, so a redelivered message skips it again; the merchant's retry
still sends it. A correction goes to every subscription that wants `shipment.correction`
or the type of the event it withdrew.

Every POST passes its endpoint's gate (delivery/gate.py): a delivery over the endpoint's
limits, or held back by its circuit breaker, is put off through the retry queue with no
attempt counted. A delivery for a disabled subscription is not attempted but logged as
`held`, so the merchant's recover sends it once the endpoint is enabled again. Operational
events (`subscription.disabled`, `delivery.exhausted`) go out through the events queue to
the merchant's other subscriptions, never to the one they describe.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from parcelhooks.core.ids import delivery_id
from parcelhooks.core.models import ShipmentEvent, Subscription
from parcelhooks.core.observability import logger
from parcelhooks.core.operational import DisabledBy, OperationalEvent, WebhookEvent
from parcelhooks.delivery import notices
from parcelhooks.delivery.backoff import due_after, retry_delay_s
from parcelhooks.delivery.gate import EndpointGate
from parcelhooks.delivery.health import (
    EndpointHealth,
    Observation,
    breaker_reason,
    breaker_trips,
    defer_s,
    observe,
)
from parcelhooks.delivery.outcomes import (
    UNEXPECTED_ERROR,
    AttemptResult,
    Outcome,
    classify,
    retry_after_s,
)
from parcelhooks.delivery.records import (
    HELD,
    NOT_ATTEMPTED,
    SKIPPED_STALE,
    AttemptRecord,
    DeadLetter,
    DeliveryJob,
    Origin,
)
from parcelhooks.delivery.sender import WebhookRequest
from parcelhooks.delivery.signing import webhook_headers
from parcelhooks.delivery.webhook import webhook_body


class SubscriptionSource(Protocol):
    def list_for_merchant(self, merchant_id: str) -> list[Subscription]: ...

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None: ...

    def disable(self, merchant_id: str, subscription_id: str, reason: str, at: datetime) -> bool:
        """Whether this call disabled it (False: already disabled, or deleted)."""
        ...


class DeliveryMarks(Protocol):
    """Which deliveries already succeeded, so processing an event again sends no duplicate."""

    def delivered(self, delivery_ids: Sequence[str]) -> set[str]: ...

    def mark_delivered(self, delivery_ids: Sequence[str], at: datetime) -> None: ...


class DeliveryLog(Protocol):
    def record(self, attempts: Sequence[AttemptRecord]) -> None: ...


class RetryScheduler(Protocol):
    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        """Queue the jobs; return those that could not be queued."""
        ...


class DeadLetterSink(Protocol):
    def send(self, dead: Sequence[DeadLetter]) -> None: ...


class NoticeSink(Protocol):
    def publish(self, events: Sequence[OperationalEvent]) -> list[str]:
        """Return the event ids that could not be queued."""
        ...


class Sender(Protocol):
    async def send(self, request: WebhookRequest) -> AttemptResult: ...


class Telemetry(Protocol):
    def attempted(self, record: AttemptRecord) -> None: ...

    def dead_lettered(self, dead: DeadLetter) -> None: ...

    def disabled(self, subscription: Subscription, by: DisabledBy, reason: str) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    schedule_s: tuple[int, ...]
    jitter: float


@dataclass(frozen=True, slots=True)
class _Planned:
    """An attempt about to be made: to whom, which number, and where its schedule began."""

    subscription: Subscription
    attempt: int
    first_at: datetime | None
    schedule_from: int
    origin: Origin = "schedule"
    # From the retry job this attempt comes from, if any.
    job: DeliveryJob | None = None


@dataclass(frozen=True, slots=True)
class _Sent:
    sent_at: datetime
    result: AttemptResult
    health: EndpointHealth | None  # the endpoint's record after this answer, if written


@dataclass(frozen=True, slots=True)
class _PutOff:
    """Refused a lane: no attempt made; ask again after `wait_s`."""

    wait_s: float


@dataclass(frozen=True, slots=True)
class _Gone:
    subscription: Subscription
    by: DisabledBy
    reason: str
    health: EndpointHealth | None


@dataclass
class _Settlement:
    """Everything one message's attempts leave to be written."""

    records: list[AttemptRecord] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    gone: dict[str, _Gone] = field(default_factory=dict)
    retries: list[DeliveryJob] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    # Per subscription: deliveries newly held, and retry jobs taken (counted out of pending).
    held: dict[str, int] = field(default_factory=dict)
    taken: dict[str, int] = field(default_factory=dict)
    disabled: list[_Gone] = field(default_factory=list)  # by this message's answers


class RetrySchedulingError(RuntimeError):
    """SQS would not take a retry message."""


class DeliveryLogUnavailableError(RuntimeError):
    """The delivery log took none of a message's lines: the store itself is failing."""


def _unschedulable(job: DeliveryJob) -> DeadLetter:
    """A retry SQS refused: dead-lettered with the attempts it had."""
    return DeadLetter.of(
        job,
        last_error=f"{job.last_error or 'failed'}; attempt {job.attempt} could not be scheduled",
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def _wants(subscription: Subscription, event: WebhookEvent) -> bool:
    """A correction also reaches those who got the event it withdraws; an operational event
    never reaches the subscription it is about."""
    if isinstance(event, OperationalEvent) and event.about_subscription_id == subscription.id:
        return False
    withdrawn = f"shipment.{event.corrects.status.value}" if event.corrects else None
    return subscription.wants(event.type) or (
        withdrawn is not None and subscription.wants(withdrawn)
    )


def _skips(subscription: Subscription, event: WebhookEvent) -> bool:
    return event.stale and not subscription.include_stale


def _written(what: str, write: Callable[[], object]) -> bool:
    """Run one bookkeeping write; a failure is logged and reported, never raised."""
    try:
        write()
    except Exception:
        logger.exception("delivery bookkeeping not written", what=what)
        return False
    return True


class Fanout:
    def __init__(
        self,
        *,
        subscriptions: SubscriptionSource,
        marks: DeliveryMarks,
        log: DeliveryLog,
        retries: RetryScheduler,
        dead_letters: DeadLetterSink,
        notices: NoticeSink,
        sender: Sender,
        gate: EndpointGate,
        policy: RetryPolicy,
        executor: Executor,
        telemetry: Telemetry,
        max_in_flight: int,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._subscriptions = subscriptions
        self._marks = marks
        self._log = log
        self._retries = retries
        self._dead_letters = dead_letters
        self._notices = notices
        self._sender = sender
        self._gate = gate
        self._policy = policy
        self._executor = executor
        self._telemetry = telemetry
        self._max_in_flight = max_in_flight
        self._clock = clock
        self._rng = rng or random.Random()
        self._limits: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    async def handle_message(self, body: str) -> None:
        """Process one queue message; raises if any of its work could not be done."""
        message = json.loads(body)
        if message.get("kind") == "retry":
            await self.retry(DeliveryJob.model_validate(message))
        elif message.get("kind") == "operational":
            await self.fan_out(OperationalEvent.model_validate(message))
        else:
            await self.fan_out(ShipmentEvent.model_validate(message))

    async def fan_out(self, event: WebhookEvent) -> None:
        subscriptions = await self._blocking(
            self._subscriptions.list_for_merchant, event.merchant_id
        )
        wanted = [sub for sub in subscriptions if _wants(sub, event)]
        if not wanted:
            return
        ids = {sub.id: delivery_id(event.event_id, sub.id) for sub in wanted}
        done = await self._blocking(self._marks.delivered, list(ids.values()))
        # Processing the same event again (a crash, SQS redelivery) skips what succeeded.
        pending = [_Planned(sub, 1, None, 1) for sub in wanted if ids[sub.id] not in done]
        live = [p for p in pending if p.subscription.enabled]
        await self._attempt_all(
            event,
            [p for p in live if not _skips(p.subscription, event)],
            skipped=[p for p in live if _skips(p.subscription, event)],
            held=[p for p in pending if not p.subscription.enabled],
        )

    async def retry(self, job: DeliveryJob) -> None:
        now = self._clock()
        if job.due_at > now:
            # SQS delays at most 15 minutes: longer waits come back early and go round again.
            if await self._blocking(self._retries.schedule, [job], now):
                raise RetrySchedulingError(job.delivery_id)  # SQS will hand it back to us
            return
        subscription = await self._blocking(
            self._subscriptions.get, job.merchant_id, job.subscription_id
        )
        if subscription is None:
            return  # deleted since: nobody is waiting for it any more
        planned = _Planned(
            subscription,
            job.attempt,
            job.first_attempt_at,
            job.schedule_from,
            job.origin,
            job=job,
        )
        if not job.force:
            done = await self._blocking(self._marks.delivered, [job.delivery_id])
            if done:
                await self._attempt_all(job.event, [], taken=[planned])
                return  # SQS delivered this retry twice and the first one succeeded
        if not subscription.enabled:
            await self._attempt_all(job.event, [], held=[planned])
        # The merchant's own retry sends a stale event all the same: they asked for it.
        elif not job.force and _skips(subscription, job.event):
            await self._attempt_all(job.event, [], skipped=[planned])
        else:
            await self._attempt_all(job.event, [planned])

    async def _attempt_all(
        self,
        event: WebhookEvent,
        planned: list[_Planned],
        skipped: Sequence[_Planned] = (),
        held: Sequence[_Planned] = (),
        taken: Sequence[_Planned] = (),
    ) -> None:
        body = webhook_body(event)  # the same bytes for every subscription and retry
        results = await asyncio.gather(*(self._deliver(event, body, p) for p in planned))
        settlement = _Settlement()
        for plan in (*planned, *skipped, *held, *taken):
            if plan.job is not None and plan.job.counted:
                _bump(settlement.taken, plan.subscription.id)
        for plan in skipped:
            self._not_attempted(settlement, event=event, plan=plan, outcome=SKIPPED_STALE)
        for plan in held:
            self._not_attempted(settlement, event=event, plan=plan, outcome=HELD)
        for plan, sent in zip(planned, results, strict=True):
            if isinstance(sent, _PutOff):
                settlement.retries.append(self._put_off(event, plan, sent.wait_s))
            else:
                self._decide(settlement, event=event, plan=plan, sent=sent)
        try:
            await self._blocking(self._settle, settlement)
        finally:
            self._report(settlement)

    def _report(self, settlement: _Settlement) -> None:
        """Telemetry, on the loop's thread: its buffers need no lock."""
        for record in settlement.records:
            if record.outcome in NOT_ATTEMPTED:
                # Not an attempt: no latency, no delivery metric; one log line.
                logger.info(
                    "delivery not attempted",
                    outcome=record.outcome,
                    correlation_id=record.event_id,
                    delivery_id=record.delivery_id,
                    subscription_id=record.subscription_id,
                )
            else:
                self._telemetry.attempted(record)
        for dead in settlement.dead:
            self._telemetry.dead_lettered(dead)
        for gone in settlement.disabled:
            self._telemetry.disabled(gone.subscription, gone.by, gone.reason)

    def _not_attempted(
        self, settlement: _Settlement, *, event: WebhookEvent, plan: _Planned, outcome: str
    ) -> None:
        """A stale event the subscription does not take (logged, and marked done so a
        redelivered message does not log it again), or one held while it is disabled."""
        dlv_id = delivery_id(event.event_id, plan.subscription.id)
        settlement.records.append(
            AttemptRecord(
                delivery_id=dlv_id,
                event_id=event.event_id,
                event_type=event.type,
                subscription_id=plan.subscription.id,
                merchant_id=plan.subscription.merchant_id,
                attempt=plan.attempt,
                attempted_at=self._clock(),
                outcome=outcome,
                error=plan.subscription.disabled_reason if outcome == HELD else None,
                latency_ms=0.0,
                origin=plan.origin,
                event=event,
            )
        )
        if outcome == HELD:
            _bump(settlement.held, plan.subscription.id)
        else:
            settlement.delivered.append(dlv_id)

    async def _deliver(self, event: WebhookEvent, body: bytes, plan: _Planned) -> _Sent | _PutOff:
        """Through the endpoint's gate, or put off if it gives no lane in time."""
        subscription = plan.subscription
        local = self._gate.local_limit(subscription)
        if not local.locked():
            await local.acquire()
        else:
            try:
                await asyncio.wait_for(local.acquire(), self._gate.wait_budget_s)
            except TimeoutError:
                return _PutOff(0.0)  # this invocation alone keeps the endpoint's lanes busy
        try:
            async with self._limit():
                admission = await self._gate.admit(subscription)
                if admission.lease is None:
                    return _PutOff(admission.wait_s)
                sent_at, result = await self._post(event, body, subscription)
                health = await self._gate.release(subscription, admission, result)
                return _Sent(sent_at, result, health)
        finally:
            local.release()

    async def _post(
        self, event: WebhookEvent, body: bytes, subscription: Subscription
    ) -> tuple[datetime, AttemptResult]:
        sent_at = self._clock()
        try:
            headers = webhook_headers(
                subscription.live_secrets(sent_at),
                event.event_id,
                int(sent_at.timestamp()),
                body,
            )
            request = WebhookRequest(subscription.url, headers, body)
            return sent_at, await self._sender.send(request)
        except Exception:
            # One delivery's failure is its own failed attempt, not the loss of its siblings.
            logger.exception("delivery failed unexpectedly", subscription_id=subscription.id)
            return sent_at, AttemptResult(None, 0.0, error=UNEXPECTED_ERROR)

    def _put_off(self, event: WebhookEvent, plan: _Planned, wait_s: float) -> DeliveryJob:
        """The same attempt, later: the endpoint's limits or its breaker said not now."""
        now = self._clock()
        job = plan.job
        deferrals = job.deferrals if job else 0
        delay = defer_s(wait_s, deferrals, self._rng)
        return DeliveryJob(
            delivery_id=delivery_id(event.event_id, plan.subscription.id),
            event=event,
            subscription_id=plan.subscription.id,
            merchant_id=plan.subscription.merchant_id,
            attempt=plan.attempt,
            due_at=due_after(now, delay),
            first_attempt_at=plan.first_at or now,
            last_attempt_at=job.last_attempt_at if job else now,
            last_status=job.last_status if job else None,
            last_error=job.last_error if job else None,
            schedule_from=plan.schedule_from,
            force=job.force if job else False,
            origin=plan.origin,
            deferrals=deferrals + 1,
        )

    def _decide(
        self, settlement: _Settlement, *, event: WebhookEvent, plan: _Planned, sent: _Sent
    ) -> None:
        subscription, attempt, first_at = plan.subscription, plan.attempt, plan.first_at
        sent_at, result = sent.sent_at, sent.result
        outcome = classify(result)
        dlv_id = delivery_id(event.event_id, subscription.id)
        step = attempt - plan.schedule_from + 1  # position in the schedule
        next_at = self._next_attempt_at(outcome, result, step, sent_at)
        settlement.records.append(
            AttemptRecord(
                delivery_id=dlv_id,
                event_id=event.event_id,
                event_type=event.type,
                subscription_id=subscription.id,
                merchant_id=subscription.merchant_id,
                attempt=attempt,
                attempted_at=sent_at,
                outcome=outcome.value,
                status_code=result.status_code,
                error=result.error,
                latency_ms=result.latency_ms,
                response_excerpt=result.response_excerpt,
                next_attempt_at=next_at,
                origin=plan.origin,
                event=event,
            )
        )
        if outcome is Outcome.DELIVERED:
            settlement.delivered.append(dlv_id)
            return
        if outcome is Outcome.DISABLE:
            reason = f"endpoint answered {result.status_code} Gone at attempt {attempt}"
            settlement.gone[subscription.id] = _Gone(subscription, "gone", reason, sent.health)
            return
        health = sent.health
        if (
            health is not None
            and observe(result) is Observation.FAILURE
            and breaker_trips(health, self._gate.policy, sent_at)
        ):
            reason = breaker_reason(health, sent_at)
            settlement.gone.setdefault(
                subscription.id, _Gone(subscription, "breaker", reason, health)
            )
        job = DeliveryJob(
            delivery_id=dlv_id,
            event=event,
            subscription_id=subscription.id,
            merchant_id=subscription.merchant_id,
            attempt=attempt + 1,
            due_at=next_at or sent_at,
            first_attempt_at=first_at or sent_at,
            last_attempt_at=sent_at,
            last_status=result.status_code,
            last_error=result.error,
            schedule_from=plan.schedule_from,
        )
        if next_at is None:  # the schedule is exhausted
            settlement.dead.append(DeadLetter.of(job))
        else:
            # Held, not lost, if the breaker disables the endpoint before it is due.
            settlement.retries.append(job)

    def _settle(self, settlement: _Settlement) -> None:
        """Write what the attempts decided; successes first, so a crash re-POSTs least.

        Each write stands alone: one that fails is logged and the others are still made.
        A lost mark, disable or single log line does not fail the message, which SQS would
        hand back to POST its siblings again and start second retry chains.
        """
        now = self._clock()
        if settlement.delivered:
            _written(
                "success marks", partial(self._marks.mark_delivered, settlement.delivered, now)
            )
        logged = self._write_log(settlement.records)
        notices_out = [self._disable(settlement, gone, now) for gone in settlement.gone.values()]
        queued: list[DeliveryJob] = []
        if settlement.retries:
            counted = [job.model_copy(update={"counted": True}) for job in settlement.retries]
            # A retry SQS will not take is parked in the DLQ rather than failing the whole
            # message, which would POST its siblings again and start a second retry chain.
            refused = self._schedule(counted, now)
            settlement.dead.extend(_unschedulable(job) for job in refused)
            refused_ids = {id(job) for job in refused}
            queued = [job for job in counted if id(job) not in refused_ids]
        self._count(settlement, queued)
        if settlement.dead:
            # Raises: a delivery neither retried nor dead-lettered must come back, and SQS
            # redelivery re-POSTs only deliveries without a success mark.
            self._dead_letters.send(settlement.dead)
            notices_out += [notices.delivery_exhausted(dead) for dead in settlement.dead]
        self._tell([notice for notice in notices_out if notice is not None])
        if not logged:
            # The log is down, not one line bad: fail so SQS brings the message back, which
            # re-POSTs only the deliveries without a success mark and logs them then.
            raise DeliveryLogUnavailableError(f"{len(settlement.records)} attempts not logged")

    def _disable(
        self, settlement: _Settlement, gone: _Gone, now: datetime
    ) -> OperationalEvent | None:
        """Disable the subscription; its notice if this call is the one that disabled it."""
        subscription = gone.subscription
        try:
            changed = self._subscriptions.disable(
                subscription.merchant_id, subscription.id, gone.reason, now
            )
        except Exception:
            logger.exception("subscription not disabled", subscription_id=subscription.id)
            return None
        if not changed:
            return None
        settlement.disabled.append(gone)
        return notices.subscription_disabled(
            subscription, by=gone.by, reason=gone.reason, at=now, health=gone.health
        )

    def _count(self, settlement: _Settlement, queued: Sequence[DeliveryJob]) -> None:
        """Keep the endpoints' held and pending counts (what their health shows)."""
        pending: dict[str, int] = {}
        for job in queued:
            _bump(pending, job.subscription_id)
        for subscription_id, count in settlement.taken.items():
            _bump(pending, subscription_id, -count)
        for subscription_id in pending.keys() | settlement.held.keys():
            held, waiting = settlement.held.get(subscription_id, 0), pending.get(subscription_id, 0)
            if held or waiting:
                count_it = partial(self._gate.count, subscription_id, held=held, pending=waiting)
                _written(f"health counts of {subscription_id}", count_it)

    def _tell(self, events: list[OperationalEvent]) -> None:
        """Operational events are told once, best effort: their loss is logged, and ops
        hear of the same from the alarms."""
        if not events:
            return
        try:
            refused = self._notices.publish(events)
        except Exception:
            logger.exception("operational events not queued", count=len(events))
            return
        if refused:
            logger.error("operational events not queued", event_ids=refused)

    def _write_log(self, records: list[AttemptRecord]) -> bool:
        """The log in one batch; if that fails, line by line, so one bad line sinks no other.
        Whether any line was written (a line refused on its own would be refused again)."""
        if not records or _written("delivery log", partial(self._log.record, records)):
            return True
        logged = False
        for record in records:
            # Writing a line the failed batch did write is harmless: it has the same key.
            what = f"log line of {record.delivery_id} attempt {record.attempt}"
            logged |= _written(what, partial(self._log.record, [record])) or _written(
                f"{what} without its excerpt",
                partial(self._log.record, [record.without_response_excerpt()]),
            )
        return logged

    def _schedule(self, jobs: list[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        """The jobs RetryQueue did not take: all of them if it raised."""
        try:
            return self._retries.schedule(jobs, now)
        except Exception:
            logger.exception("retries not scheduled", count=len(jobs))
            return jobs

    def _next_attempt_at(
        self, outcome: Outcome, result: AttemptResult, attempt: int, sent_at: datetime
    ) -> datetime | None:
        if outcome is not Outcome.RETRY:
            return None
        delay = retry_delay_s(
            self._policy.schedule_s,
            attempt,
            self._policy.jitter,
            self._rng,
            retry_after_s(result, sent_at),
        )
        return None if delay is None else due_after(sent_at, delay)

    def _limit(self) -> asyncio.Semaphore:
        """The in-flight bound of the running loop (a semaphore belongs to one loop)."""
        loop = asyncio.get_running_loop()
        limit = self._limits.get(loop)
        if limit is None:
            self._limits = {loop: asyncio.Semaphore(self._max_in_flight)}
            limit = self._limits[loop]
        return limit

    async def _blocking[**P, T](
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))


def _bump(counts: dict[str, int], key: str, by: int = 1) -> None:
    counts[key] = counts.get(key, 0) + by
