"""Pydantic models of the public contract shared by every flow: events and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from parcelhooks.core.statuses import ALL_EVENT_TYPES, TEST_EVENT_TYPE, Status

Text128 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class Model(BaseModel):
    """Our base: validators are built on first use, so a function builds only what it uses."""

    model_config = ConfigDict(defer_build=True)


class StrictModel(Model):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Location(StrictModel):
    city: str | None = Field(default=None, max_length=128)
    state: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    postal_code: str | None = Field(default=None, max_length=32)


class CarrierStatus(StrictModel):
    """The carrier's own code for the status, e.g. Correios `BDE`/`01`."""

    code: str | None = Field(default=None, max_length=64)
    type: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=500)


class ShipmentEvent(Model):
    """An accepted event: what travels on the queues and in the webhook's `data`."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    event_id: str
    carrier: str
    carrier_event_id: str
    merchant_id: str
    tracking_code: str
    status: Status
    occurred_at: datetime
    received_at: datetime
    description: str | None = None
    location: Location | None = None
    order_id: str | None = None
    carrier_status: CarrierStatus | None = None
    metadata: dict[str, Any] | None = None
    test: bool = False

    @property
    def type(self) -> str:
        return TEST_EVENT_TYPE if self.test else f"shipment.{self.status.value}"


def _secret_entry(value: object) -> object:
    return {"secret": value} if isinstance(value, str) else value


class SigningSecret(Model):
    secret: str
    expires_at: datetime | None = None


class Subscription(Model):
    """A merchant's endpoint as stored; secrets leave through the API only when made."""

    id: str
    merchant_id: str
    url: str
    event_types: list[str]
    description: str | None = None
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    # Newest first; a rotated-out secret keeps signing until it expires.
    secrets: list[Annotated[SigningSecret, BeforeValidator(_secret_entry)]]
    created_at: datetime
    updated_at: datetime | None = None

    def wants(self, event_type: str) -> bool:
        return ALL_EVENT_TYPES in self.event_types or event_type in self.event_types

    def live_secrets(self, now: datetime) -> list[str]:
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]
