"""Fan-out: an invocation's batch of queued messages in, a signed POST to every
subscription that wants each event.

A batch is handled at once: each merchant's subscriptions are read once for all its
messages, every POST of every message runs at once on the event loop, at most
`concurrency` at a time (the invocation's bound over every endpoint; a subscription's
`max_in_flight` bounds its one endpoint over every invocation), so a slow receiver holds up
only itself. What follows from the answers — the log (whose lines that end a delivery keep
it from going out twice), retries with the next delay of the schedule, the dead-letter
queue — is written once for the whole batch, in batches, on a worker thread (boto3 blocks),
and what could not be written fails only the messages it belongs to (delivery/settlement.py).

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

A subscription's `filter` is one more condition of wanting an event: an event it does not
match is not delivered and not logged, like an event type it does not name. What is sent
is the destination's own request (delivery/destination.py): its method, headers, URL and
body template, or an e-mail through SES; a template that cannot render the event is logged
`render_error` and nothing is sent (the merchant fixes it, then retries or recovers).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime

from parcelhooks.core.attempts import EmailPlan
from parcelhooks.core.deliveries import (
    NOT_ATTEMPTED,
    AttemptRecord,
    DeadLetter,
    DeliveryJob,
    Origin,
    Outcome,
    delivery_id_of,
    queue_message,
)
from parcelhooks.core.errors import SecretsUnavailableError, SecretsUnreadableError
from parcelhooks.core.health import EndpointHealth, Observation
from parcelhooks.core.models import ShipmentEvent, Subscription
from parcelhooks.core.observability import logger
from parcelhooks.core.operational import OperationalEvent, WebhookEvent
from parcelhooks.delivery.backoff import due_after, retry_delay_s
from parcelhooks.delivery.destination import (
    HttpRequestPlan,
    RenderError,
    envelope_of,
    render_email,
    render_http,
)
from parcelhooks.delivery.filters import matches
from parcelhooks.delivery.gate import EndpointGate
from parcelhooks.delivery.health import breaker_reason, breaker_trips, defer_s, observe
from parcelhooks.delivery.http.sender import WebhookRequest
from parcelhooks.delivery.outcomes import UNEXPECTED_ERROR, AttemptResult, classify, retry_after_s
from parcelhooks.delivery.ports import Books, Mailer, SecretValues, Sender, Telemetry
from parcelhooks.delivery.settlement import Gone, Settlement, bump
from parcelhooks.delivery.signing import webhook_headers
from parcelhooks.delivery.webhook import webhook_body


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


# How long a delivery whose header secrets KMS would not open waits before it is asked again.
SECRETS_RETRY_S = 30.0
# Merchants whose last listing a warm worker keeps, to read their endpoints' health ahead.
LISTINGS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class _PutOff:
    """Refused a lane: no attempt made; ask again after `wait_s`, for `reason`."""

    wait_s: float
    reason: str


@dataclass(frozen=True, slots=True)
class _Unrendered:
    """The destination's templates could not make a request of this event: nothing sent."""

    error: str


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """One message of an invocation's batch, as SQS handed it over.

    `first_sight`: SQS hands this message over for the first time and ingest queued its
    event for the first time, so no delivery of it can have been made: the log is not asked
    which ones were (any other message is: a redelivery, a re-queued or redriven event, a
    retry, an operational event)."""

    message_id: str
    body: str
    first_sight: bool = False


class _Listings:
    """Each merchant's subscriptions, read once per batch: the messages asking at once
    share the read (and its failure)."""

    def __init__(self, read: Callable[[str], Awaitable[list[Subscription]]]) -> None:
        self._read = read
        self._reads: dict[str, asyncio.Future[list[Subscription]]] = {}

    async def of(self, merchant_id: str) -> list[Subscription]:
        if merchant_id not in self._reads:
            self._reads[merchant_id] = asyncio.ensure_future(self._read(merchant_id))
        return await asyncio.shield(self._reads[merchant_id])


def utcnow() -> datetime:
    return datetime.now(UTC)


