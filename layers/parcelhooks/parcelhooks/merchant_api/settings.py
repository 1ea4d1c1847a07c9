"""What the merchant API function reads from its environment."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from parcelhooks.core.settings import ResourceName
from parcelhooks.delivery.health import BreakerPolicy
from parcelhooks.delivery.settings import GuardSettings


class AdminSettings(GuardSettings):
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
    # The fan-out's breaker, so the API names an endpoint's state as the fan-out acts on it.
    disable_after_failing_hours: float = Field(gt=0)
    disable_after_failures: int = Field(ge=1)
    breaker_probe_s: float = Field(gt=0, le=900)

    @property
    def breaker_policy(self) -> BreakerPolicy:
        return BreakerPolicy(
            disable_after=timedelta(hours=self.disable_after_failing_hours),
            disable_min_failures=self.disable_after_failures,
            probe_interval=timedelta(seconds=self.breaker_probe_s),
        )
