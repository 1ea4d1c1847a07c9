"""What the ingest function reads from its environment."""

from __future__ import annotations

from pydantic import Field

from parcelhooks.core.settings import FunctionSettings, ResourceName


class IngestSettings(FunctionSettings):
    idempotency_table: ResourceName
    events_queue_url: ResourceName
    # Read to refuse events for merchants that were never issued a key.
    api_keys_table: ResourceName
    # How long a carrier_event_id is remembered; a re-send after that is a new event.
    idempotency_ttl_days: int = Field(ge=1)
    # Each shipment's state and history (sequence, latest, stale, corrections).
    shipments_table: ResourceName
    # How long after its last event a shipment is kept (the delivery log's retention).
    shipment_ttl_days: int = Field(ge=1)
