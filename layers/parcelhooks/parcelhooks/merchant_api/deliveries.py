"""What a merchant can do with deliveries: see attempts (a subscription's, filtered, or one
delivery's with what it sends), retry one, recover many, send a test.

Re-sends go through RetryQueue like any retry, so they are signed, logged, retried and
dead-lettered by the same fan-out code; they start the retry schedule afresh and are
sent even if an earlier attempt of the same delivery succeeded. Each one queued is counted
in its endpoint's `pending` (the fan-out counts it out when it takes it), and each `held`
delivery sent again is counted out of `held`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import AfterValidator, Field

from parcelhooks.core.deliveries import (
    DONE,
    AttemptRecord,
    DeliveryJob,
    LogFilter,
    Outcome,
    delivery_id_of,
)
from parcelhooks.core.errors import (
    EnqueueFailedError,
    NotFoundError,
    SubscriptionDisabledError,
    ValidationFailedError,
)
from parcelhooks.core.ids import new_event_id
from parcelhooks.core.models import (
    Location,
    Model,
    ShipmentEvent,
    StrictModel,
    Subscription,
    Timestamp,
)
from parcelhooks.core.observability import logger
from parcelhooks.core.operational import WebhookEvent
from parcelhooks.core.statuses import OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE, Status
from parcelhooks.delivery.public import WEBHOOK_TYPES, envelope_of, explain, webhook_body
from parcelhooks.ingest.public import check_tracking_code
from parcelhooks.merchant_api.destinations import receivable_types
from parcelhooks.merchant_api.previews import EmailOut, RequestOut, preview
from parcelhooks.merchant_api.samples import SAMPLE_METADATA, sample_event
from parcelhooks.merchant_api.subscriptions import Subscriptions

MAX_RECOVER = 100
# How much of the log one recover call reads; past it, `truncated` says to call again
# with a later `since`.
MAX_ATTEMPTS_READ = 10_000
# The lines one delivery's detail lists; past it, `attempts_truncated` (a delivery has tens:
# its retries, and the deferrals of an endpoint paused for days).
MAX_DELIVERY_ATTEMPTS = 500
TEST_CARRIER = "parcelhooks"
DAY = timedelta(days=1)


class AttemptLog(Protocol):
    def page(
        self, subscription_id: str, limit: int, cursor: str | None, only: LogFilter
    ) -> tuple[list[AttemptRecord], str | None]: ...

    def since(
        self, subscription_id: str, since: datetime, limit: int
    ) -> tuple[list[AttemptRecord], bool]: ...

    def latest(self, delivery_id: str, subscription_ids: Sequence[str]) -> AttemptRecord | None:
        """The newest line of the delivery, if it is to one of these subscriptions."""
        ...

    def attempts_of(
        self, delivery_id: str, subscription_ids: Sequence[str], limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        """The delivery's lines, newest first, if it is to one of these subscriptions."""
        ...


class Resender(Protocol):
    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]: ...


class HealthCounts(Protocol):
    """The endpoint's held and pending counts, kept with the fan-out (EndpointHealthTable)."""

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None: ...


# Every type a log line can have: the webhooks' and the operational events'.
LOGGED_EVENT_TYPES: tuple[str, ...] = (*WEBHOOK_TYPES, *OPERATIONAL_EVENT_TYPES)
if TYPE_CHECKING:
    LoggedEventType = str
else:
    # One of them, as a Literal: a query naming another is a 400 listing them all.
    LoggedEventType = Literal[LOGGED_EVENT_TYPES]

# A tracking code read as ingest reads it (an S10 code in any case): one ingest would never
# take is a 400 saying why, not an empty list.
TrackingCodeFilter = Annotated[str, AfterValidator(check_tracking_code)]


