"""A delivery is one event to one subscription; these are its messages, its log lines and
the outcomes a line can hold (the fan-out writes them, the merchant API and ops read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag, TypeAdapter

from parcelhooks.core.ids import delivery_id
from parcelhooks.core.models import Model, ShipmentEvent, Subscription
from parcelhooks.core.operational import OperationalEvent, WebhookEvent

# RFC 9110 §15: every valid status code is three digits from 100 to 599.
MIN_STATUS, MAX_STATUS = 100, 599


def is_valid_status(code: int) -> bool:
    return MIN_STATUS <= code <= MAX_STATUS


class Outcome(StrEnum):
    """Every outcome a delivery-log line can have: what an attempt's answer meant for the
    delivery (delivery/outcomes.py decides), or why no attempt was made."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DISABLE = "disable"
    # A failure the delivery is dead-lettered after: never what `classify` says of an
    # answer, but what the log says once the dead-letter queue took it.
    EXHAUSTED = "exhausted"
    # A stale event a subscription with include_stale: false was not sent.
    SKIPPED_STALE = "skipped_stale"
    # Not attempted because its subscription is disabled: kept for the log's retention,
    # sent by the merchant's recover once the endpoint is enabled again.
    HELD = "held"
    # Put off by its endpoint's limits or circuit breaker: the same attempt waits in the
    # retry queue until `next_attempt_at` (so it is never out of sight).
    DEFERRED = "deferred"
    # Its destination's templates could not render from the event: nothing sent, no retry
    # on its own (the same template fails the same way); the merchant fixes the template,
    # then retries or recovers it.
    RENDER_ERROR = "render_error"


# Put in place of the receiver's text when a log line could not be written with it.
WITHHELD_EXCERPT = "(the response excerpt could not be logged)"

# Outcomes that are no attempt: no latency, no delivery metric.
NOT_ATTEMPTED = frozenset(
    {Outcome.SKIPPED_STALE, Outcome.HELD, Outcome.DEFERRED, Outcome.RENDER_ERROR}
)
# Outcomes that end a delivery for good: a line with one of them is what keeps processing the
# same event again (a redelivered or re-queued message) from sending it a second time.
DONE = frozenset({Outcome.DELIVERED, Outcome.SKIPPED_STALE})

# The outcome filter of the delivery log: "failure" leaves out what was never attempted;
# "exhausted" is the last failure of each dead-lettered delivery (a failure too).
OutcomeFilter = Literal["success", "failure", "skipped", "held", "exhausted"]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which lines of one subscription's delivery log a listing holds; None takes any.

    `since` and `until` bound when the line's event was taken in (its delivery's id holds
    that time), both included, read to the second;
    `tracking_code` matches only lines written since the log kept it (older lines have none).
    """

    outcome: OutcomeFilter | None = None
    event_type: str | None = None
    tracking_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# Why an attempt was made: the retry schedule (first attempts too), a merchant's retry,
# recover or test, or an ops redrive of the dead-letter queue.
Origin = Literal["schedule", "merchant", "redrive"]


def event_time(event: WebhookEvent) -> datetime:
    """When parcelhooks took the event in: a carrier's when ingest accepted it, an
    operational one's when it happened. A delivery's id starts with it."""
    return event.received_at if isinstance(event, ShipmentEvent) else event.occurred_at


def delivery_id_of(event: WebhookEvent, subscription_id: str) -> str:
    """The id of the event's delivery to the subscription (its `webhook-id`)."""
    return delivery_id(event.event_id, subscription_id, event_time(event))


def _addressed(event: WebhookEvent, subscription: Subscription) -> dict[str, Any]:
    """What names a delivery: its id, its event and whom it goes to."""
    return {
        "delivery_id": delivery_id_of(event, subscription.id),
        "event": event,
        "subscription_id": subscription.id,
        "merchant_id": subscription.merchant_id,
    }


