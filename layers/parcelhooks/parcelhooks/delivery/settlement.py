"""The fan-out's bookkeeping, as one port: whom an event goes to, which of its deliveries
already ended, and writing down what a batch's attempts decided — disables and their
notices, retries, dead letters, the endpoints' held/pending counts, and the delivery log
(whose lines that end a delivery keep a message processed again from sending it twice).

A whole invocation's batch is settled at once: every message's lines go to the log in the
same batched writes, every retry to the retry queue in the same sends, and the endpoints'
counts are added up first; what could not be written fails only the messages it belongs
to. Runs on a worker thread (boto3 blocks). Each write stands alone, so one store failing
loses no other bookkeeping; only a log that takes none of a message's lines, a dead-letter
queue that refuses one of its dead letters (those it took are not sent again), or a retry
queue that will not take a job sent back unchanged fails that message (SQS then hands it
back, and it re-POSTs only what the log does not show ended).

The lines that end a delivery (`delivered`, `skipped_stale`) are written first: a worker
that dies before the rest is written leaves those deliveries ended, and the message handed
back sends only the others. The other lines are written after the dead-letter queue: a
failure's line says `exhausted` only once its dead letter is in the queue, so a message that
fails there and comes back (its attempt made again) leaves no `exhausted` line behind for a
delivery that was not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol

from parcelhooks.core.deliveries import DONE, AttemptRecord, DeadLetter, DeliveryJob, Outcome
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.models import Subscription
from parcelhooks.core.observability import logger
from parcelhooks.core.operational import DisabledBy, OperationalEvent, WebhookEvent
from parcelhooks.delivery import notices
from parcelhooks.delivery.ports import (
    DeadLetterSink,
    DeliveryLog,
    NoticeSink,
    RetryScheduler,
    SubscriptionSource,
)


class HealthCounts(Protocol):
    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None: ...


@dataclass(frozen=True, slots=True)
class Gone:
    subscription: Subscription
    by: DisabledBy
    reason: str
    health: EndpointHealth | None


@dataclass
class Settlement:
    """Everything one message's attempts leave to be written."""

    records: list[AttemptRecord] = field(default_factory=list)
    gone: dict[str, Gone] = field(default_factory=dict)
    retries: list[DeliveryJob] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    # A retry job not due yet, sent back to the retry queue as it is (SQS delays at most 15
    # minutes); the message fails if the queue will not take it.
    requeued: list[DeliveryJob] = field(default_factory=list)
    # Per subscription: deliveries newly held, and retry jobs taken (counted out of pending).
    held: dict[str, int] = field(default_factory=dict)
    taken: dict[str, int] = field(default_factory=dict)
    disabled: list[Gone] = field(default_factory=list)  # by this message's answers


class DeliveryLogUnavailableError(RuntimeError):
    """The delivery log took none of a message's lines: the store itself is failing."""


