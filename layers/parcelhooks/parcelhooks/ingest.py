"""Carrier ingest: validate a request whole, drop duplicates, enqueue the rest, lose nothing.

A request is validated before anything is written, so a bad request leaves no trace.
Each new event is first *claimed* (carrier + carrier_event_id, conditional write),
then enqueued, then the claim is confirmed. Events that could not be enqueued have
their claims released so the carrier's retry is not mistaken for a duplicate; a
claim left pending by a crash is taken over once it is stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from pydantic import ValidationError

from parcelhooks.errors import ApiError, ErrorCode, details_from_validation
from parcelhooks.ids import new_event_id
from parcelhooks.models import (
    MAX_EVENTS_PER_REQUEST,
    AcceptedEvent,
    CarrierEventBatchIn,
    CarrierEventIn,
    IngestResponse,
    ShipmentEvent,
)

MAX_BODY_BYTES = 1024 * 1024
STALE_CLAIM_AFTER = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Claim:
    event_id: str
    confirmed: bool
    claimed_at: datetime


class ClaimStore(Protocol):
    def claim(
        self, carrier: str, carrier_event_id: str, event_id: str, now: datetime
    ) -> Claim | None:
        """Claim the id for `event_id`; return the existing claim instead if there is one."""
        ...

    def take_over(self, carrier: str, carrier_event_id: str, stale: Claim, now: datetime) -> bool:
        """Refresh a stale pending claim; False if someone else did first."""
        ...

    def confirm(self, carrier: str, queued: Sequence[tuple[str, str]], now: datetime) -> None:
        """Mark `(carrier_event_id, event_id)` pairs as queued."""
        ...

    def release(self, carrier: str, carrier_event_ids: Sequence[str]) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[ShipmentEvent]) -> list[str]:
        """Enqueue every event; return the event ids that could not be enqueued."""
        ...


def parse_events(body: str | bytes | None) -> list[CarrierEventIn]:
    """One event or `{"events": [...]}`; every problem of the request in one error."""
    if body is None or len(body) == 0:
        raise ApiError(400, ErrorCode.INVALID_REQUEST, "the request body is empty")
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(
            413,
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"the request body is larger than {MAX_BODY_BYTES} bytes",
        )
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, ErrorCode.MALFORMED_JSON, f"the body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ApiError(
            400, ErrorCode.INVALID_REQUEST, 'the body must be an event or {"events": [...]}'
        )
    try:
        if "events" in payload:
            return CarrierEventBatchIn.model_validate(payload).events
        return [CarrierEventIn.model_validate(payload)]
    except ValidationError as error:
        raise ApiError(
            400,
            ErrorCode.VALIDATION_FAILED,
            f"{error.error_count()} problem(s) in the request; nothing was accepted",
            details_from_validation(error),
        ) from None


def to_shipment_event(
    event: CarrierEventIn, carrier: str, event_id: str, received_at: datetime
) -> ShipmentEvent:
    assert event.status is not None  # CarrierEventIn guarantees it after validation
    return ShipmentEvent(
        event_id=event_id,
        carrier=carrier,
        received_at=received_at,
        **event.model_dump(exclude_none=False),
    )


class Ingest:
    def __init__(
        self,
        claims: ClaimStore,
        publisher: EventPublisher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        make_event_id: Callable[[], str] = new_event_id,
        executor: Executor | None = None,
    ) -> None:
        self._claims = claims
        self._publisher = publisher
        self._clock = clock
        self._make_event_id = make_event_id
        # Claims are one conditional write each: a pool makes 100 of them take ~1 round trip.
        self._executor = executor

    def accept(self, carrier: str, events: Sequence[CarrierEventIn]) -> IngestResponse:
        assert 0 < len(events) <= MAX_EVENTS_PER_REQUEST
        now = self._clock()
        answers: dict[str, AcceptedEvent] = {}
        to_publish: list[ShipmentEvent] = []
        # A repeat inside one request is claimed once and answered as a duplicate below.
        unique = list({event.carrier_event_id: event for event in reversed(events)}.values())
        unique.reverse()
        claim = partial(self._claim, carrier, now=now)
        claimed = list(self._executor.map(claim, unique) if self._executor else map(claim, unique))
        for event, (event_id, duplicate, publish) in zip(unique, claimed, strict=True):
            answers[event.carrier_event_id] = AcceptedEvent(
                carrier_event_id=event.carrier_event_id, event_id=event_id, duplicate=duplicate
            )
            if publish:
                to_publish.append(to_shipment_event(event, carrier, event_id, now))

        failed_ids = set(self._publisher.publish(to_publish)) if to_publish else set()
        failed = [e.carrier_event_id for e in to_publish if e.event_id in failed_ids]
        published = [
            (e.carrier_event_id, e.event_id) for e in to_publish if e.event_id not in failed_ids
        ]
        if published:
            self._claims.confirm(carrier, published, now)
        if failed:
            self._claims.release(carrier, failed)
            raise ApiError(
                503,
                ErrorCode.ENQUEUE_FAILED,
                "some events could not be queued; send the request again "
                "(events already queued will be answered as duplicates)",
                [
                    {"loc": f"carrier_event_id={ceid}", "message": "not queued", "type": "retry"}
                    for ceid in failed
                ],
            )
        return _response(events, answers)

    def _claim(
        self, carrier: str, event: CarrierEventIn, *, now: datetime
    ) -> tuple[str, bool, bool]:
        """(event_id, duplicate, publish) for the first occurrence of an event in a request."""
        fresh_id = self._make_event_id()
        existing = self._claims.claim(carrier, event.carrier_event_id, fresh_id, now)
        if existing is None:
            return fresh_id, False, True
        stale = not existing.confirmed and now - existing.claimed_at > STALE_CLAIM_AFTER
        if stale and self._claims.take_over(carrier, event.carrier_event_id, existing, now):
            # A request that claimed it died before queueing: queue it now, same event_id.
            return existing.event_id, True, True
        return existing.event_id, True, False


def _response(
    events: Sequence[CarrierEventIn], answers: dict[str, AcceptedEvent]
) -> IngestResponse:
    seen: set[str] = set()
    listed: list[AcceptedEvent] = []
    for event in events:
        first = answers[event.carrier_event_id]
        repeat = event.carrier_event_id in seen
        seen.add(event.carrier_event_id)
        listed.append(first.model_copy(update={"duplicate": True}) if repeat else first)
    duplicates = sum(1 for answer in listed if answer.duplicate)
    return IngestResponse(accepted=len(listed) - duplicates, duplicates=duplicates, events=listed)
