"""Pydantic models of the public contract (DESIGN.md, "Public contract (v1)")."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from parcelhooks.carrier_codes import canonical_status
from parcelhooks.statuses import ALL_EVENT_TYPES, EVENT_TYPES, TEST_EVENT_TYPE, Status

MAX_EVENTS_PER_REQUEST = 100
MAX_METADATA_BYTES = 4096


Text128 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class Model(BaseModel):
    """Our base: validators are built on first use, so a function builds only what it uses."""

    model_config = ConfigDict(defer_build=True)


class _Strict(Model):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Location(_Strict):
    city: str | None = Field(default=None, max_length=128)
    state: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=64)
    postal_code: str | None = Field(default=None, max_length=32)


class CarrierStatus(_Strict):
    """The carrier's own code for the status, e.g. Correios `BDE`/`01`."""

    code: str | None = Field(default=None, max_length=64)
    type: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=500)


def _metadata_fits(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value, separators=(",", ":"))) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must serialize to at most {MAX_METADATA_BYTES} bytes")
    return value


class CarrierEventIn(_Strict):
    """One status change as a carrier posts it."""

    carrier_event_id: Text128
    merchant_id: Text128
    tracking_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=4, max_length=64)
    ]
    status: Status | None = None
    occurred_at: AwareDatetime
    description: str | None = Field(default=None, max_length=500)
    location: Location | None = None
    order_id: str | None = Field(default=None, max_length=128)
    carrier_status: CarrierStatus | None = None
    metadata: Annotated[dict[str, Any] | None, AfterValidator(_metadata_fits)] = None

    @model_validator(mode="after")
    def _status_known(self) -> CarrierEventIn:
        if self.status is None:
            self.status = canonical_status(
                self.carrier_status.type if self.carrier_status else None,
                self.carrier_status.code if self.carrier_status else None,
            )
            if self.status is None:
                raise ValueError(
                    "status is required unless carrier_status {type, code} maps to one"
                )
        return self

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339_string(cls, value: object) -> object:
        # Only RFC 3339 strings: a bare number would be read as a unix time.
        if not isinstance(value, str):
            raise ValueError("must be an RFC 3339 date-time string with an offset")
        return value


class CarrierEventBatchIn(_Strict):
    events: list[CarrierEventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


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


class AcceptedEvent(Model):
    carrier_event_id: str
    event_id: str
    duplicate: bool


class IngestResponse(Model):
    accepted: int
    duplicates: int
    events: list[AcceptedEvent]


class ErrorDetail(Model):
    loc: str
    message: str
    type: str


class ErrorBody(Model):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(Model):
    error: ErrorBody


EventTypeFilter = Literal[
    "*",
    "shipment.label_created",
    "shipment.posted",
    "shipment.in_transit",
    "shipment.out_for_delivery",
    "shipment.delivery_attempted",
    "shipment.available_for_pickup",
    "shipment.delivered",
    "shipment.returned_to_sender",
    "shipment.exception",
    "shipment.cancelled",
]


Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
EventTypes = Annotated[list[EventTypeFilter], Field(min_length=1, max_length=len(EVENT_TYPES) + 1)]
Description = Annotated[str, Field(max_length=500)]


class SubscriptionIn(_Strict):
    url: Url
    event_types: EventTypes
    description: Description | None = None


class SubscriptionPatch(_Strict):
    """Only the fields sent change; `enabled: true` re-enables a disabled endpoint."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> SubscriptionPatch:
        if not self.model_fields_set:
            raise ValueError("send at least one of url, event_types, description, enabled")
        return self


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


class SubscriptionOut(Model):
    id: str
    url: str
    event_types: list[str]
    description: str | None = None
    enabled: bool
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime | None = None
    secret: str = Field(
        description="The signing secret: in full when created or rotated, masked elsewhere."
    )


class SubscriptionPage(Model):
    data: list[SubscriptionOut]
    next_cursor: str | None = None
