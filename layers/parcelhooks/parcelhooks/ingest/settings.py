"""What the ingest function reads from its environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, model_validator

from parcelhooks.core.settings import FunctionSettings, ResourceName
from parcelhooks.core.watch import StallRules, StallRulesSetting
from parcelhooks.ingest.timing import MAX_CLOCK_SKEW


class IngestSettings(FunctionSettings):
    events_queue_url: ResourceName
    # Read to refuse events for merchants that were never issued a key.
    api_keys_table: ResourceName
    # How long a carrier_event_id is remembered at least, and so how old an event may be
    # when it arrives (an older one is refused: a re-send never comes back as a new event).
    duplicate_window_days: int = Field(ge=1)
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
        if self.shipment_ttl_days < self.duplicate_window_days:
            raise ValueError(
                f"SHIPMENT_TTL_DAYS ({self.shipment_ttl_days}) must be at least "
                f"DUPLICATE_WINDOW_DAYS ({self.duplicate_window_days}): ShipmentQuietDays "
                "cannot be shorter than DuplicateWindowDays"
            )
        return self

    @property
    def event_window(self) -> timedelta:
        """How long ago an event may have occurred."""
        return timedelta(days=self.duplicate_window_days)

    @property
    def claim_memory(self) -> timedelta:
        """How long a carrier_event_id must be remembered: the window and the clock skew an
        event's time may have, so an event dated ahead stays a duplicate as long as it
        stays acceptable."""
        return self.event_window + MAX_CLOCK_SKEW

    @property
    def shipment_retention(self) -> timedelta:
        """How long a shipment's state and each history item are kept after their last
        write: ShipmentQuietDays, and never less than the claim memory (a history item is
        its event's dedupe claim)."""
        return max(timedelta(days=self.shipment_ttl_days), self.claim_memory)