class AttemptOut(Model):
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    outcome: Literal[
        "delivered",
        "retry",
        "exhausted",
        "disable",
        "skipped_stale",
        "held",
        "deferred",
        "render_error",
    ] = Field(
        description="`exhausted`: the failed attempt after which the delivery was "
        "dead-lettered (`status_code` and `error` are this attempt's, `next_attempt_at` is "
        "null); retry or recover sends it again. "
        "`skipped_stale`: not sent, because the event is stale and the "
        "subscription has `include_stale: false` (retry it to have it sent). `held`: not "
        "attempted, because the subscription was disabled (`error` says why); once it is "
        "enabled again, recover sends it. `deferred`: put off by the endpoint's limits or "
        "its circuit breaker (`error` says which); the same attempt is made at "
        "`next_attempt_at`. `render_error`: not sent, because the destination's templates "
        "could not render the event (`error` says where and why); it is not retried on its "
        "own: fix the template, then retry or recover it. None of these four counts as an "
        "attempt."
    )
    status_code: int | None
    error: str | None
    latency_ms: float
    response_excerpt: str
    next_attempt_at: datetime | None
    origin: Literal["schedule", "merchant", "redrive"] = Field(
        default="schedule",
        description="Why the attempt was made: the retry schedule (first attempts too), "
        "your retry, recover or test, or an operator's redrive of the dead-letter queue.",
    )


class AttemptPage(Model):
    data: list[AttemptOut]
    next_cursor: str | None = None


class DeliveryOut(Model):
    """One delivery (one event to one subscription): its event, what the subscription's
    destination makes of it now, and its attempts."""

    delivery_id: str
    subscription_id: str
    event_id: str
    event_type: str
    body: dict[str, Any] = Field(
        description="The event's webhook body, as a subscription without templates is sent it."
    )
    request: RequestOut | None = Field(
        default=None,
        description="The request the subscription's destination renders for this event now, "
        "as its preview shows it: secret header values masked, `webhook-timestamp` and "
        "`webhook-signature` named (made at each attempt). Rendered when read, not kept in "
        "the log (whose items are billed per KB written), so it follows the subscription's "
        "current URL, headers and templates. Null for an e-mail subscription, or when "
        "`render_error` says why it cannot be rendered.",
    )
    email: EmailOut | None = Field(
        default=None,
        description="For an e-mail subscription: the e-mail its templates render for this "
        "event now (rendered when read, like `request`).",
    )
    render_error: str | None = Field(
        default=None,
        description="Why the destination's templates cannot render this event now.",
    )
    attempts: list[AttemptOut] = Field(
        description="Every line of the log for this delivery, newest first, as the "
        "subscription's deliveries list shows them."
    )
    attempts_truncated: bool = Field(
        description=f"True when the delivery has more lines than the {MAX_DELIVERY_ATTEMPTS} "
        "newest listed."
    )


class Resent(Model):
    delivery_id: str
    event_id: str
    attempt: int
    queued: bool = Field(
        default=True,
        description="False only for a test event the subscription's filter does not take: "
        "nothing was sent (`filter_reasons` says why).",
    )
    filter_reasons: list[str] = Field(default_factory=list)


class Recovered(Model):
    recovered: int
    held: int = Field(
        description="How many of the recovered deliveries were `held` while the "
        "subscription was disabled."
    )
    deliveries: list[Resent] = Field(description="In the order the events occurred.")
    truncated: bool


class RecoverIn(StrictModel):
    since: Timestamp


def _out(record: AttemptRecord) -> AttemptOut:
    return AttemptOut.model_validate(record.model_dump(exclude={"event", "merchant_id"}))


def next_attempt(record: AttemptRecord) -> int:
    """The attempt number a re-send gets: a held line's attempt was never made, so a re-send
    makes it (a skipped_stale line keeps counting, as it always has)."""
    return (
        record.attempt
        if record.outcome in {Outcome.HELD, Outcome.RENDER_ERROR}
        else record.attempt + 1
    )


def is_recoverable(record: AttemptRecord, now: datetime) -> bool:
    """Its latest line failed or was held, and no retry of it is waiting."""
    return (
        record.outcome not in DONE
        and record.event is not None
        and (record.next_attempt_at is None or record.next_attempt_at <= now)
    )


def occurrence(record: AttemptRecord) -> tuple[datetime, int, datetime]:
    """Sort key: when the event occurred, then its place in its shipment, then the log."""
    event = record.event
    assert event is not None
    # Operational and test events have no place in a shipment.
    sequence = event.sequence if isinstance(event, ShipmentEvent) else None
    return event.occurred_at, sequence or 0, record.attempted_at


