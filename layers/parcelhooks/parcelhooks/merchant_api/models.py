"""The merchant API's request and response bodies for subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from parcelhooks.core.models import (
    DEFAULT_MAX_IN_FLIGHT,
    JSON_CONTENT,
    MAX_IN_FLIGHT_LIMIT,
    BodyContentType,
    DestinationKind,
    HttpMethod,
    Model,
    NoControlCharacters,
    PlainText,
    StrictModel,
)
from parcelhooks.delivery.public import HealthState

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
    # Told by parcelhooks when a shipment stops moving or passes its promised date (named:
    # "*" does not take them).
    "shipment.stalled",
    "shipment.late",
    # Operational events about the merchant's other subscriptions (named: "*" does not take them).
    "subscription.disabled",
    "delivery.exhausted",
]


Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
    NoControlCharacters,
]


# As many as there are filters (repeats are folded when stored).
EventTypes = Annotated[
    list[EventTypeFilter], Field(min_length=1, max_length=len(get_args(EventTypeFilter)))
]


Description = Annotated[PlainText, Field(max_length=500)]


IncludeStale = Annotated[
    bool,
    Field(
        description="Whether events flagged `stale` (they occurred before the shipment's "
        "latest event) are sent; when false they are logged as `skipped_stale` instead."
    ),
]


# The lane and 429 rules, said once for both limits (and the OpenAPI document).
_LIMITS_TEXT = (
    " Lanes are shared by every fan-out invocation. A delivery over a limit waits in the "
    "retry queue without counting as a failed attempt, and keeps its `webhook-id`. A `429` "
    "holds the endpoint until its `Retry-After` (at most 15 minutes; 5 s without one), then "
    "slows it for 5 minutes: one request at a time, at half the rate limit."
)
MAX_IN_FLIGHT_TEXT = "At most this many POSTs to the endpoint at once." + _LIMITS_TEXT
RATE_LIMIT_TEXT = (
    "At most this many POSTs per second to the endpoint (a burst of up to one second's "
    "worth may run ahead); null: no rate limit." + _LIMITS_TEXT
)
MAX_RATE_PER_SECOND = 1000
# One POST per 100 s: slower is no rate limit anyone means, and every value in range is a
# number DynamoDB stores exactly (1e-200 is valid JSON but underflows its number type).
MIN_RATE_PER_SECOND = 0.01
# Strict (as every request field is): `true`, `"16"` or `16.0` is a 400, not a number read
# into what was meant.
MaxInFlight = Annotated[int, Field(ge=1, le=MAX_IN_FLIGHT_LIMIT, description=MAX_IN_FLIGHT_TEXT)]
RateLimit = Annotated[
    float,
    Field(
        ge=MIN_RATE_PER_SECOND,
        le=MAX_RATE_PER_SECOND,
        allow_inf_nan=False,
        description=RATE_LIMIT_TEXT,
    ),
]


def _documented_without_null(schema: dict[str, Any]) -> None:
    """A field that refuses null though its type holds it (so a bad value is one problem at
    its own `loc`, not one per member of a union), documented as it is used."""
    schema.update(schema.pop("anyOf")[0])
    schema.pop("default", None)


# PATCH: null is refused by `_not_null`; left out, nothing changes. Declared as nullable
# rather than as a union with None, so a wrong value is one problem at its own `loc`.
_NOT_NULL = Field(json_schema_extra=_documented_without_null)
UrlChange = Annotated[Url | None, _NOT_NULL]
EventTypesChange = Annotated[EventTypes | None, _NOT_NULL]
EnabledChange = Annotated[bool | None, _NOT_NULL]
IncludeStaleChange = Annotated[IncludeStale | None, _NOT_NULL]
MaxInFlightChange = Annotated[
    int | None,
    Field(
        ge=1,
        le=MAX_IN_FLIGHT_LIMIT,
        description=MAX_IN_FLIGHT_TEXT,
        json_schema_extra=_documented_without_null,
    ),
]


MAX_HEADERS = 20
MAX_TEMPLATE_CHARS = 16 * 1024
MAX_METADATA_KEYS = 20

TemplateText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TEMPLATE_CHARS,
        description="A Jinja template over the event (docs/destinations.md).",
    ),
]


class HeaderIn(StrictModel):
    """A header sent on every request. A secret value is write-only: stored encrypted,
    shown masked, never logged, sent only to the subscription's own host."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    value: Annotated[str, Field(max_length=4096)] | None = Field(
        default=None,
        description="Required, except in a PATCH of a secret header: left out there, the "
        "stored secret value is kept.",
    )
    secret: bool = False


class BasicAuthIn(StrictModel):
    """HTTP Basic auth, sent as a secret `Authorization` header."""

    username: Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^:]*$")]
    password: Annotated[str, Field(max_length=256)]


class EmailIn(StrictModel):
    """An e-mail sent through Amazon SES; every field is a template over the event."""

    to: Annotated[str, Field(min_length=3, max_length=1024)] = Field(
        description="Addresses, comma-separated (at most 10), or a template such as "
        "`{{ data.metadata.buyer_email }}`."
    )
    subject: Annotated[str, Field(min_length=1, max_length=1000)]
    text: TemplateText | None = None
    html: TemplateText | None = None


