"""What the redrive function reads from its environment."""

from __future__ import annotations

from pydantic import Field

from parcelhooks.core.settings import FunctionSettings, ResourceName


class RedriveSettings(FunctionSettings):
    events_dlq_url: ResourceName
    deliveries_dlq_url: ResourceName
    events_queue_url: ResourceName
    retry_queue_url: ResourceName
    subscriptions_table: ResourceName
    # How long a run keeps the dead letters it received invisible: longer than a run lasts.
    dead_letter_hold_s: int = Field(ge=30, le=43_200)
