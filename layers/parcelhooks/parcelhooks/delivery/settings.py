"""What the fan-out function reads from its environment, and the URL guard's settings."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated

from pydantic import BeforeValidator, Field

from parcelhooks.core.health import BreakerPolicy
from parcelhooks.core.settings import CsvInts, FunctionSettings, ResourceName, split_csv
from parcelhooks.delivery.http.netguard import GuardPolicy

# The fan-out's SQS event sources (template.yaml: EventsQueue and RetryQueue), each at most
# FanoutMaxConcurrency invocations at once.
FANOUT_EVENT_SOURCES = 2

CsvNetworks = Annotated[tuple[IPv4Network | IPv6Network, ...], BeforeValidator(split_csv)]


class GuardSettings(FunctionSettings):
    """Local-stack relaxations of the URL guard; metadata addresses stay refused regardless."""

    allow_http_targets: bool
    allowed_target_networks: CsvNetworks

    @property
    def guard_policy(self) -> GuardPolicy:
        return GuardPolicy(
            allow_http=self.allow_http_targets, allowed_networks=self.allowed_target_networks
        )


class BreakerSettings(FunctionSettings):
    """The circuit breaker's thresholds: the fan-out acts on them, the merchant API names an
    endpoint's state by them."""

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


class FanoutSettings(GuardSettings, BreakerSettings):
    subscriptions_table: ResourceName
    deliveries_table: ResourceName
    retry_queue_url: ResourceName
    deliveries_dlq_url: ResourceName
    # Operational events go out through the events queue like shipment events.
    events_queue_url: ResourceName
    endpoint_health_table: ResourceName

    retry_schedule_s: CsvInts = Field(min_length=1)
    retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    delivery_timeout_s: float = Field(gt=0)
    connect_timeout_s: float = Field(gt=0)
    # POSTs at once in one invocation, to all endpoints together (template's DeliveryConcurrency).
    delivery_concurrency: int = Field(ge=1, le=900)
    # Each SQS event source's MaximumConcurrency (template's FanoutMaxConcurrency).
    fanout_max_concurrency: int = Field(ge=2, le=1000)
    delivery_log_ttl_days: int = Field(ge=1)
    # Whether the log still has lines of delivery ids from before ids held their event's
    # time, in its by-delivery-keys index (template's DeliveryLogIndex: keys).
    delivery_log_legacy_ids: bool
    # How long a shipment-history item is kept (ShipmentQuietDays): a log line whose event
    # stays there longer than the line points to it instead of holding a copy.
    shipment_ttl_days: int = Field(ge=1)
    # E-mail destinations: SES sends from this identity (template's EmailFromAddress).
    email_from_address: ResourceName

    @property
    def invocations(self) -> int:
        """The most fan-out invocations at once: every event source at its MaximumConcurrency
        (the lanes each may hold of its own are counted from it: core/health.py)."""
        return FANOUT_EVENT_SOURCES * self.fanout_max_concurrency
