"""A delivery is one event to one subscription; these are its messages and its log lines."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict

from parcelhooks.core.models import Model, ShipmentEvent


class DeliveryJob(Model):
    """A delivery waiting for its next attempt, as it travels on RetryQueue."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["retry"] = "retry"
    delivery_id: str
    event: ShipmentEvent
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


class DeadLetter(Model):
    """What DeliveriesDLQ holds once every attempt has failed (DESIGN.md shape)."""

    delivery_id: str
    event: ShipmentEvent
    subscription_id: str
    merchant_id: str
    attempts: int
    last_status: int | None
    last_error: str | None
    first_attempt_at: datetime
    last_attempt_at: datetime


class AttemptRecord(Model):
    """One line of the delivery log."""

    delivery_id: str
    event_id: str
    event_type: str
    subscription_id: str
    merchant_id: str
    attempt: int
    attempted_at: datetime
    outcome: str
    status_code: int | None = None
    error: str | None = None
    latency_ms: float
    response_excerpt: str = ""
    next_attempt_at: datetime | None = None
    # Kept with the log so a merchant's retry or recover can send it again.
    event: ShipmentEvent | None = None
