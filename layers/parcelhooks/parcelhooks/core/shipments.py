"""A shipment's order of events: sequence, latest event, staleness and withdrawals.

A shipment is one tracking code of one merchant at one carrier. Ingest places every event
it accepts in its shipment's state, in the order it accepts them: the event gets the next
`sequence`, the status the shipment had before it (`previous_status`), and `stale` when it
occurred before the latest event already known (a late scan, a replayed batch). The latest
event is the one that occurred last, whatever order events arrived in.

A *correction* withdraws the carrier's previous event: an event whose `status_detail` is
`correction` (what Correios `EST`, "Favor desconsiderar a informação anterior", maps to),
or whose carrier type is `EST` whatever status it was sent with. It withdraws the newest
event still standing that occurred at or before it; that event stops counting, so the
shipment rolls back to the event before it.

The state keeps only the newest `MAX_ENTRIES` events (by occurrence): enough to roll back
a few withdrawals and to recognise an event placed by a request that died before queueing
it, in an item small enough to cost one write unit. Pure code: the table lives in aws/.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from parcelhooks.core.brazil_zones import zone_of
from parcelhooks.core.models import ShipmentEvent, WithdrawnEvent
from parcelhooks.core.statuses import Status, StatusDetail

MAX_ENTRIES = 8
# Correios' event type for "disregard the previous information"; see docs/decisions.md.
CORRECTION_CARRIER_TYPES = frozenset({"EST"})


def is_correction(event: ShipmentEvent) -> bool:
    """Does the carrier withdraw its previous event with this one?"""
    if event.status_detail is StatusDetail.CORRECTION:
        return True
    kind = event.carrier_status.type if event.carrier_status else None
    return kind is not None and kind.strip().upper() in CORRECTION_CARRIER_TYPES


@dataclass(frozen=True, slots=True)
class ShipmentKey:
    merchant_id: str
    carrier: str
    tracking_code: str

    @classmethod
    def of(cls, event: ShipmentEvent) -> ShipmentKey:
        return cls(event.merchant_id, event.carrier, event.tracking_code)


@dataclass(frozen=True, slots=True)
class Entry:
    """One placed event, with what it was told when placed (a resend is told the same)."""

    event_id: str
    sequence: int
    status: Status
    occurred_at: datetime
    previous_status: Status | None
    stale: bool
    correction: bool = False
    # On a correction: the event it withdrew (None when nothing stood before it).
    corrects: str | None = None
    # On a withdrawn event: the correction that withdrew it.
    withdrawn_by: str | None = None
    # What the event said of the shipment's promise and whereabouts (core/watch.py): the
    # state's come from the newest standing event that said them.
    promised: date | None = None
    region: str | None = None

    @property
    def standing(self) -> bool:
        """Counts for the shipment's status: not a correction, not withdrawn."""
        return not self.correction and self.withdrawn_by is None

    @property
    def order(self) -> tuple[datetime, int]:
        # Events that occurred at the same instant are ordered as they were accepted.
        return (self.occurred_at, self.sequence)

    def withdrawn(self) -> WithdrawnEvent:
        return WithdrawnEvent(
            event_id=self.event_id,
            sequence=self.sequence,
            status=self.status,
            occurred_at=self.occurred_at,
        )


