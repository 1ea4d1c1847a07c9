"""Pydantic models of the public contract shared by every flow: events and subscriptions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from parcelhooks.core.ids import OWNER_ID_PATTERN, OWNER_ID_RULE, is_owner_id
from parcelhooks.core.statuses import (
    ALL_EVENT_TYPES,
    CORRECTION_EVENT_TYPE,
    NAMED_ONLY_EVENT_TYPES,
    TEST_EVENT_TYPE,
    Status,
    StatusDetail,
    action_required,
)

# C0 (tab and newline included), DEL and C1: nothing a text field of the contract means.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# RFC 3339 date-time with an offset; the separator may be a space (RFC 3339, 5.6 note).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _no_control_characters(value: object) -> object:
    # Checked before stripping, so a trailing newline is refused, not silently dropped.
    if isinstance(value, str) and (found := _CONTROL_CHARACTER.search(value)):
        raise ValueError(
            f"must not contain control characters (U+{ord(found.group()):04X} at {found.start()})"
        )
    return value


def _owner_id(value: str) -> str:
    if not is_owner_id(value):
        raise ValueError(OWNER_ID_RULE)
    return value


def _rfc3339_string(value: object) -> object:
    # Only RFC 3339 strings: a number, or a string of digits, would be read as a unix time.
    # Parsed here, as strict models take no string for a datetime.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time string with an offset")
    return datetime.fromisoformat(value.upper())


def _has_utc_instant(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+01:00 parses, but is before year 1 in UTC: converting it overflows.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of dates") from None
    return value


# Last in an Annotated, so that it runs before the string constraints strip anything.
NoControlCharacters = BeforeValidator(_no_control_characters)
PlainText = Annotated[str, NoControlCharacters]
Text128 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    NoControlCharacters,
]
OwnerId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    AfterValidator(_owner_id),
    Field(json_schema_extra={"pattern": OWNER_ID_PATTERN, "description": OWNER_ID_RULE}),
    NoControlCharacters,
]
Timestamp = Annotated[
    AwareDatetime, BeforeValidator(_rfc3339_string), AfterValidator(_has_utc_instant)
]
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_or_rfc3339(value: object) -> object:
    # A calendar date (YYYY-MM-DD) or an RFC 3339 date-time with offset; a number never.
    # Parsed here, so that an impossible day is one problem, not one per member of the union.
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return date.fromisoformat(value)
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        return datetime.fromisoformat(value.upper())
    raise ValueError("must be a date (YYYY-MM-DD) or an RFC 3339 date-time with an offset")


def _instant_if_timed(value: date) -> date:
    return _has_utc_instant(value) if isinstance(value, datetime) else value


# A day when the carrier promises only a day, an instant when it promises a time.
DateOrTimestamp = Annotated[
    AwareDatetime | date, BeforeValidator(_date_or_rfc3339), AfterValidator(_instant_if_timed)
]


class Model(BaseModel):
    """Our base: validators are built on first use, so a function builds only what it uses."""

    model_config = ConfigDict(defer_build=True)


class StrictModel(Model):
    """A request body: no unknown field, and no value of one JSON type read as another (`"true"`
    is not a boolean, `"16"` or `16.0` not an integer, `1` not `true`). Fields that take a JSON
    string for a richer type (a date-time, a status) parse it themselves."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, strict=True, defer_build=True
    )


class Location(StrictModel):
    city: Annotated[PlainText, Field(max_length=128)] | None = None
    state: Annotated[PlainText, Field(max_length=64)] | None = None
    country: Annotated[PlainText, Field(max_length=64)] | None = None
    postal_code: Annotated[PlainText, Field(max_length=32)] | None = None


class CarrierStatus(StrictModel):
    """The carrier's own code for the status, e.g. Correios `BDE`/`01`."""

    code: Annotated[PlainText, Field(max_length=64)] | None = None
    type: Annotated[PlainText, Field(max_length=64)] | None = None
    description: Annotated[PlainText, Field(max_length=500)] | None = None


class WithdrawnEvent(Model):
    """The event a correction withdrew, as the merchant received it."""

    event_id: str
    sequence: int
    status: Status
    occurred_at: datetime


class OccurredAtZone(Model):
    """The zone a carrier's local time was read in: an IANA name, and why that one."""

    name: str = Field(description="IANA time zone, e.g. America/Manaus")
    source: Literal["unit_state", "default"] = Field(
        description="unit_state: the zone of the unit's state (UF); default: no state was "
        "known, Brasília time (America/Sao_Paulo)"
    )