FilterIn = Annotated[
    dict[str, Any],
    Field(
        description="An EventBridge event pattern (the subset in docs/filters.md) over the "
        "webhook's body: only events it matches are delivered."
    ),
]
SubscriptionMetadata = Annotated[
    dict[
        Annotated[str, Field(min_length=1, max_length=64)],
        Annotated[str, Field(max_length=1024)],
    ],
    Field(
        max_length=MAX_METADATA_KEYS,
        description="Your own values for templates (`subscription.metadata.<name>`).",
    ),
]


class DestinationFields(StrictModel):
    """Where and how a subscription's deliveries go (all optional: our JSON, POSTed)."""

    kind: DestinationKind = "webhook"
    filter: FilterIn | None = None
    method: HttpMethod = "POST"
    headers: Annotated[list[HeaderIn], Field(max_length=MAX_HEADERS)] = Field(default_factory=list)
    basic_auth: BasicAuthIn | None = None
    content_type: BodyContentType = JSON_CONTENT
    template: TemplateText | None = None
    email: EmailIn | None = None
    metadata: SubscriptionMetadata = Field(default_factory=dict)


class SubscriptionIn(DestinationFields):
    url: Url | None = Field(
        default=None,
        description="Required for `kind: webhook`. Its path and query may hold placeholders "
        "(`/orders/{{ data.order_id }}`); its scheme, host and port are fixed.",
    )
    event_types: EventTypes
    description: Description | None = None
    include_stale: IncludeStale = True
    max_in_flight: MaxInFlight = DEFAULT_MAX_IN_FLIGHT
    rate_limit_per_second: RateLimit | None = None


class SubscriptionPatch(StrictModel):
    """Only the fields sent change; `enabled: true` re-enables a disabled endpoint and resets
    its circuit breaker.

    `description: null` clears the description and `rate_limit_per_second: null` the rate
    limit; no other field may be null.
    """

    url: UrlChange = None
    event_types: EventTypesChange = None
    description: Description | None = None
    enabled: EnabledChange = None
    include_stale: IncludeStaleChange = None
    max_in_flight: MaxInFlightChange = None
    rate_limit_per_second: RateLimit | None = None
    # The destination: `filter`, `template`, `basic_auth` and `email` may be null (removed);
    # `headers` and `metadata` replace the whole list or object.
    filter: FilterIn | None = None
    method: Annotated[HttpMethod | None, _NOT_NULL] = None
    headers: Annotated[list[HeaderIn] | None, Field(max_length=MAX_HEADERS), _NOT_NULL] = None
    basic_auth: BasicAuthIn | None = None
    content_type: Annotated[BodyContentType | None, _NOT_NULL] = None
    template: TemplateText | None = None
    email: EmailIn | None = None
    metadata: Annotated[SubscriptionMetadata | None, _NOT_NULL] = None

    @field_validator(
        "url",
        "event_types",
        "enabled",
        "include_stale",
        "max_in_flight",
        "method",
        "headers",
        "content_type",
        "metadata",
        mode="before",
    )
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
                "send at least one field to change (url, event_types, description, enabled, "
                "include_stale, max_in_flight, rate_limit_per_second, or a destination field)"
            )
        return self


class EndpointHealthOut(Model):
    """The endpoint as the fan-out sees it, from the record every fan-out invocation shares."""

    state: HealthState = Field(
        description="`healthy`: the last answer was a success (or nothing was sent yet); "
        "`failing`: the last answers failed, fewer than 5 in a row; `paused`: 5 or more "
        "failed in a row, so one probe at a time is sent (at most one per "
        "`BreakerProbeSeconds`, 60 s by default) while the other deliveries wait in the retry "
        "queue, and the first success resumes full speed; `disabled`: the subscription is "
        "off (410 Gone, you, or the circuit breaker)."
    )
    failing_since: datetime | None = Field(
        description="When the failures in a row began; null after a success."
    )
    consecutive_failures: int = Field(description="Failed attempts in a row.")
    last_success_at: datetime | None
    last_failure_at: datetime | None
    held: int = Field(
        description="Deliveries logged `held` while the subscription was disabled, not yet "
        "recovered. Approximate: counts kept beside the queues, off after a crash."
    )
    pending: int = Field(
        description="Deliveries waiting in the retry queue (retries, put-off deliveries, "
        "your retries, recovers and tests). Approximate, like `held`."
    )


class HeaderOut(Model):
    name: str
    value: str = Field(description="`********` for a secret header.")
    secret: bool


class SubscriptionOut(Model):
    id: str
    kind: DestinationKind
    url: str | None
    event_types: list[str]
    description: str | None = None
    enabled: bool
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    include_stale: IncludeStale
    # As stored: not checked again on the way out.
    max_in_flight: int = Field(description=MAX_IN_FLIGHT_TEXT)
    rate_limit_per_second: float | None = Field(default=None, description=RATE_LIMIT_TEXT)
    created_at: datetime
    updated_at: datetime | None = None
    secret: str = Field(
        description="The signing secret: in full when created or rotated, masked elsewhere."
    )
    health: EndpointHealthOut | None = Field(
        default=None,
        description="The endpoint's health; in every answer about one subscription, null in "
        "lists (read the subscription for it).",
    )
    filter: dict[str, Any] | None
    method: HttpMethod
    headers: list[HeaderOut]
    content_type: BodyContentType
    template: str | None
    email: EmailIn | None
    metadata: dict[str, str]


class SubscriptionPage(Model):
    data: list[SubscriptionOut]
    next_cursor: str | None = None
