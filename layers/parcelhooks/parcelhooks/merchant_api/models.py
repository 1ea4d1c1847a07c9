"""The merchant API's request and response bodies for subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from parcelhooks.core.models import Model, NoControlCharacters, PlainText, StrictModel
from parcelhooks.core.statuses import EVENT_TYPES

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
    # The carrier withdrew its previous event (also sent to those wanting the withdrawn type).
    "shipment.correction",
    "shipment.cancelled",
    # A carrier code not in our table yet, delivered with its raw code (docs/statuses.md).
    "shipment.unknown",
]


Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
    NoControlCharacters,
]


# Every status's type, the correction and "*".
EventTypes = Annotated[list[EventTypeFilter], Field(min_length=1, max_length=len(EVENT_TYPES) + 2)]


Description = Annotated[PlainText, Field(max_length=500)]


IncludeStale = Annotated[
    bool,
    Field(
        description="Whether events flagged `stale` (they occurred before the shipment's "
        "latest event) are sent; when false they are logged as `skipped_stale` instead."
    ),
]


class SubscriptionIn(StrictModel):
    url: Url
    event_types: EventTypes
    description: Description | None = None
    include_stale: IncludeStale = True


class SubscriptionPatch(StrictModel):
    """Only the fields sent change; `enabled: true` re-enables a disabled endpoint.

    `description: null` clears the description; no other field may be null.
    """

    url: Url | SkipJsonSchema[None] = None
    event_types: EventTypes | SkipJsonSchema[None] = None
    description: Description | None = None
    enabled: bool | SkipJsonSchema[None] = None
    include_stale: IncludeStale | SkipJsonSchema[None] = None

    @field_validator("url", "event_types", "enabled", "include_stale", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # A null here would be read as "not sent" and change nothing while answering 200.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> SubscriptionPatch:
        if not self.model_fields_set:
            raise ValueError(
                "send at least one of url, event_types, description, enabled, include_stale"
            )
        return self


class SubscriptionOut(Model):
    id: str
    url: str
    event_types: list[str]
    description: str | None = None
    enabled: bool
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    include_stale: IncludeStale
    created_at: datetime
    updated_at: datetime | None = None
    secret: str = Field(
        description="The signing secret: in full when created or rotated, masked elsewhere."
    )


class SubscriptionPage(Model):
    data: list[SubscriptionOut]
    next_cursor: str | None = None
