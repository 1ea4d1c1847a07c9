"""Fan-out: one queued message in, a signed POST to every subscription that wants it.

Each attempt is logged; a failure is scheduled again on RetryQueue with the next
delay of the schedule, and the last failure goes to DeliveriesDLQ. Blocking work
(HTTP, AWS calls) runs on a bounded thread pool so every delivery of a batch
proceeds at once and a slow receiver holds up only itself.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from parcelhooks.backoff import due_after, retry_delay_s
from parcelhooks.deliveries import AttemptRecord, DeadLetter, DeliveryJob
from parcelhooks.http_sender import WebhookRequest
from parcelhooks.ids import delivery_id
from parcelhooks.models import ShipmentEvent, Subscription
from parcelhooks.outcomes import AttemptResult, Outcome, classify, retry_after_s
from parcelhooks.signing import webhook_headers
from parcelhooks.webhooks import webhook_body


class SubscriptionSource(Protocol):
    def list_for_merchant(self, merchant_id: str) -> list[Subscription]: ...

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None: ...

    def disable(
        self, merchant_id: str, subscription_id: str, reason: str, at: datetime
    ) -> None: ...


class DeliveryMarks(Protocol):
    """Which deliveries already succeeded, so processing an event again sends no duplicate."""

    def delivered(self, delivery_ids: Sequence[str]) -> set[str]: ...

    def mark_delivered(self, delivery_id: str, at: datetime) -> None: ...


class Telemetry(Protocol):
    def attempted(self, record: AttemptRecord) -> None: ...

    def dead_lettered(self, dead: DeadLetter) -> None: ...


class DeliveryLog(Protocol):
    def record(self, attempt: AttemptRecord) -> None: ...


class RetryScheduler(Protocol):
    def schedule(self, job: DeliveryJob, now: datetime) -> None: ...


class DeadLetterSink(Protocol):
    def send(self, dead: DeadLetter) -> None: ...


class Sender(Protocol):
    def send(self, request: WebhookRequest) -> AttemptResult: ...


@dataclass(frozen=True)
class RetryPolicy:
    schedule_s: tuple[int, ...]
    jitter: float

    @property
    def max_attempts(self) -> int:
        return len(self.schedule_s) + 1


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Fanout:
    def __init__(
        self,
        *,
        subscriptions: SubscriptionSource,
        marks: DeliveryMarks,
        log: DeliveryLog,
        retries: RetryScheduler,
        dead_letters: DeadLetterSink,
        sender: Sender,
        policy: RetryPolicy,
        executor: Executor,
        telemetry: Telemetry,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._subscriptions = subscriptions
        self._marks = marks
        self._log = log
        self._retries = retries
        self._dead_letters = dead_letters
        self._sender = sender
        self._policy = policy
        self._executor = executor
        self._telemetry = telemetry
        self._clock = clock
        self._rng = rng or random.Random()

    async def handle_message(self, body: str) -> None:
        """Process one queue message; raises if any of its work could not be done."""
        message = json.loads(body)
        if message.get("kind") == "retry":
            await self.retry(DeliveryJob.model_validate(message))
        else:
            await self.fan_out(ShipmentEvent.model_validate(message))

    async def fan_out(self, event: ShipmentEvent) -> None:
        subscriptions = await self._blocking(
            self._subscriptions.list_for_merchant, event.merchant_id
        )
        wanted = [sub for sub in subscriptions if sub.enabled and sub.wants(event.type)]
        if not wanted:
            return
        done = await self._blocking(
            self._marks.delivered, [delivery_id(event.event_id, sub.id) for sub in wanted]
        )
        # Processing the same event again (a crash, SQS redelivery) skips what succeeded.
        pending = [sub for sub in wanted if delivery_id(event.event_id, sub.id) not in done]
        await self._attempt_all([(event, sub, 1, None) for sub in pending])

    async def retry(self, job: DeliveryJob) -> None:
        now = self._clock()
        if job.due_at > now:
            # SQS delays at most 15 minutes: longer waits come back early and go round again.
            await self._blocking(self._retries.schedule, job, now)
            return
        subscription = await self._blocking(
            self._subscriptions.get, job.merchant_id, job.subscription_id
        )
        if subscription is None or not subscription.enabled:
            return  # deleted or disabled since: nobody is waiting for it any more
        if await self._blocking(self._marks.delivered, [job.delivery_id]):
            return  # SQS delivered this retry twice and the first one succeeded
        await self._attempt_all([(job.event, subscription, job.attempt, job.first_attempt_at)])

    async def _attempt_all(
        self, attempts: list[tuple[ShipmentEvent, Subscription, int, datetime | None]]
    ) -> None:
        """Every attempt on the pool at once (one hop each); report all, then fail if any did."""
        results = await asyncio.gather(
            *(self._blocking(self._attempt, *attempt) for attempt in attempts),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                continue
            record, dead = result
            # Telemetry runs here, on the loop's thread: its buffers need no lock.
            self._telemetry.attempted(record)
            if dead is not None:
                self._telemetry.dead_lettered(dead)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _attempt(
        self,
        event: ShipmentEvent,
        subscription: Subscription,
        attempt: int,
        first_at: datetime | None,
    ) -> tuple[AttemptRecord, DeadLetter | None]:
        """One POST and what follows from it: log, mark, disable, schedule or dead-letter."""
        body = webhook_body(event)
        sent_at = self._clock()
        headers = webhook_headers(
            subscription.secrets, event.event_id, int(sent_at.timestamp()), body
        )
        result = self._sender.send(WebhookRequest(subscription.url, headers, body))
        outcome = classify(result)
        dlv_id = delivery_id(event.event_id, subscription.id)
        next_at = self._next_attempt_at(outcome, result, attempt, sent_at)
        record = AttemptRecord(
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
        )
        self._log.record(record)
        if outcome is Outcome.DELIVERED:
            self._marks.mark_delivered(dlv_id, sent_at)
            return record, None
        if outcome is Outcome.DISABLE:
            reason = f"endpoint answered {result.status_code} Gone at attempt {attempt}"
            self._subscriptions.disable(subscription.merchant_id, subscription.id, reason, sent_at)
            return record, None
        if next_at is not None:
            self._retries.schedule(
                DeliveryJob(
                    delivery_id=dlv_id,
                    event=event,
                    subscription_id=subscription.id,
                    merchant_id=subscription.merchant_id,
                    attempt=attempt + 1,
                    due_at=next_at,
                    first_attempt_at=first_at or sent_at,
                    last_attempt_at=sent_at,
                    last_status=result.status_code,
                    last_error=result.error,
                ),
                sent_at,
            )
            return record, None
        dead = DeadLetter(
            delivery_id=dlv_id,
            event=event,
            subscription_id=subscription.id,
            merchant_id=subscription.merchant_id,
            attempts=attempt,
            last_status=result.status_code,
            last_error=result.error,
            first_attempt_at=first_at or sent_at,
            last_attempt_at=sent_at,
        )
        self._dead_letters.send(dead)
        return record, dead

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

    async def _blocking[**P, T](
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))
