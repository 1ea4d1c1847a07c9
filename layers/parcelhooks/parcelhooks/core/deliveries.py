"""A delivery is one event to one subscription; these are its messages, its log lines and
the outcomes a line can hold (the fan-out writes them, the merchant API and ops read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from parcelhooks.core.models import Model
from parcelhooks.core.operational import WebhookEvent

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

    `since` and `until` bound when the line was written, both included, read to the second;
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
