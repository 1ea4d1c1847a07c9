"""What the ingest function reads from its environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, model_validator

from parcelhooks.core.settings import FunctionSettings, ResourceName
from parcelhooks.core.watch import StallRules, StallRulesSetting
from parcelhooks.ingest.timing import MAX_CLOCK_SKEW


class IngestSettings(FunctionSettings):
    idempotency_table: ResourceName
    events_queue_url: ResourceName
    # Read to refuse events for merchants that were never issued a key.
    api_keys_table: ResourceName
    # How long a carrier_event_id is remembered, and so how old an event may be when it
    # arrives (an older one is refused: a re-send never comes back as a new event).
    idempotency_ttl_days: int = Field(ge=1)
    # Each shipment's state and history (sequence, latest, stale, corrections).
    shipments_table: ResourceName
    # How long after its last event a shipment is kept (ShipmentQuietDays); at least the
    # duplicate window, or a shipment could be forgotten while its events may still come
    # back, and start its sequence again at 1.
    shipment_ttl_days: int = Field(ge=1)
    # StalledAfterBusinessDays (core/watch.py): when each shipment is next due an alert.
    stalled_after: StallRulesSetting = StallRules()

    @model_validator(mode="after")
    def _windows_agree(self) -> Self:
        if self.shipment_ttl_days < self.idempotency_ttl_days:
            raise ValueError(
                f"SHIPMENT_TTL_DAYS ({self.shipment_ttl_days}) must be at least "
                f"IDEMPOTENCY_TTL_DAYS ({self.idempotency_ttl_days}): ShipmentQuietDays "
                "cannot be shorter than DuplicateWindowDays"
            )
        return self

    @property
    def event_window(self) -> timedelta:
        """How long ago an event may have occurred."""
        return timedelta(days=self.idempotency_ttl_days)

    @property
    def claim_memory(self) -> timedelta:
        """How long a carrier_event_id is remembered: the window and the clock skew an
        event's time may have, so an event dated ahead stays a duplicate as long as it
        stays acceptable."""
        return self.event_window + MAX_CLOCK_SKEW
