"""Redrive: move matching dead letters back into the pipeline; leave everything else untouched.

SQS has no filtered move, so a run receives, decides, sends and deletes. Every message a
run receives stays invisible to others until the run is done with it: a moved one is
deleted only after it was sent (a crash in between sends it again: the same delivery id,
so the same `webhook-id`, and its success line in the log keeps a delivered one from going
out twice); one that stays is made visible again when the run ends (or, after a crash,
when its visibility timeout runs out). Two runs at once never see the same message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import Field, ValidationError

from parcelhooks.core.deliveries import DeadLetter, DeliveryJob, queue_message
from parcelhooks.core.held_messages import HeldMessage
from parcelhooks.core.ids import OWNER_ID_PATTERN
from parcelhooks.core.models import Model, StrictModel, Subscription, Timestamp
from parcelhooks.core.operational import WebhookEvent

MAX_PER_RUN = 1000
# A run looks at no more than this many dead letters, matching or not (bounds its time).
MAX_EXAMINED = 10_000


class DeadLetterSource(Protocol):
    def receive(self, max_count: int) -> list[HeldMessage]: ...

    def release(self, handles: Sequence[str]) -> None:
        """Make these visible again now."""
        ...

    def delete(self, handles: Sequence[str]) -> None: ...


class EventSink(Protocol):
    def publish(self, events: Sequence[WebhookEvent]) -> list[str]:
        """Return the event ids that could not be queued."""
        ...


class JobSink(Protocol):
    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        """Return the jobs that could not be queued."""
        ...


class SubscriptionLookup(Protocol):
    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None: ...


class RedriveRequest(StrictModel):
    queue: Literal["deliveries", "events"]
    max_messages: int = Field(default=100, ge=1, le=MAX_PER_RUN)
    merchant_id: str | None = Field(default=None, pattern=OWNER_ID_PATTERN)
    subscription_id: str | None = Field(default=None, max_length=64)
    event_type: str | None = Field(default=None, max_length=64)
    since: Timestamp | None = None
    dry_run: bool = False


class RedriveResult(Model):
    """`matched`: met the filters; `moved`: sent back and deleted (in a dry run: would be);
    `skipped`: matched but not sent (subscription disabled or deleted), left in the DLQ;
    `left`: received and left in the DLQ for any reason (skipped, not matching, unreadable)."""

    queue: str
    dry_run: bool
    matched: int = 0
    moved: int = 0
    left: int = 0
    skipped: int = 0
    moved_ids: list[str] = Field(default_factory=list)
    skipped_ids: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Letter:
    """What a dead letter is about, whichever queue it came from."""

    key: str  # delivery id, or event id
    merchant_id: str
    subscription_id: str | None
    event_type: str
    at: datetime  # when it was dead-lettered (deliveries) or first queued (events)
    dead: DeadLetter | None = None
    event: WebhookEvent | None = None
    job: DeliveryJob | None = None


@dataclass
class _Run:
    result: RedriveResult
    keep: list[str] = field(default_factory=list)  # handles to release at the end
    events: list[tuple[HeldMessage, _Letter]] = field(default_factory=list)
    jobs: list[tuple[HeldMessage, _Letter]] = field(default_factory=list)


def _read(message: HeldMessage, queue: str) -> _Letter | None:
    """Parse a dead letter; None for anything unreadable (it stays, and is counted left)."""
    try:
        if queue == "deliveries":
            dead = DeadLetter.model_validate_json(message.body)
            return _Letter(
                dead.delivery_id,
                dead.merchant_id,
                dead.subscription_id,
                dead.event.type,
                dead.last_attempt_at,
                dead=dead,
            )
        match queue_message(message.body):
            case DeliveryJob() as job:  # a retry that kept failing to process
                return _Letter(
                    job.delivery_id,
                    job.merchant_id,
                    job.subscription_id,
                    job.event.type,
                    message.sent_at,
                    job=job,
                )
            case event:  # a shipment or an operational event
                return _Letter(
                    event.event_id,
                    event.merchant_id,
                    None,
                    event.type,
                    message.sent_at,
                    event=event,
                )
    except (ValueError, ValidationError):
        return None


def _matches(letter: _Letter, request: RedriveRequest) -> bool:
    return (
        (request.merchant_id is None or letter.merchant_id == request.merchant_id)
        and (request.subscription_id is None or letter.subscription_id == request.subscription_id)
        and (request.event_type is None or letter.event_type == request.event_type)
        and (request.since is None or letter.at >= request.since)
    )


def _job_for(letter: _Letter, now: datetime) -> DeliveryJob:
    if letter.job is not None:  # a retry message that was poison: due again now
        return letter.job.model_copy(update={"due_at": now})
    assert letter.dead is not None
    return DeliveryJob.redriven(letter.dead, now)


class Redrive:
    def __init__(
        self,
        *,
        dead_letters: Callable[[str], DeadLetterSource],
        events: EventSink,
        retries: JobSink,
        subscriptions: SubscriptionLookup,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._dead_letters = dead_letters
        self._events = events
        self._retries = retries
        self._subscriptions = subscriptions
        self._clock = clock

    def run(self, request: RedriveRequest) -> RedriveResult:
        source = self._dead_letters(request.queue)
        run = _Run(RedriveResult(queue=request.queue, dry_run=request.dry_run))
        try:
            while (
                run.result.matched < request.max_messages
                and run.result.matched + run.result.left < MAX_EXAMINED
            ):
                batch = source.receive(min(10, request.max_messages - run.result.matched))
                if not batch:
                    break
                for message in batch:
                    self._sort(run, message, request)
                if not request.dry_run:
                    self._move(run, source)
        finally:
            source.release(run.keep)  # what stays is readable by the next run at once
        return run.result

    def _sort(self, run: _Run, message: HeldMessage, request: RedriveRequest) -> None:
        letter = _read(message, request.queue)
        result = run.result
        if letter is None or not _matches(letter, request):
            run.keep.append(message.handle)
            result.left += 1
            return
        result.matched += 1
        if letter.subscription_id is not None and not self._still_wanted(letter):
            result.skipped += 1
            result.skipped_ids.append(letter.key)
            result.left += 1
            run.keep.append(message.handle)
            return
        if request.dry_run:
            result.moved += 1
            result.moved_ids.append(letter.key)
            run.keep.append(message.handle)
        elif letter.event is not None:
            run.events.append((message, letter))
        else:
            run.jobs.append((message, letter))

    def _still_wanted(self, letter: _Letter) -> bool:
        assert letter.subscription_id is not None
        subscription = self._subscriptions.get(letter.merchant_id, letter.subscription_id)
        return subscription is not None and subscription.enabled

    def _move(self, run: _Run, source: DeadLetterSource) -> None:
        now = self._clock()
        sent: list[tuple[HeldMessage, _Letter]] = []
        if run.events:
            events = [letter.event for _, letter in run.events if letter.event is not None]
            failed = set(self._events.publish(events))
            sent += [(m, letter) for m, letter in run.events if letter.key not in failed]
        if run.jobs:
            jobs = [_job_for(letter, now) for _, letter in run.jobs]
            failed = {job.delivery_id for job in self._retries.schedule(jobs, now)}
            sent += [(m, letter) for m, letter in run.jobs if letter.key not in failed]
        moved = {id(m) for m, _ in sent}
        for message, _ in run.events + run.jobs:
            if id(message) not in moved:
                run.keep.append(message.handle)  # SQS refused it: it stays, counted left
                run.result.left += 1
        source.delete([m.handle for m, _ in sent])  # only after the send went through
        run.result.moved += len(sent)
        run.result.moved_ids += [letter.key for _, letter in sent]
        run.events.clear()
        run.jobs.clear()
