"""Carrier events as they arrive: the request body, parsed and validated whole.

The body is read by the strict JSON reader (core/json_input.py), so what is validated
here is exactly what the carrier sent. `occurred_at` must fall in a window around the
time of the request: at most `MAX_EVENT_AGE` before it and `MAX_CLOCK_SKEW` after it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from parcelhooks.core.errors import (
    Detail,
    InvalidRequestError,
    ValidationFailedError,
    details_from_validation,
)
from parcelhooks.core.json_input import nesting_depth, read_json
from parcelhooks.core.models import (
    CarrierStatus,
    Location,
    Model,
    NoControlCharacters,
    OwnerId,
    PlainText,
    StrictModel,
    Text128,
    Timestamp,
)
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.carrier_codes import canonical_status
from parcelhooks.ingest.tracking_codes import check_tracking_code

MAX_EVENTS_PER_REQUEST = 100
MAX_BODY_BYTES = 1024 * 1024
MAX_METADATA_BYTES = 4096
# Levels of objects and arrays in `metadata`, itself included: pass-through data, not documents.
MAX_METADATA_DEPTH = 8
# Older than this is a replay or a bug, not tracking news; later than this, a wrong clock.
MAX_EVENT_AGE = timedelta(days=365)
MAX_CLOCK_SKEW = timedelta(days=1)


# Passed through untouched: the model's whitespace stripping must not reach its keys.
MetadataKey = Annotated[str, StringConstraints(strip_whitespace=False)]


def _metadata_fits(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if nesting_depth(value) > MAX_METADATA_DEPTH:
        raise ValueError(f"metadata may nest at most {MAX_METADATA_DEPTH} levels")
    # allow_nan=False: a NaN that reached here (not through read_json) is refused, not nulled.
    if len(json.dumps(value, separators=(",", ":"), allow_nan=False)) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must serialize to at most {MAX_METADATA_BYTES} bytes")
    return value


def _now(info: ValidationInfo) -> datetime:
    """The request's time, from the validation context (tests pass their clock's)."""
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return now if isinstance(now, datetime) else datetime.now(UTC)


class CarrierEventIn(StrictModel):
    """One status change as a carrier posts it."""

    carrier_event_id: Text128
    merchant_id: OwnerId
    tracking_code: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=4, max_length=64),
        AfterValidator(check_tracking_code),
        NoControlCharacters,
    ]
    status: Status | None = None
    occurred_at: Timestamp
    description: Annotated[PlainText, Field(max_length=500)] | None = None
    location: Location | None = None
    order_id: Annotated[PlainText, Field(max_length=128)] | None = None
    carrier_status: CarrierStatus | None = None
    metadata: Annotated[dict[MetadataKey, Any] | None, AfterValidator(_metadata_fits)] = None

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

    @field_validator("occurred_at")
    @classmethod
    def _recent(cls, value: datetime, info: ValidationInfo) -> datetime:
        now = _now(info)
        if not now - MAX_EVENT_AGE <= value <= now + MAX_CLOCK_SKEW:
            raise ValueError(
                f"must be at most {MAX_EVENT_AGE.days} days before and {MAX_CLOCK_SKEW.days} day "
                f"after the time of the request ({now.isoformat(timespec='seconds')})"
            )
        return value


class CarrierEventBatchIn(StrictModel):
    events: list[CarrierEventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


class AcceptedEvent(Model):
    carrier_event_id: str
    event_id: str
    duplicate: bool


class IngestResponse(Model):
    accepted: int
    duplicates: int
    events: list[AcceptedEvent]


def parse_events(body: str | bytes | None, *, now: datetime | None = None) -> list[CarrierEventIn]:
    """One event or `{"events": [...]}`; every problem of the request in one error.

    `now` is the time of the request (the current time unless a test gives its own).
    """
    if body is None or len(body) == 0:
        raise InvalidRequestError("the request body is empty", [_body_problem("empty")])
    payload: Any = read_json(body, max_bytes=MAX_BODY_BYTES)
    if not isinstance(payload, dict):
        raise InvalidRequestError(
            'the body must be an event or {"events": [...]}', [_body_problem("not an object")]
        )
    context = {"now": now or datetime.now(UTC)}
    try:
        if "events" in payload:
            return CarrierEventBatchIn.model_validate(payload, context=context).events
        return [CarrierEventIn.model_validate(payload, context=context)]
    except ValidationError as error:
        raise ValidationFailedError(
            f"{error.error_count()} problem(s) in the request; nothing was accepted",
            details_from_validation(error),
        ) from None


def _body_problem(message: str) -> Detail:
    return {"loc": "body", "message": message, "type": "invalid_request"}
