"""Carrier events as they arrive: the request body, parsed and validated whole.

The body is read by the strict JSON reader (core/json_input.py), so what is validated
here is exactly what the carrier sent. `occurred_at` must fall in a window around the
time of the request (ingest/timing.py).

Each event ends up with a canonical status and, where one is known, a detail: as the
carrier sent them, or from its carrier code (ingest/carrier_codes.py). A code that is not
in the table, on an event without `status`, gives the status `unknown`: the event is
delivered with its raw code rather than refused. A raw object in a carrier's own format
fills the fields the event leaves out, its code read in that carrier's table: a Correios
Rastro event in `correios` (ingest/rastro.py), a Loggi package in `loggi` or a Melhor
Envio webhook in `melhor_envio` (ingest/carriers/raw.py); at most one per event.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Protocol

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from parcelhooks.core.api_keys import LEGACY_VOCABULARY, Vocabulary
from parcelhooks.core.brazil_zones import AssumedZone
from parcelhooks.core.errors import (
    Detail,
    InvalidRequestError,
    ValidationFailedError,
    details_from_validation,
)
from parcelhooks.core.json_input import nesting_depth, read_json
from parcelhooks.core.models import (
    CarrierStatus,
    DateOrTimestamp,
    Location,
    Model,
    NoControlCharacters,
    OwnerId,
    PlainText,
    StrictModel,
    Text128,
    Timestamp,
)
from parcelhooks.core.statuses import Status, StatusDetail, belongs, details_of
from parcelhooks.ingest.carrier_codes import lookup_in
from parcelhooks.ingest.carriers.raw import LoggiPackage, MelhorEnvioWebhook
from parcelhooks.ingest.carriers.table import CodeMeaning
from parcelhooks.ingest.rastro import RastroEvent
from parcelhooks.ingest.timing import (
    DEFAULT_EVENT_WINDOW,
    check_estimate,
    check_occurred_at,
    event_window,
    request_time,
)
from parcelhooks.ingest.tracking_codes import (
    MAX_LENGTH,
    MIN_LENGTH,
    TRACKING_CODE_PATTERN,
    TRACKING_CODE_RULE,
    check_tracking_code,
)

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


def key_vocabulary(info: ValidationInfo) -> Vocabulary:
    """The carrier key's vocabulary, from the validation context (the legacy one if none)."""
    context = info.context if isinstance(info.context, dict) else {}
    vocabulary = context.get("vocabulary")
    return vocabulary if isinstance(vocabulary, Vocabulary) else LEGACY_VOCABULARY


class RawCarrierEvent(Protocol):
    """A carrier's own tracking object, read into the fields an event leaves out."""

    VOCABULARY: Vocabulary

    @property
    def occurred_at(self) -> datetime | None: ...
    @property
    def occurred_at_zone(self) -> AssumedZone | None: ...
    @property
    def estimated_delivery(self) -> date | None: ...
    @property
    def description(self) -> str | None: ...
    def carrier_status(self) -> CarrierStatus: ...
    def location_of(self) -> Location | None: ...


RAW_OBJECTS = ("correios", "loggi", "melhor_envio")


def _raw_of(fields: dict[str, Any]) -> RawCarrierEvent | None:
    """The event's raw carrier object, if it sent one."""
    return next((fields[name] for name in RAW_OBJECTS if fields.get(name) is not None), None)


def _has_code(carrier_status: CarrierStatus | None) -> bool:
    return carrier_status is not None and bool(carrier_status.type or carrier_status.code)


def resolve_status(
    status: Status | None,
    carrier_status: CarrierStatus | None,
    vocabulary: Vocabulary = LEGACY_VOCABULARY,
) -> tuple[Status | None, StatusDetail | None]:
    """The event's status and the detail its carrier code gives, if any.

    A status sent wins; the code's detail is kept only when the code means that status.
    Without a status: the code's status, else `unknown` when there is a code to keep,
    else None (nothing says what happened).
    """
    return _resolved(status, carrier_status, _known(carrier_status, vocabulary))