@dataclass(frozen=True, slots=True)
class ShipmentState:
    """`version` changes with every write (the compare-and-set token); `last_sequence` only
    grows, so an event that is placed and then forgotten leaves a gap, never a reuse."""

    last_sequence: int = 0
    version: int = 0
    entries: tuple[Entry, ...] = ()
    # What the stalled/late alerts are counted on (core/watch.py): the carrier's newest
    # promised date, the state (UF) the shipment was last seen in, the episodes told.
    promised: date | None = None
    region: str | None = None
    told: frozenset[str] = field(default_factory=frozenset)

    @property
    def latest(self) -> Entry | None:
        """The standing event that occurred last."""
        return max((e for e in self.entries if e.standing), key=lambda e: e.order, default=None)

    def find(self, event_id: str) -> Entry | None:
        return next((e for e in self.entries if e.event_id == event_id), None)

    def place(self, event: ShipmentEvent) -> tuple[ShipmentState, Entry]:
        """The state with `event` placed, and its entry. An event already placed (a request
        that died before queueing it, taken over by the carrier's resend) keeps its entry."""
        known = self.find(event.event_id)
        if known is not None:
            return self, known
        latest = self.latest
        region = _region(event)
        entry = Entry(
            event_id=event.event_id,
            sequence=self.last_sequence + 1,
            status=event.status,
            occurred_at=event.occurred_at,
            previous_status=latest.status if latest else None,
            stale=latest is not None and event.occurred_at < latest.occurred_at,
            promised=_promised(event, region or self.region),
            region=region,
        )
        entries = list(self.entries)
        if is_correction(event):
            entries, entry = _withdraw(entries, entry)
        entries.append(entry)
        placed = replace(
            self,
            last_sequence=entry.sequence,
            version=self.version + 1,
            entries=_newest(entries, entry),
            promised=_newest_said(entries, "promised", self.promised),
            region=_newest_said(entries, "region", self.region),
        )
        return placed, entry

    def without(self, event_ids: Collection[str]) -> ShipmentState:
        """The state as if these events had never been placed (they were not queued):
        their corrections undone, their sequences not reused."""
        kept = [e for e in self.entries if e.event_id not in event_ids]
        restored = tuple(
            replace(e, withdrawn_by=None) if e.withdrawn_by in event_ids else e for e in kept
        )
        gone = [e for e in self.entries if e.event_id in event_ids]
        # What a forgotten event said is forgotten with it, unless an event kept says it.
        promised = None if any(e.promised == self.promised for e in gone) else self.promised
        region = None if any(e.region == self.region for e in gone) else self.region
        return replace(
            self,
            version=self.version + 1,
            entries=restored,
            promised=_newest_said(restored, "promised", promised),
            region=_newest_said(restored, "region", region),
        )

    def withdrawn_by(self, correction: Entry) -> Entry | None:
        return self.find(correction.corrects) if correction.corrects else None


def _promised(event: ShipmentEvent, region: str | None) -> date | None:
    """The carrier's promised day (a promised time is its day in the state's zone)."""
    promised = event.estimated_delivery
    if isinstance(promised, datetime):
        return promised.astimezone(ZoneInfo(zone_of(region).name)).date()
    return promised


def _newest_said[T](entries: Iterable[Entry], field_name: str, otherwise: T | None) -> T | None:
    """What the newest standing event that said it said (a stale, withdrawn or correcting
    event says nothing over a newer one); `otherwise` when none of them did."""
    said = [e for e in entries if e.standing and getattr(e, field_name) is not None]
    newest = max(said, key=lambda e: e.order, default=None)
    return getattr(newest, field_name) if newest is not None else otherwise


def _region(event: ShipmentEvent) -> str | None:
    """The event's state as a two-letter UF, if it gives one."""
    state = (event.location.state or "").strip().upper() if event.location else ""
    return state if len(state) == 2 and state.isalpha() else None


def _withdraw(entries: list[Entry], correction: Entry) -> tuple[list[Entry], Entry]:
    """Withdraw the newest standing event that occurred at or before the correction; the
    correction then carries the shipment's status once that event no longer counts (its own
    reported status when no event is left standing)."""
    candidates = [e for e in entries if e.standing and e.occurred_at <= correction.occurred_at]
    target = max(candidates, key=lambda e: e.order, default=None)
    if target is None:
        return entries, replace(correction, correction=True)
    entries = [replace(e, withdrawn_by=correction.event_id) if e is target else e for e in entries]
    remaining = ShipmentState(entries=tuple(entries)).latest
    return entries, replace(
        correction,
        correction=True,
        corrects=target.event_id,
        status=remaining.status if remaining else correction.status,
    )


def _newest(entries: Iterable[Entry], placed: Entry) -> tuple[Entry, ...]:
    """The newest MAX_ENTRIES by occurrence, always including the entry just placed (so a
    resend of a late event is still recognised), in sequence order."""
    by_occurrence = sorted(entries, key=lambda e: e.order)
    kept = by_occurrence[-MAX_ENTRIES:]
    if placed not in kept:
        kept = [*by_occurrence[-(MAX_ENTRIES - 1) :], placed]
    return tuple(sorted(kept, key=lambda e: e.sequence))


def placed_event(event: ShipmentEvent, entry: Entry, state: ShipmentState) -> ShipmentEvent:
    """The event as it is queued: where it stands in its shipment."""
    target = state.withdrawn_by(entry)
    return event.model_copy(
        update={
            "status": entry.status,
            "sequence": entry.sequence,
            "previous_status": entry.previous_status,
            "stale": entry.stale,
            "correction": entry.correction,
            "corrects": target.withdrawn() if target else None,
        }
    )