class DeadLetterRefusedError(RuntimeError):
    """The dead-letter queue would not take some of a message's dead letters."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} dead letters refused by the queue")


class RetrySchedulingError(RuntimeError):
    """SQS would not take a retry job sent back unchanged."""


def _unschedulable(job: DeliveryJob) -> DeadLetter:
    """A retry SQS refused: dead-lettered with the attempts it had."""
    return DeadLetter.of(
        job,
        last_error=f"{job.last_error or 'failed'}; attempt {job.attempt} could not be scheduled",
    )


def _written(what: str, write: Callable[[], object]) -> bool:
    """Run one bookkeeping write; a failure is logged and reported, never raised."""
    try:
        write()
    except Exception:
        logger.exception("delivery bookkeeping not written", what=what)
        return False
    return True


def bump(counts: dict[str, int], key: str, by: int = 1) -> None:
    counts[key] = counts.get(key, 0) + by


class Bookkeeping:
    """The fan-out's stores behind one port (delivery/ports.py `Books`)."""

    def __init__(
        self,
        *,
        subscriptions: SubscriptionSource,
        log: DeliveryLog,
        retries: RetryScheduler,
        dead_letters: DeadLetterSink,
        notices: NoticeSink,
        counts: HealthCounts,
        clock: Callable[[], datetime],
    ) -> None:
        self._subscriptions = subscriptions
        self._log = log
        self._retries = retries
        self._dead_letters = dead_letters
        self._notices = notices
        self._counts = counts
        self._clock = clock

    def subscriptions_of(self, merchant_id: str) -> list[Subscription]:
        return self._subscriptions.list_for_merchant(merchant_id)

    def ended(self, event: WebhookEvent, subscription_ids: Sequence[str]) -> set[str]:
        """The subscriptions whose delivery of the event the log shows ended."""
        return self._log.delivered(event, subscription_ids)

    def settle(self, settlements: Mapping[str, Settlement]) -> dict[str, Exception]:
        """Write what a batch's attempts decided (`settlements` by message); the messages
        that must come back, each with why.

        Each write stands alone: one that fails is logged and the others are still made.
        A lost disable or single log line does not fail its message, which SQS would hand
        back to POST its siblings again and start second retry chains.
        """
        failures: dict[str, Exception] = {}
        everything = list(settlements.values())
        written = self._write_log([r for s in everything for r in s.records if r.outcome in DONE])
        now = self._clock()
        notices_out = [self._disable(s, gone, now) for s in everything for gone in s.gone.values()]
        queued = self._schedule_all(settlements, failures, now)
        self._count(everything, queued)
        refused = self._send_dead(settlements)
        for key, settlement in settlements.items():
            kept_out = refused.get(key, [])
            if kept_out:
                # A delivery neither retried nor dead-lettered must come back: its line stays
                # `retry`, and the attempt is made again when the message is handed back.
                failures.setdefault(key, DeadLetterRefusedError(len(kept_out)))
            sent = [d for d in settlement.dead if all(d is not k for k in kept_out)]
            if sent:
                settlement.records = mark_exhausted(settlement.records, sent)
                notices_out += [notices.delivery_exhausted(dead) for dead in sent]
        written |= self._write_log(
            [r for s in everything for r in s.records if id(r) not in written]
        )
        self._tell([notice for notice in notices_out if notice is not None])
        for key, settlement in settlements.items():
            if settlement.records and not any(id(r) in written for r in settlement.records):
                # The log is down, not one line bad: SQS brings the message back, which
                # re-POSTs only the deliveries the log does not show ended, and logs them then.
                failures.setdefault(
                    key, DeliveryLogUnavailableError(f"{len(settlement.records)} lines not logged")
                )
        return failures

    def _schedule_all(
        self, settlements: Mapping[str, Settlement], failures: dict[str, Exception], now: datetime
    ) -> list[DeliveryJob]:
        """Every message's retries in one go; the jobs queued as new retries. A new retry SQS
        will not take is parked in the DLQ rather than failing its message (which would POST
        its siblings again and start a second retry chain); a job sent back unchanged that
        SQS will not take fails its message."""
        fresh = [
            (key, job.model_copy(update={"counted": True}))
            for key, settlement in settlements.items()
            for job in settlement.retries
        ]
        again = [(key, job) for key, s in settlements.items() for job in s.requeued]
        if not fresh and not again:
            return []
        refused = {id(job) for job in self._schedule([job for _, job in fresh + again], now)}
        for key, job in again:
            if id(job) in refused:
                failures.setdefault(key, RetrySchedulingError(job.delivery_id))
        for key, job in fresh:
            if id(job) in refused:
                settlements[key].dead.append(_unschedulable(job))
        return [job for _, job in fresh if id(job) not in refused]

    def _send_dead(self, settlements: Mapping[str, Settlement]) -> dict[str, list[DeadLetter]]:
        """Every message's dead letters in one send; by message, the letters the queue kept
        refusing (all of them if the send failed). A letter the queue took is never sent
        again: that would be a second copy of the delivery in the dead-letter queue."""
        dead = [letter for s in settlements.values() for letter in s.dead]
        if not dead:
            return {}
        try:
            kept_out = self._dead_letters.send(dead)
        except Exception:
            logger.exception("dead letters not sent", count=len(dead))
            kept_out = dead
        if kept_out:
            logger.error("dead letters refused", delivery_ids=[d.delivery_id for d in kept_out])
        refused_ids = {id(letter) for letter in kept_out}
        return {
            key: [letter for letter in s.dead if id(letter) in refused_ids]
            for key, s in settlements.items()
            if any(id(letter) in refused_ids for letter in s.dead)
        }

    def _disable(
        self, settlement: Settlement, gone: Gone, now: datetime
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

    def _count(self, settlements: Sequence[Settlement], queued: Sequence[DeliveryJob]) -> None:
        """Keep the endpoints' held and pending counts (what their health shows): one write
        per endpoint for the whole batch."""
        pending: dict[str, int] = {}
        held: dict[str, int] = {}
        for job in queued:
            bump(pending, job.subscription_id)
        for settlement in settlements:
            for subscription_id, count in settlement.taken.items():
                bump(pending, subscription_id, -count)
            for subscription_id, count in settlement.held.items():
                bump(held, subscription_id, count)
        for subscription_id in pending.keys() | held.keys():
            newly_held, waiting = held.get(subscription_id, 0), pending.get(subscription_id, 0)
            if newly_held or waiting:
                count_it = partial(
                    self._counts.count, subscription_id, held=newly_held, pending=waiting
                )
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

    def _write_log(self, records: list[AttemptRecord]) -> set[int]:
        """The log in one batch; if that fails, line by line, so one bad line sinks no other.
        The lines written (by `id()`: a line refused on its own would be refused again)."""
        if not records:
            return set()
        if _written("delivery log", partial(self._log.record, records)):
            return {id(record) for record in records}
        written: set[int] = set()
        for record in records:
            # Writing a line the failed batch did write is harmless: it has the same key.
            what = f"log line of {record.delivery_id} attempt {record.attempt}"
            if _written(what, partial(self._log.record, [record])) or _written(
                f"{what} without its excerpt",
                partial(self._log.record, [record.without_response_excerpt()]),
            ):
                written.add(id(record))
        return written

    def _schedule(self, jobs: list[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        """The jobs RetryQueue did not take: all of them if it raised."""
        try:
            return self._retries.schedule(jobs, now)
        except Exception:
            logger.exception("retries not scheduled", count=len(jobs))
            return jobs


def mark_exhausted(
    records: Sequence[AttemptRecord], dead: Sequence[DeadLetter]
) -> list[AttemptRecord]:
    """The lines with each failed attempt that ended in `dead` marked `exhausted`, its
    status code and error as they came and no next attempt. A `deferred` line whose job
    was dead-lettered is no attempt: it stays as it is (recover finds it once it is due)."""
    last_attempts = {(letter.delivery_id, letter.attempts) for letter in dead}
    return [
        record.model_copy(update={"outcome": Outcome.EXHAUSTED.value, "next_attempt_at": None})
        if record.outcome == Outcome.RETRY and (record.delivery_id, record.attempt) in last_attempts
        else record
        for record in records
    ]