def _deferred(job: DeliveryJob, plan: _Planned, reason: str, at: datetime) -> AttemptRecord:
    """The log line of a delivery put off: not an attempt, but in sight until it is made."""
    return AttemptRecord(
        delivery_id=job.delivery_id,
        event_id=job.event.event_id,
        event_type=job.event.type,
        subscription_id=job.subscription_id,
        merchant_id=job.merchant_id,
        attempt=job.attempt,
        attempted_at=at,
        outcome=Outcome.DEFERRED,
        error=reason,
        latency_ms=0.0,
        next_attempt_at=job.due_at,
        origin=plan.origin,
        event=job.event,
    )


def _wants(subscription: Subscription, event: WebhookEvent, envelope: dict[str, object]) -> bool:
    """A correction also reaches those who got the event it withdraws; an operational event
    never reaches the subscription it is about; a filter must match the webhook's body."""
    if isinstance(event, OperationalEvent) and event.about_subscription_id == subscription.id:
        return False
    withdrawn = f"shipment.{event.corrects.status.value}" if event.corrects else None
    wanted = subscription.wants(event.type) or (
        withdrawn is not None and subscription.wants(withdrawn)
    )
    return wanted and (subscription.filter is None or matches(subscription.filter, envelope))


def _envelope(body: bytes, subscriptions: Sequence[Subscription]) -> dict[str, object]:
    """The webhook's body parsed back, only when a filter has to read it."""
    return envelope_of(body) if any(s.filter for s in subscriptions) else {}


def _skips(subscription: Subscription, event: WebhookEvent) -> bool:
    return event.stale and not subscription.include_stale


