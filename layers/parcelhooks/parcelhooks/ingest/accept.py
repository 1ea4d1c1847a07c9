"""Carrier ingest: validate a request whole, drop duplicates, enqueue the rest, lose nothing.

A request is validated before anything is written, so a bad request leaves no trace.
Each new event is first *claimed* (carrier + carrier_event_id, conditional write),
then enqueued, then the claim is confirmed. Only a claim confirmed before this request
is answered as a duplicate. An event another request is still queueing is reported as
not queued yet, so the carrier sends again; a claim left pending by a crash is taken
over once it is stale (and answered as new: it is queued now).

Whatever fails between claiming and confirming — an event SQS refused, a claim that
could not be written, an error nobody expected — the claims are left as the request
found them: the ones it made are released, the ones it took over are handed back stale,
so the carrier's resend is taken at once (a taken-over claim keeps its event_id, which
may already be queued by the request that died). Only a failure of `confirm` itself,
after the events are queued, leaves claims pending: they go stale and the resend queues
the same event_id again, which the fan-out sends once.

Between claiming and queueing, each event is placed in its shipment's state
(ingest/shipments.py), so the queued event carries its sequence, previous status and stale
flag. Events that are not queued are taken out of their shipments again; those queued get
their history item before the claims are confirmed (a failure there is handled like a
failed confirm: the resend is queued again with the same event_id and the same place).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import partial
from typing import Protocol

from parcelhooks.core.claims import Claim
from parcelhooks.core.errors import Detail, EnqueueFailedError
from parcelhooks.core.ids import new_event_id
from parcelhooks.core.models import OccurredAtZone, ShipmentEvent
from parcelhooks.ingest.events import (
    MAX_EVENTS_PER_REQUEST,
    AcceptedEvent,
    CarrierEventIn,
    IngestResponse,
)
from parcelhooks.ingest.shipments import Placement, ShipmentBook

# Longer than any ingest request can run (API Gateway gives up after 29 s).
STALE_CLAIM_AFTER = timedelta(minutes=1)


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
    def publish(
        self, events: Sequence[ShipmentEvent], first_queued: Collection[str] = ()
    ) -> list[str]:
        """Enqueue every event (saying of those in `first_queued` that no earlier request
        queued them); return the event ids that could not be enqueued."""
        ...


def to_shipment_event(
    event: CarrierEventIn, carrier: str, event_id: str, received_at: datetime
) -> ShipmentEvent:
    assert event.status is not None  # CarrierEventIn guarantees it after validation
    zone = event.occurred_at_zone
    return ShipmentEvent(
        event_id=event_id,
        carrier=carrier,
        received_at=received_at,
        occurred_at_zone=OccurredAtZone(name=zone.name, source=zone.source) if zone else None,
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
        *,
        shipments: ShipmentBook | None = None,
    ) -> None:
        self._claims = claims
        self._publisher = publisher
        self._clock = clock
        self._make_event_id = make_event_id
        # Claims are one conditional write each: a pool makes 100 of them take ~1 round trip.
        self._executor = executor
        # Where each event stands in its shipment; None only in tests of the claims alone.
        self._shipments = shipments

    def accept(self, carrier: str, events: Sequence[CarrierEventIn]) -> IngestResponse:
        assert 0 < len(events) <= MAX_EVENTS_PER_REQUEST
        now = self._clock()
        # A repeat inside one request is claimed once and answered as a duplicate below.
        unique = list({event.carrier_event_id: event for event in reversed(events)}.values())
        unique.reverse()
        claims = self._claim_all(carrier, unique, now)
        placement = Placement()
        try:
            to_publish, busy = self._plan(carrier, unique, claims, now)
            if to_publish and self._shipments is not None:
                placement = self._shipments.place(to_publish)
                to_publish = placement.events
            new = {c.event_id for c in claims.values() if c.state is ClaimState.NEW}
            failed_ids = set(self._publisher.publish(to_publish, new)) if to_publish else set()
        except BaseException:
            # Nothing is known to be queued: a claim left fresh would answer the resend 503,
            # and a placed event would stand in its shipment without ever being sent.
            self._forget(placement)
            self._undo(carrier, claims, now)
            raise
        failed = [e.carrier_event_id for e in to_publish if e.event_id in failed_ids]
        published = [
            (e.carrier_event_id, e.event_id) for e in to_publish if e.event_id not in failed_ids
        ]
        # Undone before confirming, so a failing confirm cannot strand them.
        if failed_ids:
            self._forget(placement, failed_ids)
        self._hand_back(carrier, {ceid: claims[ceid] for ceid in failed}, now)
        if self._shipments is not None:
            self._shipments.keep([e for e in to_publish if e.event_id not in failed_ids])
        if published:
            self._claims.confirm(carrier, published, now)
        if failed or busy:
            # Never "duplicate" for what is not known to be queued: the carrier sends again.
            raise EnqueueFailedError(
                "some events could not be queued yet; send the request again "
                "(events already queued will be answered as duplicates)",
                _not_queued(failed, "not queued", "retry")
                + _not_queued(busy, "another request is queueing it", "in_progress"),
            )
        return _response(events, claims)

    def _forget(self, placement: Placement, event_ids: set[str] | None = None) -> None:
        if self._shipments is not None and placement.added:
            self._shipments.forget(placement, event_ids)

    @staticmethod
    def _plan(
        carrier: str,
        events: list[CarrierEventIn],
        claims: dict[str, _Claimed],
        now: datetime,
    ) -> tuple[list[ShipmentEvent], list[str]]:
        """What to queue (new and taken-over events), and what another request is queueing."""
        to_publish: list[ShipmentEvent] = []
        busy: list[str] = []
        for event in events:
            claim = claims[event.carrier_event_id]
            if claim.state is ClaimState.IN_PROGRESS:
                busy.append(event.carrier_event_id)
            elif claim.state is not ClaimState.DUPLICATE:
                to_publish.append(to_shipment_event(event, carrier, claim.event_id, now))
        return to_publish, busy

    def _undo(self, carrier: str, claims: Mapping[str, _Claimed], now: datetime) -> None:
        """Leave the claims as this request found them: its own released, taken-over ones
        stale again (so the resend takes them over at once, with the same event_id)."""
        made = [ceid for ceid, claim in claims.items() if claim.state is ClaimState.NEW]
        if made:
            self._claims.release(carrier, made)
        for ceid, claim in claims.items():
            if claim.state is ClaimState.TAKEN_OVER and claim.stale_since is not None:
                # take_over is a compare-and-set of claimed_at: this one sets it back.
                ours = Claim(claim.event_id, confirmed=False, claimed_at=now)
                self._claims.take_over(carrier, ceid, ours, claim.stale_since)

    def _hand_back(self, carrier: str, claims: Mapping[str, _Claimed], now: datetime) -> None:
        """Claims of events SQS did not take are made stale, not released: a refusal after a
        timeout may still have queued the event, so the resend must reuse its event_id (the
        fan-out finds the first copy's lines in the delivery log and does not POST it again)."""
        stale_at = now - STALE_CLAIM_AFTER - timedelta(seconds=1)
        for ceid, claim in claims.items():
            ours = Claim(claim.event_id, confirmed=False, claimed_at=now)
            since = claim.stale_since if claim.state is ClaimState.TAKEN_OVER else stale_at
            if claim.state in (ClaimState.NEW, ClaimState.TAKEN_OVER) and since is not None:
                # take_over is a compare-and-set of claimed_at: this one sets it back.
                self._claims.take_over(carrier, ceid, ours, since)

    def _claim_all(
        self, carrier: str, events: list[CarrierEventIn], now: datetime
    ) -> dict[str, _Claimed]:
        """Claim every event; if any claim fails, undo the ones this request made or took."""
        claim = partial(self._claim, carrier, now=now)
        if self._executor is None:
            outcomes: list[_Claimed | BaseException] = []
            for event in events:
                try:
                    outcomes.append(claim(event))
                except Exception as error:
                    outcomes.append(error)
        else:
            futures = [self._executor.submit(claim, event) for event in events]
            outcomes = [f.exception() or f.result() for f in futures]
        held = {
            event.carrier_event_id: outcome
            for event, outcome in zip(events, outcomes, strict=True)
            if isinstance(outcome, _Claimed)
        }
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if not errors:
            return held
        self._undo(carrier, held, now)
        raise EnqueueFailedError(
            "the events could not be recorded; send the request again"
        ) from errors[0]

    def _claim(self, carrier: str, event: CarrierEventIn, *, now: datetime) -> _Claimed:
        fresh_id = self._make_event_id()
        existing = self._claims.claim(carrier, event.carrier_event_id, fresh_id, now)
        if existing is None:
            return _Claimed(fresh_id, ClaimState.NEW)
        if existing.confirmed:
            return _Claimed(existing.event_id, ClaimState.DUPLICATE)
        if now - existing.claimed_at <= STALE_CLAIM_AFTER:
            return _Claimed(existing.event_id, ClaimState.IN_PROGRESS)
        if self._claims.take_over(carrier, event.carrier_event_id, existing, now):
            # A request that claimed it died before confirming: queue it now, same event_id.
            return _Claimed(existing.event_id, ClaimState.TAKEN_OVER, existing.claimed_at)
        return _Claimed(existing.event_id, ClaimState.IN_PROGRESS)


class ClaimState(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    TAKEN_OVER = "taken_over"
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True, slots=True)
class _Claimed:
    event_id: str
    state: ClaimState
    # When the claim this request took over had been made: to hand it back stale.
    stale_since: datetime | None = None

    @property
    def queued_before(self) -> bool:
        """Confirmed by an earlier request: the one state answered as a duplicate."""
        return self.state is ClaimState.DUPLICATE


def _not_queued(carrier_event_ids: Sequence[str], message: str, kind: str) -> list[Detail]:
    return [
        {"loc": f"carrier_event_id={ceid}", "message": message, "type": kind}
        for ceid in carrier_event_ids
    ]


def _response(events: Sequence[CarrierEventIn], claims: Mapping[str, _Claimed]) -> IngestResponse:
    seen: set[str] = set()
    listed: list[AcceptedEvent] = []
    for event in events:
        claim = claims[event.carrier_event_id]
        # A repeat inside the request is a duplicate of its first copy.
        repeat = event.carrier_event_id in seen
        seen.add(event.carrier_event_id)
        listed.append(
            AcceptedEvent(
                carrier_event_id=event.carrier_event_id,
                event_id=claim.event_id,
                duplicate=repeat or claim.queued_before,
            )
        )
    duplicates = sum(1 for answer in listed if answer.duplicate)
    return IngestResponse(accepted=len(listed) - duplicates, duplicates=duplicates, events=listed)
