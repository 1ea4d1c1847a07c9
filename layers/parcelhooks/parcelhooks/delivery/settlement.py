"""Writing down what one message's attempts decided: disables and their notices, retries,
dead letters, the endpoints' held/pending counts, and the delivery log (whose success lines
keep a message processed again from sending those deliveries twice).

Runs on a worker thread (boto3 blocks). Each write stands alone, so one store failing
loses no other bookkeeping; only a log that takes no line, or a dead-letter queue that
takes nothing, fails the message (SQS then re-POSTs what has no success line).

The lines that end a delivery (`delivered`, `skipped_stale`) are written first: a worker
that dies before the rest is written leaves those deliveries ended, and the message handed
back sends only the others. The other lines are written after the dead-letter queue: a
failure's line says `exhausted` only once its dead letter is in the queue, so a message that
fails there and comes back (its attempt made again) leaves no `exhausted` line behind for a
delivery that was not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol

from parcelhooks.core.deliveries import DONE, AttemptRecord, DeadLetter, DeliveryJob, Outcome
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.models import Subscription
from parcelhooks.core.observability import logger
from parcelhooks.core.operational import DisabledBy, OperationalEvent
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
    # Per subscription: deliveries newly held, and retry jobs taken (counted out of pending).
    held: dict[str, int] = field(default_factory=dict)
    taken: dict[str, int] = field(default_factory=dict)
    disabled: list[Gone] = field(default_factory=list)  # by this message's answers


class DeliveryLogUnavailableError(RuntimeError):
    """The delivery log took none of a message's lines: the store itself is failing."""


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

    def settle(self, settlement: Settlement) -> None:
        """Write what the attempts decided.

        Each write stands alone: one that fails is logged and the others are still made.
        A lost disable or single log line does not fail the message, which SQS would hand
        back to POST its siblings again and start second retry chains.
        """
        ended = [record for record in settlement.records if record.outcome in DONE]
        ended_logged = bool(ended) and self._write_log(ended)

        def still_to_log() -> list[AttemptRecord]:
            return [r for r in settlement.records if not (ended_logged and r.outcome in DONE)]

        now = self._clock()
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
            try:
                self._dead_letters.send(settlement.dead)
            except Exception:
                # Raises: a delivery neither retried nor dead-lettered must come back, and SQS
                # redelivery re-POSTs only deliveries without a success line. Its line stays
                # `retry`: the attempt is made again when the message is handed back.
                self._write_log(still_to_log())
                raise
            settlement.records = mark_exhausted(settlement.records, settlement.dead)
            notices_out += [notices.delivery_exhausted(dead) for dead in settlement.dead]
        logged = self._write_log(still_to_log()) or ended_logged
        self._tell([notice for notice in notices_out if notice is not None])
        if not logged:
            # The log is down, not one line bad: fail so SQS brings the message back, which
            # re-POSTs only the deliveries without a success line and logs them then.
            raise DeliveryLogUnavailableError(f"{len(settlement.records)} attempts not logged")

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

    def _count(self, settlement: Settlement, queued: Sequence[DeliveryJob]) -> None:
        """Keep the endpoints' held and pending counts (what their health shows)."""
        pending: dict[str, int] = {}
        for job in queued:
            bump(pending, job.subscription_id)
        for subscription_id, count in settlement.taken.items():
            bump(pending, subscription_id, -count)
        for subscription_id in pending.keys() | settlement.held.keys():
            held, waiting = settlement.held.get(subscription_id, 0), pending.get(subscription_id, 0)
            if held or waiting:
                count_it = partial(self._counts.count, subscription_id, held=held, pending=waiting)
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
