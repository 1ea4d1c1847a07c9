"""Carrier events as they arrive: the request body, parsed and validated whole.

The body is read by the strict JSON reader (core/json_input.py), so what is validated
here is exactly what the carrier sent.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StringConstraints,
    ValidationError,
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
from parcelhooks.core.models import CarrierStatus, Location, Model, StrictModel, Text128
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.carrier_codes import canonical_status

MAX_EVENTS_PER_REQUEST = 100
MAX_BODY_BYTES = 1024 * 1024
MAX_METADATA_BYTES = 4096
# Levels of objects and arrays in `metadata`, itself included: pass-through data, not documents.
MAX_METADATA_DEPTH = 8


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


class CarrierEventIn(StrictModel):
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

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339_string(cls, value: object) -> object:
        # Only RFC 3339 strings: a bare number would be read as a unix time.
        if not isinstance(value, str):
            raise ValueError("must be an RFC 3339 date-time string with an offset")
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


def parse_events(body: str | bytes | None) -> list[CarrierEventIn]:
    """One event or `{"events": [...]}`; every problem of the request in one error."""
    if body is None or len(body) == 0:
        raise InvalidRequestError("the request body is empty", [_body_problem("empty")])
    payload: Any = read_json(body, max_bytes=MAX_BODY_BYTES)
    if not isinstance(payload, dict):
        raise InvalidRequestError(
            'the body must be an event or {"events": [...]}', [_body_problem("not an object")]
        )
    try:
        if "events" in payload:
            return CarrierEventBatchIn.model_validate(payload).events
        return [CarrierEventIn.model_validate(payload)]
    except ValidationError as error:
        raise ValidationFailedError(
            f"{error.error_count()} problem(s) in the request; nothing was accepted",
            details_from_validation(error),
        ) from None


def _body_problem(message: str) -> Detail:
    return {"loc": "body", "message": message, "type": "invalid_request"}