class ShipmentAlert(Model):
    """What a `shipment.stalled` or `shipment.late` tells: since when, and how long."""

    kind: Literal["stalled", "late"]
    stalled_since: datetime = Field(
        description="When the shipment's latest event occurred (nothing has happened since)"
    )
    promised: date | None = Field(
        default=None, description="The carrier's promised delivery date, if it gave one"
    )
    business_days: int = Field(
        description="stalled: whole business days without an event; late: business days "
        "past `promised` (Brazil's national holidays, the state's, and Carnaval are not "
        "business days)"
    )


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
    occurred_at_zone: OccurredAtZone | None = Field(
        default=None,
        description="When `occurred_at` came from the carrier as a local time without an "
        "offset (Correios' `dtHrCriado`): the time zone it was read in, and why (the unit's "
        "state, or Brasília time by default). Null when the carrier gave the offset.",
    )
    description: str | None = None
    location: Location | None = None
    order_id: str | None = None
    carrier_status: CarrierStatus | None = None
    metadata: dict[str, Any] | None = None
    test: bool = False
    # Why or how, from the status's fixed vocabulary (core/statuses.py).
    status_detail: StatusDetail | None = None
    estimated_delivery: DateOrTimestamp | None = None
    # Where the event stands in its shipment (merchant, carrier, tracking code), set by
    # ingest when it accepts the event (core/shipments.py); absent on test events.
    sequence: int | None = Field(
        default=None,
        description="Position of the event in its shipment (merchant, carrier, tracking "
        "code): increasing in the order events were accepted; gaps are possible.",
    )
    previous_status: Status | None = Field(
        default=None,
        description="The shipment's status before this event (null for its first event).",
    )
    stale: bool = Field(
        default=False,
        description="True when the event occurred before the shipment's latest event already "
        "known (a late scan, a replayed batch): it does not change the shipment's status.",
    )
    correction: bool = False
    corrects: WithdrawnEvent | None = Field(
        default=None,
        description="On a shipment.correction: the event the carrier withdrew (null on "
        "every other event, and when no earlier event was known).",
    )
    alert: ShipmentAlert | None = Field(
        default=None,
        description="On shipment.stalled and shipment.late (told by parcelhooks, not by the "
        "carrier; the other fields are the shipment's latest event): why it was told. Null "
        "on every other event.",
    )

    @property
    def type(self) -> str:
        if self.test:
            return TEST_EVENT_TYPE
        if self.alert is not None:
            return f"shipment.{self.alert.kind}"
        return CORRECTION_EVENT_TYPE if self.correction else f"shipment.{self.status.value}"

    @property
    def action_required(self) -> bool:
        """Must the buyer act (pay, pick up, correct the address)? Derived, never stored."""
        return action_required(self.status, self.status_detail)


# A small shop's server is not flooded during a peak unless its owner raises this.
DEFAULT_MAX_IN_FLIGHT = 16
MAX_IN_FLIGHT_LIMIT = 256


def _secret_entry(value: object) -> object:
    return {"secret": value} if isinstance(value, str) else value


class SigningSecret(Model):
    secret: str
    expires_at: datetime | None = None


# What a subscription reaches: an HTTP endpoint, or inboxes through Amazon SES.
DestinationKind = Literal["webhook", "email"]
HttpMethod = Literal["POST", "PUT", "PATCH"]
BodyContentType = Literal["application/json", "application/x-www-form-urlencoded"]
JSON_CONTENT: Final = "application/json"
FORM_CONTENT: Final = "application/x-www-form-urlencoded"


class StoredHeader(Model):
    """A header sent on every request: a plain value, or a secret one sealed at rest (only
    the fan-out can open it, and only to send it to the subscription's own host)."""

    name: str
    value: str | None = None
    sealed: str | None = None
    # Made from `basic_auth` (so a PATCH of basic_auth replaces it, and nothing else).
    basic_auth: bool = False

    @property
    def secret(self) -> bool:
        return self.sealed is not None


class EmailDestination(Model):
    """An e-mail sent through Amazon SES: each field a template over the event."""

    to: str
    subject: str
    text: str | None = None
    html: str | None = None


class Subscription(Model):
    """A merchant's endpoint as stored; secrets leave through the API only when made."""

    id: str
    merchant_id: str
    kind: DestinationKind = "webhook"
    # The endpoint (its path and query may hold placeholders); None for an e-mail.
    url: str | None = None
    event_types: list[str]
    description: str | None = None
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    # False: events flagged stale are logged as skipped_stale instead of sent.
    include_stale: bool = True
    # POSTs at once across every fan-out invocation, and an optional steady rate.
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    rate_limit_per_second: float | None = None
    # Newest first; a rotated-out secret keeps signing until it expires.
    secrets: list[Annotated[SigningSecret, BeforeValidator(_secret_entry)]]
    created_at: datetime
    updated_at: datetime | None = None
    # The destination's shape (delivery/destination.py renders it); none set: our own JSON,
    # POSTed, exactly as before destinations existed.
    filter: dict[str, Any] | None = None
    method: HttpMethod = "POST"
    headers: list[StoredHeader] = Field(default_factory=list)
    content_type: BodyContentType = JSON_CONTENT
    template: str | None = None
    email: EmailDestination | None = None
    # The merchant's own values for its templates (`subscription.metadata.<name>`).
    metadata: dict[str, str] = Field(default_factory=dict)

    def wants(self, event_type: str) -> bool:
        if event_type in self.event_types:
            return True
        return ALL_EVENT_TYPES in self.event_types and event_type not in NAMED_ONLY_EVENT_TYPES

    def live_secrets(self, now: datetime) -> list[str]:
        return [s.secret for s in self.secrets if s.expires_at is None or s.expires_at > now]
