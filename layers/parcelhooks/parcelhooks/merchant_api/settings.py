"""What the merchant API function reads from its environment."""

from __future__ import annotations

from pydantic import Field

from parcelhooks.core.settings import ResourceName
from parcelhooks.delivery.public import BreakerSettings, GuardSettings


class AdminSettings(GuardSettings, BreakerSettings):
    subscriptions_table: ResourceName
    deliveries_table: ResourceName
    retry_queue_url: ResourceName
    # Read only: ingest writes each shipment's state and history.
    shipments_table: ResourceName
    # Read for a subscription's health; its breaker reset and held/pending counts written.
    endpoint_health_table: ResourceName
    max_subscriptions_per_merchant: int = Field(ge=1)
    # The log keeps attempts this long, so recover can look back as far.
    delivery_log_ttl_days: int = Field(ge=1)
    # Whether the log still has lines of delivery ids from before ids held their event's
    # time, in its by-delivery-keys index (template's DeliveryLogIndex: keys).
    delivery_log_legacy_ids: bool
    # The portal's sign-in links and sessions; merchant keys, read to sign in with one.
    portal_table: ResourceName
    api_keys_table: ResourceName
    # Secret header values are sealed with this KMS key (encrypt only).
    header_secrets_key_id: ResourceName