class DeliveryAdmin:
    def __init__(
        self,
        *,
        log: AttemptLog,
        subscriptions: Subscriptions,
        resender: Resender,
        counts: HealthCounts,
        recover_window: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._log = log
        self._subscriptions = subscriptions
        self._resender = resender
        self._counts = counts
        # The log's retention: older attempts are gone, so there is nothing to recover.
        self._recover_window = recover_window
        self._clock = clock

    def attempts(
        self,
        merchant_id: str,
        subscription_id: str,
        *,
        limit: int,
        cursor: str | None,
        only: LogFilter,
    ) -> AttemptPage:
        """The subscription's log lines `only` takes, newest first, a page at a time."""
        if only.since is not None and only.until is not None and only.since > only.until:
            raise ValidationFailedError(
                "since is after until",
                [{"loc": "query.since", "message": "is after until", "type": "value_error"}],
            )
        self._subscriptions.require(merchant_id, subscription_id)
        records, next_cursor = self._log.page(subscription_id, limit, cursor, only)
        return AttemptPage(data=[_out(r) for r in records], next_cursor=next_cursor)

    def delivery(self, merchant_id: str, dlv_id: str) -> DeliveryOut:
        """One delivery: its event's body, what its subscription's destination renders for
        it now (with the preview's code: rendered when read, as the log keeps no request),
        and every attempt, newest first."""
        mine = self._subscriptions.ids_of(merchant_id)
        records, truncated = self._log.attempts_of(dlv_id, mine, MAX_DELIVERY_ATTEMPTS)
        if not records or records[0].merchant_id != merchant_id:
            raise NotFoundError(f"no delivery {dlv_id}")
        event = next((r.event for r in records if r.event is not None), None)
        if event is None:
            # As retry answers it: without its event there is nothing to show or send.
            raise NotFoundError(f"no delivery {dlv_id}")
        subscription = self._subscriptions.require(merchant_id, records[0].subscription_id)
        shown = preview(subscription, event, sample_metadata=False)
        return DeliveryOut(
            delivery_id=dlv_id,
            subscription_id=subscription.id,
            event_id=event.event_id,
            event_type=shown.event_type,
            body=shown.event,
            request=shown.request,
            email=shown.email,
            render_error=shown.render_error,
            attempts=[_out(r) for r in records],
            attempts_truncated=truncated,
        )

    def retry(self, merchant_id: str, dlv_id: str) -> Resent:
        latest = self._log.latest(dlv_id, self._subscriptions.ids_of(merchant_id))
        if latest is None or latest.merchant_id != merchant_id or latest.event is None:
            raise NotFoundError(f"no delivery {dlv_id}")
        subscription = self._subscriptions.require(merchant_id, latest.subscription_id)
        _require_enabled(subscription)
        now = self._clock()
        job = self._job(subscription, latest.event, next_attempt(latest), now)
        self._queue([job], now, held=[latest] if latest.outcome == Outcome.HELD else [])
        return Resent(delivery_id=job.delivery_id, event_id=job.event.event_id, attempt=job.attempt)

    def recover(self, merchant_id: str, subscription_id: str, since: datetime) -> Recovered:
        """Re-send every delivery since `since` whose last attempt failed, or that was held
        while the subscription was disabled, and that is not waiting for a retry already;
        oldest event first, at most 100 per call (answers say when there are more)."""
        subscription = self._subscriptions.require(merchant_id, subscription_id)
        _require_enabled(subscription)
        now = self._clock()
        if since > now or since < now - self._recover_window:
            raise ValidationFailedError(
                f"since must be within the last {self._recover_window / DAY:g} days",
                [{"loc": "since", "message": "out of range", "type": "value_error"}],
            )
        latest: dict[str, AttemptRecord] = {}
        records, more = self._log.since(subscription_id, since, limit=MAX_ATTEMPTS_READ)
        for record in records:
            latest[record.delivery_id] = record  # oldest first: the last one wins
        failed = sorted((r for r in latest.values() if is_recoverable(r, now)), key=occurrence)
        chosen = failed[:MAX_RECOVER]
        jobs = [
            self._job(subscription, r.event, next_attempt(r), now)
            for r in chosen
            if r.event is not None
        ]
        held = [r for r in chosen if r.outcome == Outcome.HELD]
        if jobs:
            self._queue(jobs, now, held=held)
        resent = [
            Resent(delivery_id=j.delivery_id, event_id=j.event.event_id, attempt=j.attempt)
            for j in jobs
        ]
        return Recovered(
            recovered=len(jobs),
            held=len(held),
            deliveries=resent,
            truncated=more or len(failed) > MAX_RECOVER,
        )

    def send_test(self, merchant_id: str, subscription_id: str) -> Resent:
        subscription = self._subscriptions.require(merchant_id, subscription_id)
        _require_enabled(subscription)
        now = self._clock()
        event = ShipmentEvent(
            event_id=new_event_id(),
            carrier=TEST_CARRIER,
            carrier_event_id="test",
            merchant_id=merchant_id,
            tracking_code="TEST00000000BR",
            status=Status.DELIVERED,
            occurred_at=now,
            received_at=now,
            description="A test event sent from the parcelhooks API",
            location=Location(city="São Paulo", state="SP", country="BR"),
            order_id="test-order",
            # A buyer's name, address and phone, as a template for buyers expects to find.
            metadata=dict(SAMPLE_METADATA),
            test=True,
        )
        if TEST_EVENT_TYPE not in receivable_types(subscription.event_types):
            # Only operational events: a sample of the first it names, with an id of its own.
            sample = sample_event(subscription.event_types[0], merchant_id, now)
            return self._resend(
                subscription, sample.model_copy(update={"event_id": new_event_id()}), 1
            )
        if subscription.filter is not None:
            # The test goes through the filter as a real event would.
            verdict = explain(subscription.filter, envelope_of(webhook_body(event)))
            if not verdict.matches:
                return Resent(
                    delivery_id=delivery_id_of(event, subscription.id),
                    event_id=event.event_id,
                    attempt=1,
                    queued=False,
                    filter_reasons=list(verdict.reasons),
                )
        return self._resend(subscription, event, 1)

    def _resend(self, subscription: Subscription, event: WebhookEvent, attempt: int) -> Resent:
        now = self._clock()
        job = self._job(subscription, event, attempt, now)
        self._queue([job], now)
        return Resent(delivery_id=job.delivery_id, event_id=event.event_id, attempt=attempt)

    def _queue(
        self, jobs: list[DeliveryJob], now: datetime, held: Sequence[AttemptRecord] = ()
    ) -> None:
        """Queue the jobs (in this order), then count what was queued."""
        refused = self._resender.schedule(jobs, now)
        not_queued = {job.delivery_id for job in refused}
        self._count(
            jobs[0].subscription_id,
            pending=len(jobs) - len(refused),
            held=-sum(1 for r in held if r.delivery_id not in not_queued),
        )
        if refused:
            raise EnqueueFailedError(
                f"{len(refused)} of {len(jobs)} deliveries could not be queued; send again",
            )

    def _count(self, subscription_id: str, *, pending: int, held: int) -> None:
        """Best effort: the jobs are queued, so failing the request would only have them
        queued twice; the counts are approximate anyway."""
        if not (pending or held):
            return
        try:
            self._counts.count(subscription_id, held=held, pending=pending)
        except Exception:
            logger.exception(
                "health counts not written",
                subscription_id=subscription_id,
                pending=pending,
                held=held,
            )

    @staticmethod
    def _job(
        subscription: Subscription, event: WebhookEvent, attempt: int, now: datetime
    ) -> DeliveryJob:
        # Counted in the endpoint's pending here; the fan-out counts it out.
        return DeliveryJob.asked_by_merchant(event, subscription, attempt=attempt, now=now)


def _require_enabled(subscription: Subscription) -> None:
    if not subscription.enabled:
        raise SubscriptionDisabledError(
            f"subscription {subscription.id} is disabled ({subscription.disabled_reason}); "
            'enable it first with PATCH {"enabled": true}',
        )