def _known(carrier_status: CarrierStatus | None, vocabulary: Vocabulary) -> CodeMeaning | None:
    """What the code stands for in the vocabulary's table, if it is there."""
    if carrier_status is None:
        return None
    return lookup_in(vocabulary, carrier_status.type, carrier_status.code)


def _resolved(
    status: Status | None, carrier_status: CarrierStatus | None, known: CodeMeaning | None
) -> tuple[Status | None, StatusDetail | None]:
    if status is not None:
        return status, known.detail if known and known.status is status else None
    if known is not None:
        return known.status, known.detail
    return (Status.UNKNOWN, None) if _has_code(carrier_status) else (None, None)


class CarrierEventIn(StrictModel):
    """One status change as a carrier posts it."""

    carrier_event_id: Text128
    merchant_id: OwnerId
    tracking_code: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=MIN_LENGTH, max_length=MAX_LENGTH),
        AfterValidator(check_tracking_code),
        Field(
            json_schema_extra={
                "pattern": TRACKING_CODE_PATTERN,
                "description": f"{TRACKING_CODE_RULE}; a code in the UPU S10 shape "
                "(Correios') must carry its check digit and is kept in upper case",
            }
        ),
        NoControlCharacters,
    ]
    status: Annotated[Status, Strict(False)] | None = None
    occurred_at: Timestamp | None = Field(
        default=None,
        description="Required unless a raw carrier object gives the time "
        "(`correios.dtHrCriado`, `loggi.status.updatedTime`, the `melhor_envio` event's "
        "`data.*_at`)",
    )
    description: Annotated[PlainText, Field(max_length=500)] | None = None
    location: Location | None = None
    order_id: Annotated[PlainText, Field(max_length=128)] | None = None
    carrier_status: CarrierStatus | None = None
    # Read into the fields above, then dropped: it never travels further (exclude).
    correios: RastroEvent | None = Field(
        default=None,
        exclude=True,
        description="A raw Correios Rastro event; fills the fields this event leaves out",
    )
    loggi: LoggiPackage | None = Field(
        default=None,
        exclude=True,
        description="One package of Loggi's tracking webhook; fills the fields this event "
        "leaves out",
    )
    melhor_envio: MelhorEnvioWebhook | None = Field(
        default=None,
        exclude=True,
        description="Melhor Envio's webhook body; fills the fields this event leaves out",
    )
    # After the fields it is checked against, so that they are validated when it is.
    status_detail: Annotated[StatusDetail, Strict(False)] | None = Field(
        default=None,
        description="Why or how, from the status's vocabulary (docs/statuses.md); "
        "derived from a known carrier code when not sent",
    )
    estimated_delivery: DateOrTimestamp | None = None
    metadata: Annotated[dict[MetadataKey, Any] | None, AfterValidator(_metadata_fits)] = None
    # Set from `correios` (never sent as such): the zone a local time was read in.
    _occurred_at_zone: AssumedZone | None = PrivateAttr(default=None)
    # The vocabulary its carrier code was read in (the key's, or its raw object's carrier's).
    _code_vocabulary: Vocabulary | None = PrivateAttr(default=None)

    @field_validator("occurred_at")
    @classmethod
    def _recent(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        return check_occurred_at(value, request_time(info), event_window(info))

    @field_validator("estimated_delivery")
    @classmethod
    def _plausible(cls, value: date | None, info: ValidationInfo) -> date | None:
        return None if value is None else check_estimate(value, request_time(info))

    @field_validator("status_detail")
    @classmethod
    def _belongs_to_status(
        cls, value: StatusDetail | None, info: ValidationInfo
    ) -> StatusDetail | None:
        fields = info.data
        # A field that failed to validate is reported on its own; nothing to check against.
        if value is None or not {"status", "carrier_status", *RAW_OBJECTS} <= fields.keys():
            return value
        raw = _raw_of(fields)
        sent: CarrierStatus | None = fields["carrier_status"]
        carrier_status = sent or (raw.carrier_status() if raw else None)
        vocabulary = key_vocabulary(info) if sent or raw is None else raw.VOCABULARY
        status, _ = resolve_status(fields["status"], carrier_status, vocabulary)
        if status is not None and not belongs(status, value):
            allowed = ", ".join(details_of(status)) or "none"
            raise ValueError(
                f"{value.value!r} is not a detail of status {status.value!r} (allowed: {allowed})"
            )
        return value

    @model_validator(mode="after")
    def _complete(self, info: ValidationInfo) -> CarrierEventIn:
        # A raw object's code is its carrier's whatever the key; the key's own codes are
        # read in its vocabulary.
        sent = [name for name in RAW_OBJECTS if getattr(self, name) is not None]
        if len(sent) > 1:
            raise ValueError(f"send at most one raw carrier object, not {' and '.join(sent)}")
        raw = _raw_of({name: getattr(self, name) for name in RAW_OBJECTS})
        own = self.carrier_status is not None or raw is None
        vocabulary = key_vocabulary(info) if own or raw is None else raw.VOCABULARY
        self._code_vocabulary = vocabulary
        if raw is not None:
            self._fill_from(raw)
        if self.occurred_at is None:
            raise ValueError(
                "occurred_at is required unless a raw carrier object gives the time "
                "(correios.dtHrCriado, loggi.status.updatedTime, or the data.*_at of the "
                "melhor_envio event)"
            )
        known = _known(self.carrier_status, vocabulary)
        status, detail = _resolved(self.status, self.carrier_status, known)
        if status is None:
            raise ValueError(
                "status is required unless carrier_status {type, code} (or a raw carrier "
                "object) gives the carrier's code"
            )
        self.status = status
        self.status_detail = self.status_detail or detail
        if known is not None:
            self._describe(known)
        return self

    def _describe(self, known: CodeMeaning) -> None:
        """A known code's words in its carrier's table, where the carrier sent none."""
        code = self.carrier_status
        if code is None:
            return
        if code.description is None:
            self.carrier_status = code.model_copy(update={"description": known.text})
        self.description = self.description or known.text

    @property
    def code_vocabulary(self) -> Vocabulary:
        """Whose table the event's carrier code was read in."""
        return self._code_vocabulary or LEGACY_VOCABULARY

    @property
    def occurred_at_zone(self) -> AssumedZone | None:
        """The zone `occurred_at` was read in, when it came from a local time (Rastro's
        `dtHrCriado` without an offset); None when the carrier gave the offset."""
        return self._occurred_at_zone

    def _fill_from(self, raw: RawCarrierEvent) -> None:
        """The raw object's fields for those the event left out (what the event sent wins)."""
        if self.occurred_at is None:
            self._occurred_at_zone = raw.occurred_at_zone
        self.occurred_at = self.occurred_at or raw.occurred_at
        self.description = self.description or raw.description
        self.location = self.location or raw.location_of()
        self.carrier_status = self.carrier_status or raw.carrier_status()
        self.estimated_delivery = self.estimated_delivery or raw.estimated_delivery


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


def parse_events(
    body: str | bytes | None,
    *,
    now: datetime | None = None,
    vocabulary: Vocabulary = LEGACY_VOCABULARY,
    window: timedelta = DEFAULT_EVENT_WINDOW,
) -> list[CarrierEventIn]:
    """One event or `{"events": [...]}`; every problem of the request in one error.

    `now` is the time of the request (the current time unless a test gives its own);
    `vocabulary` the carrier key's, whose table its `carrier_status` codes are read in;
    `window` how long ago an event may have occurred (the duplicate window).
    """
    if body is None or len(body) == 0:
        raise InvalidRequestError("the request body is empty", [_body_problem("empty")])
    payload: Any = read_json(body, max_bytes=MAX_BODY_BYTES)
    if not isinstance(payload, dict):
        raise InvalidRequestError(
            'the body must be an event or {"events": [...]}', [_body_problem("not an object")]
        )
    context = {"now": now or datetime.now(UTC), "vocabulary": vocabulary, "event_window": window}
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