class DeliveryJob(Model):
    """A delivery waiting for its next attempt, as it travels on RetryQueue."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["retry"] = "retry"
    delivery_id: str
    event: WebhookEvent
    subscription_id: str
    merchant_id: str
    attempt: int
    due_at: datetime
    first_attempt_at: datetime
    last_attempt_at: datetime
    last_status: int | None = None
    last_error: str | None = None
    # Manual retries and recoveries start the schedule afresh from this attempt number,
    # and are sent even if an earlier attempt succeeded.
    schedule_from: int = 1
    force: bool = False
    origin: Origin = "schedule"
    # Times the endpoint's limits or its circuit breaker put this attempt off (no attempt
    # made): each wait is longer, up to SQS's 15 minutes.
    deferrals: int = 0
    # Counted in the endpoint's `pending` when queued: counted out when taken.
    counted: bool = False

    # One constructor per way a delivery comes to wait for an attempt.

    @classmethod
    def after_failure(
        cls,
        event: WebhookEvent,
        subscription: Subscription,
        *,
        attempt: int,
        due_at: datetime,
        first_attempt_at: datetime,
        sent_at: datetime,
        status: int | None,
        error: str | None,
        schedule_from: int,
    ) -> DeliveryJob:
        """The attempt after one that failed (`attempt` is the next one's number)."""
        return cls(
            **_addressed(event, subscription),
            attempt=attempt,
            due_at=due_at,
            first_attempt_at=first_attempt_at,
            last_attempt_at=sent_at,
            last_status=status,
            last_error=error,
            schedule_from=schedule_from,
        )

    @classmethod
    def put_off(
        cls,
        event: WebhookEvent,
        subscription: Subscription,
        *,
        waiting: DeliveryJob | None,
        attempt: int,
        due_at: datetime,
        first_attempt_at: datetime,
        schedule_from: int,
        origin: Origin,
        now: datetime,
    ) -> DeliveryJob:
        """The same attempt, later (the endpoint's limits or breaker said not now): what
        `waiting` (the job that brought it, None for an event's first attempt) carried."""
        return cls(
            **_addressed(event, subscription),
            attempt=attempt,
            due_at=due_at,
            first_attempt_at=first_attempt_at,
            last_attempt_at=waiting.last_attempt_at if waiting else now,
            last_status=waiting.last_status if waiting else None,
            last_error=waiting.last_error if waiting else None,
            schedule_from=schedule_from,
            force=waiting.force if waiting else False,
            origin=origin,
            deferrals=(waiting.deferrals if waiting else 0) + 1,
        )

    @classmethod
    def asked_by_merchant(
        cls, event: WebhookEvent, subscription: Subscription, *, attempt: int, now: datetime
    ) -> DeliveryJob:
        """A retry or recovery the merchant asked for: sent whatever the log says, on a fresh
        schedule from `attempt`, counted in the endpoint's pending when queued."""
        return cls(
            **_addressed(event, subscription),
            attempt=attempt,
            due_at=now,
            first_attempt_at=now,
            last_attempt_at=now,
            schedule_from=attempt,
            force=True,
            origin="merchant",
            counted=True,
        )

    @classmethod
    def redriven(cls, dead: DeadLetter, now: datetime) -> DeliveryJob:
        """The next attempt of a dead-lettered delivery, on a fresh schedule, due now."""
        return cls(
            delivery_id=dead.delivery_id,
            event=dead.event,
            subscription_id=dead.subscription_id,
            merchant_id=dead.merchant_id,
            attempt=dead.attempts + 1,
            due_at=now,
            first_attempt_at=dead.first_attempt_at,
            last_attempt_at=dead.last_attempt_at,
            last_status=dead.last_status,
            last_error=dead.last_error,
            schedule_from=dead.attempts + 1,
            origin="redrive",
        )


class DeadLetter(Model):
    """What DeliveriesDLQ holds once every attempt has failed."""

    delivery_id: str
    event: WebhookEvent
    subscription_id: str
    merchant_id: str
    attempts: int
    last_status: int | None
    last_error: str | None
    first_attempt_at: datetime
    last_attempt_at: datetime

    @classmethod
    def of(cls, job: DeliveryJob, *, last_error: str | None = None) -> DeadLetter:
        """The dead letter of a delivery whose next attempt, `job`, will not be made."""
        return cls(
            delivery_id=job.delivery_id,
            event=job.event,
            subscription_id=job.subscription_id,
            merchant_id=job.merchant_id,
            attempts=job.attempt - 1,
            last_status=job.last_status,
            last_error=last_error or job.last_error,
            first_attempt_at=job.first_attempt_at,
            last_attempt_at=job.last_attempt_at,
        )


def _message_kind(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if kind in ("retry", "operational") else "shipment"


# Every message the fan-out's queues carry, told apart by `kind` (a shipment event has none):
# an event to fan out (EventsQueue: ingest, redrive, the fan-out's own notices) or a delivery
# waiting for its next attempt (RetryQueue).
QueueMessage = Annotated[
    Annotated[ShipmentEvent, Tag("shipment")]
    | Annotated[OperationalEvent, Tag("operational")]
    | Annotated[DeliveryJob, Tag("retry")],
    Discriminator(_message_kind),
]
_QUEUE_MESSAGE: TypeAdapter[ShipmentEvent | OperationalEvent | DeliveryJob] = TypeAdapter(
    QueueMessage
)


def queue_message(body: str | bytes) -> ShipmentEvent | OperationalEvent | DeliveryJob:
    """A queue message's body, as the kind it is (a ValidationError if it is none)."""
    return _QUEUE_MESSAGE.validate_json(body)


class AttemptRecord(Model):
    """One line of the delivery log; values the log could not store are refused here."""

    delivery_id: str
    event_id: str
    event_type: str
    subscription_id: str
    merchant_id: str
    attempt: int = Field(ge=1)
    attempted_at: datetime
    outcome: str
    status_code: int | None = Field(default=None, ge=MIN_STATUS, le=MAX_STATUS)
    error: str | None = None
    latency_ms: float = Field(ge=0, allow_inf_nan=False)
    response_excerpt: str = ""
    next_attempt_at: datetime | None = None
    origin: Origin = "schedule"
    # Kept with the log so a merchant's retry or recover can send it again.
    event: WebhookEvent | None = None

    def without_response_excerpt(self) -> AttemptRecord:
        """This line with the receiver's text left out: the part of it a receiver controls."""
        return self.model_copy(update={"response_excerpt": WITHHELD_EXCERPT})