class Fanout:
    def __init__(
        self,
        *,
        books: Books,
        sender: Sender,
        mailer: Mailer,
        secrets: SecretValues,
        gate: EndpointGate,
        policy: RetryPolicy,
        executor: Executor,
        telemetry: Telemetry,
        concurrency: int,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._books = books
        self._sender = sender
        self._mailer = mailer
        self._secrets = secrets
        self._gate = gate
        self._policy = policy
        self._executor = executor
        self._telemetry = telemetry
        self._concurrency = concurrency
        self._clock = clock
        self._rng = rng or random.Random()
        self._limits: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        # Each merchant's subscriptions as this worker last listed them: only to start
        # reading their endpoints' health while they are listed again.
        self._last_listed: dict[str, list[Subscription]] = {}

    def begin_invocation(self) -> None:
        """Called once per invocation, before its messages (see EndpointGate)."""
        self._gate.begin_invocation()

    async def handle_batch(self, messages: Sequence[QueuedMessage]) -> list[str]:
        """Process an invocation's batch; the ids of the messages whose work could not all
        be done (SQS hands them over again), the others settled."""
        failures = await self._handle_all(messages)
        for message_id, error in failures.items():
            logger.error(
                "message not settled: SQS hands it back",
                message_id=message_id,
                error=repr(error),
            )
        return list(failures)

    async def handle_message(self, body: str, *, first_sight: bool = False) -> None:
        """Process one queue message as a batch of one; raises what kept it from settling."""
        failures = await self._handle_all([QueuedMessage("message", body, first_sight)])
        for error in failures.values():
            raise error

    async def _handle_all(self, messages: Sequence[QueuedMessage]) -> dict[str, BaseException]:
        listings = _Listings(
            lambda merchant_id: self._blocking(self._books.subscriptions_of, merchant_id)
        )
        made = await asyncio.gather(
            *(self._settlement_of(message, listings) for message in messages),
            return_exceptions=True,
        )
        failures: dict[str, BaseException] = {}
        settlements: dict[str, Settlement] = {}
        for message, settlement in zip(messages, made, strict=True):
            if isinstance(settlement, BaseException):
                failures[message.message_id] = settlement
            else:
                settlements[message.message_id] = settlement
        try:
            failures |= await self._blocking(self._books.settle, settlements)
        finally:
            for settlement in settlements.values():
                self._report(settlement)
        return failures

    async def _settlement_of(self, message: QueuedMessage, listings: _Listings) -> Settlement:
        match queue_message(message.body):
            case DeliveryJob() as job:
                return await self._retry(job, listings)
            case OperationalEvent() as notice:
                return await self._fan_out(notice, listings)
            case ShipmentEvent() as event:
                return await self._fan_out(event, listings, first_sight=message.first_sight)

    async def _fan_out(
        self, event: WebhookEvent, listings: _Listings, *, first_sight: bool = False
    ) -> Settlement:
        body = webhook_body(event)  # the same bytes for every subscription and retry
        hinted = self._last_listed.get(event.merchant_id, [])
        envelope = _envelope(body, hinted)
        self._gate.read_ahead(
            s for s in hinted if s.enabled and _wants(s, event, envelope) and not _skips(s, event)
        )
        subscriptions = await self._listed(event.merchant_id, listings)
        envelope = envelope or _envelope(body, subscriptions)  # parsed once, if at all
        wanted = [sub for sub in subscriptions if _wants(sub, event, envelope)]
        if not wanted:
            return Settlement()
        asked = [sub.id for sub in wanted]
        done = set() if first_sight else await self._blocking(self._books.ended, event, asked)
        # Processing the same event again (a crash, SQS redelivery) skips what succeeded.
        pending = [_Planned(sub, 1, None, 1) for sub in wanted if sub.id not in done]
        live = [p for p in pending if p.subscription.enabled]
        return await self._attempt_all(
            event,
            [p for p in live if not _skips(p.subscription, event)],
            skipped=[p for p in live if _skips(p.subscription, event)],
            held=[p for p in pending if not p.subscription.enabled],
            body=body,
        )

    async def _retry(self, job: DeliveryJob, listings: _Listings) -> Settlement:
        now = self._clock()
        if job.due_at > now:
            # SQS delays at most 15 minutes: longer waits come back early and go round again.
            return Settlement(requeued=[job])
        hinted = self._last_listed.get(job.merchant_id, [])
        self._gate.read_ahead(s for s in hinted if s.enabled and s.id == job.subscription_id)
        subscription = next(
            (
                s
                for s in await self._listed(job.merchant_id, listings)
                if s.id == job.subscription_id
            ),
            None,
        )
        if subscription is None:
            return Settlement()  # deleted since: nobody is waiting for it any more
        planned = _Planned(
            subscription,
            job.attempt,
            job.first_attempt_at,
            job.schedule_from,
            job.origin,
            job=job,
        )
        if not job.force:
            done = await self._blocking(self._books.ended, job.event, [job.subscription_id])
            if done:
                # SQS delivered this retry twice and the first one succeeded.
                return await self._attempt_all(job.event, [], taken=[planned])
        if not subscription.enabled:
            return await self._attempt_all(job.event, [], held=[planned])
        # The merchant's own retry sends a stale event all the same: they asked for it.
        if not job.force and _skips(subscription, job.event):
            return await self._attempt_all(job.event, [], skipped=[planned])
        return await self._attempt_all(job.event, [planned])

    async def _listed(self, merchant_id: str, listings: _Listings) -> list[Subscription]:
        """The merchant's subscriptions, read for this batch. Kept (for the merchants seen
        last, at most LISTINGS_KEPT) only so that the next message of the merchant starts
        reading its endpoints' health while they are listed again: its deliveries then find
        the records read, instead of reading them after the listing."""
        subscriptions = await listings.of(merchant_id)
        self._last_listed.pop(merchant_id, None)
        self._last_listed[merchant_id] = subscriptions
        while len(self._last_listed) > LISTINGS_KEPT:
            del self._last_listed[next(iter(self._last_listed))]
        return subscriptions

    async def _attempt_all(
        self,
        event: WebhookEvent,
        planned: list[_Planned],
        *,
        skipped: Sequence[_Planned] = (),
        held: Sequence[_Planned] = (),
        taken: Sequence[_Planned] = (),
        body: bytes | None = None,
    ) -> Settlement:
        body = body or webhook_body(event)  # the same bytes for every subscription and retry
        results = await asyncio.gather(*(self._deliver(event, body, p) for p in planned))
        settlement = Settlement()
        for plan in (*planned, *skipped, *held, *taken):
            if plan.job is not None and plan.job.counted:
                bump(settlement.taken, plan.subscription.id)
        for plan in skipped:
            self._not_attempted(settlement, event=event, plan=plan, outcome=Outcome.SKIPPED_STALE)
        for plan in held:
            self._not_attempted(settlement, event=event, plan=plan, outcome=Outcome.HELD)
        for plan, sent in zip(planned, results, strict=True):
            if isinstance(sent, _PutOff):
                job = self._put_off(event, plan, sent.wait_s)
                settlement.retries.append(job)
                settlement.records.append(_deferred(job, plan, sent.reason, self._clock()))
            elif isinstance(sent, _Unrendered):
                self._not_attempted(
                    settlement,
                    event=event,
                    plan=plan,
                    outcome=Outcome.RENDER_ERROR,
                    error=sent.error,
                )
            else:
                self._decide(settlement, event=event, plan=plan, sent=sent)
        return settlement

    def _report(self, settlement: Settlement) -> None:
        """Telemetry, on the loop's thread: its buffers need no lock."""
        for record in settlement.records:
            if record.outcome == Outcome.RENDER_ERROR:
                self._telemetry.unrendered(record)
            elif record.outcome in NOT_ATTEMPTED:
                # Not an attempt: no latency, no delivery metric; one DEBUG line (the delivery
                # log holds it).
                logger.debug(
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
        self,
        settlement: Settlement,
        *,
        event: WebhookEvent,
        plan: _Planned,
        outcome: str,
        error: str | None = None,
    ) -> None:
        """A stale event the subscription does not take (logged, and marked done so a
        redelivered message does not log it again), one held while it is disabled, or one
        its templates could not render (neither done nor retried: the merchant's to fix)."""
        dlv_id = delivery_id_of(event, plan.subscription.id)
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
                error=plan.subscription.disabled_reason if outcome == Outcome.HELD else error,
                latency_ms=0.0,
                origin=plan.origin,
                event=event,
            )
        )
        if outcome == Outcome.HELD:
            bump(settlement.held, plan.subscription.id)

    async def _deliver(
        self, event: WebhookEvent, body: bytes, plan: _Planned
    ) -> _Sent | _PutOff | _Unrendered:
        """Rendered, then through the endpoint's gate, or put off if it gives no lane in
        time; a render error never reaches the gate (it is no answer of the endpoint's)."""
        subscription = plan.subscription
        try:
            outgoing = await self._render(event, body, subscription)
        except RenderError as error:
            return _Unrendered(str(error))
        except SecretsUnavailableError as error:
            # No attempt made; the message's other deliveries go out and are logged all the
            # same, and this one is asked again.
            logger.warning("header secrets not opened", subscription_id=subscription.id)
            return _PutOff(SECRETS_RETRY_S, f"its header secrets could not be opened ({error})")
        except SecretsUnreadableError as error:
            return _Unrendered(f"its header secrets will not open ({error}): set them again")
        local = self._gate.local_limit(subscription)
        if not local.locked():
            await local.acquire()
        else:
            try:
                await asyncio.wait_for(local.acquire(), self._gate.wait_budget_s)
            except TimeoutError:
                # This invocation alone keeps the endpoint's lanes busy.
                return _PutOff(0.0, "over the subscription's max_in_flight")
        try:
            async with self._limit():
                admission = await self._gate.admit(subscription)
                if not admission.admitted:
                    return _PutOff(admission.wait_s, admission.reason)
                try:
                    sent_at, result = await self._send(event, outgoing, subscription)
                    health = await self._gate.release(subscription, admission, result)
                finally:
                    admission.give_back_share()  # given back already unless something raised
                return _Sent(sent_at, result, health)
        finally:
            local.release()

    async def _render(
        self, event: WebhookEvent, body: bytes, subscription: Subscription
    ) -> HttpRequestPlan | EmailPlan:
        if subscription.kind == "email":
            return render_email(subscription, event, body)
        opened: dict[str, str] = {}
        if any(header.secret for header in subscription.headers):
            # KMS, through a cache: off the loop, as every blocking call.
            opened = await self._blocking(self._secrets.open, subscription)
        return render_http(subscription, event, body, lambda _, sealed: opened[sealed])

    async def _send(
        self, event: WebhookEvent, outgoing: HttpRequestPlan | EmailPlan, subscription: Subscription
    ) -> tuple[datetime, AttemptResult]:
        sent_at = self._clock()
        try:
            if isinstance(outgoing, EmailPlan):
                return sent_at, await self._mailer.send(outgoing)
            signature = webhook_headers(
                subscription.live_secrets(sent_at),
                event.event_id,
                int(sent_at.timestamp()),
                outgoing.body,
            )
            request = WebhookRequest(
                outgoing.url,
                {**outgoing.headers, **signature},
                outgoing.body,
                method=outgoing.method,
                content_type=outgoing.content_type,
            )
            return sent_at, await self._sender.send(request)
        except Exception:
            # One delivery's failure is its own failed attempt, not the loss of its siblings.
            logger.exception("delivery failed unexpectedly", subscription_id=subscription.id)
            return sent_at, AttemptResult(None, 0.0, error=UNEXPECTED_ERROR)

    def _put_off(self, event: WebhookEvent, plan: _Planned, wait_s: float) -> DeliveryJob:
        """The same attempt, later: the endpoint's limits or its breaker said not now."""
        now = self._clock()
        delay = defer_s(wait_s, plan.job.deferrals if plan.job else 0, self._rng)
        return DeliveryJob.put_off(
            event,
            plan.subscription,
            waiting=plan.job,
            attempt=plan.attempt,
            due_at=due_after(now, delay),
            first_attempt_at=plan.first_at or now,
            schedule_from=plan.schedule_from,
            origin=plan.origin,
            now=now,
        )

    def _decide(
        self, settlement: Settlement, *, event: WebhookEvent, plan: _Planned, sent: _Sent
    ) -> None:
        subscription, attempt, first_at = plan.subscription, plan.attempt, plan.first_at
        sent_at, result = sent.sent_at, sent.result
        outcome = classify(result)
        dlv_id = delivery_id_of(event, subscription.id)
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
            return  # its line is what keeps it from being sent again
        if outcome is Outcome.DISABLE:
            reason = f"endpoint answered {result.status_code} Gone at attempt {attempt}"
            settlement.gone[subscription.id] = Gone(subscription, "gone", reason, sent.health)
            return
        health = sent.health
        if (
            health is not None
            and observe(result) is Observation.FAILURE
            and breaker_trips(health, self._gate.policy, sent_at)
        ):
            reason = breaker_reason(health, sent_at)
            settlement.gone.setdefault(
                subscription.id, Gone(subscription, "breaker", reason, health)
            )
        job = DeliveryJob.after_failure(
            event,
            subscription,
            attempt=attempt + 1,
            due_at=next_at or sent_at,
            first_attempt_at=first_at or sent_at,
            sent_at=sent_at,
            status=result.status_code,
            error=result.error,
            schedule_from=plan.schedule_from,
        )
        if next_at is None:  # the schedule is exhausted
            # Its line says `exhausted` once the dead-letter queue takes it (settlement.py).
            settlement.dead.append(DeadLetter.of(job))
        else:
            # Held, not lost, if the breaker disables the endpoint before it is due.
            settlement.retries.append(job)

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
        """The invocation's concurrency on the running loop (a semaphore belongs to one loop)."""
        loop = asyncio.get_running_loop()
        limit = self._limits.get(loop)
        if limit is None:
            self._limits = {loop: asyncio.Semaphore(self._concurrency)}
            limit = self._limits[loop]
        return limit

    async def _blocking[**P, T](
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))
