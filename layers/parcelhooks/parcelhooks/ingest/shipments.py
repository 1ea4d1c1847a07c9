"""Ingest's part in shipment order: place each accepted event in its shipment's state.

Events are placed after they are claimed and before they are queued, because what the
placement tells (sequence, previous status, stale, what a correction withdrew) travels in
the queued event. The events of one shipment in one request are placed together, in
request order: one conditional write of the shipment's state, whatever their number, and
the states of every shipment of the request read together first. Each write is a
compare-and-set on the state's version; a request that loses the race gets the winner's
state back with the refusal and places its events again on it, so concurrent requests
never share a sequence and the latest event is always the one that occurred last.

Each write also files when the shipment is next due a stalled or late alert (core/watch.py),
on the weekends-only calendar: never later than Brazil's, which the sweep applies.

An event placed but not recorded is forgotten again (`forget`): its sequence is not reused
(a gap), and a correction among them is undone. Each placed event's history item is
written (`record`) with a condition that it is not there yet: the event's dedupe claim
(ingest/accept.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from parcelhooks.core.business_days import WeekendsOnly
from parcelhooks.core.errors import EnqueueFailedError
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.observability import logger
from parcelhooks.core.shipments import ShipmentKey, ShipmentState, placed_event
from parcelhooks.core.watch import StallRules, next_due, still_relevant

# Writers of one shipment that keep colliding are rare (a shipment has a few events a
# day); past this many lost races the request fails and the carrier sends it again.
MAX_PLACE_ATTEMPTS = 8


class ShipmentStore(Protocol):
    def load(self, key: ShipmentKey) -> ShipmentState: ...

    def load_many(self, keys: Collection[ShipmentKey]) -> dict[ShipmentKey, ShipmentState]:
        """Each shipment's state (a fresh one for a shipment not seen yet), read together."""
        ...

    def save(
        self,
        key: ShipmentKey,
        state: ShipmentState,
        previous: ShipmentState,
        expires: datetime,
        *,
        order_id: str | None = None,
        due_at: datetime | None = None,
    ) -> ShipmentState | None:
        """Write `state` if the stored one is still `previous`; else return the stored one.
        `order_id`: the order the shipment is filed under (GET /v1/shipments?order_id=);
        `due_at`: when the sweep should look at it next (None: never)."""
        ...

    def record(self, event: ShipmentEvent, expires: datetime) -> ShipmentEvent | None:
        """Write the placed event's history item unless it has one (its dedupe claim): None
        when written now, else the event as stored by the request that first brought it."""
        ...


class ShipmentContentionError(RuntimeError):
    """Other requests kept winning the compare-and-set of one shipment's state."""


@dataclass
class Placement:
    """Events as placed (request order), and which ones this request placed afresh."""

    events: list[ShipmentEvent] = field(default_factory=list)
    # Shipment -> event ids this request added (a resend of a placed event adds nothing).
    added: dict[ShipmentKey, list[str]] = field(default_factory=dict)


class ShipmentBook:
    def __init__(
        self,
        store: ShipmentStore,
        retention: timedelta,
        executor: Executor | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stall_rules: StallRules | None = None,
    ) -> None:
        self._store = store
        self._stall_rules = stall_rules or StallRules()
        self._retention = retention
        # One shipment's events are placed in order; different shipments at once.
        self._executor = executor
        self._clock = clock

    def place(self, events: Sequence[ShipmentEvent]) -> Placement:
        """Place every event; if any shipment cannot be written, forget the ones that were
        and raise (nothing is queued, so the carrier sends the request again)."""
        groups: dict[ShipmentKey, list[ShipmentEvent]] = defaultdict(list)
        for event in events:
            groups[ShipmentKey.of(event)].append(event)
        try:
            stored = self._store.load_many(list(groups))
        except Exception as error:
            raise EnqueueFailedError(
                "the events could not be recorded; send the request again"
            ) from error
        outcomes = self._each(
            [(key, (group, stored[key])) for key, group in groups.items()],
            lambda key, todo: self._place_shipment(key, *todo),
        )
        placed: dict[str, ShipmentEvent] = {}
        added: dict[ShipmentKey, list[str]] = {}
        errors: list[BaseException] = []
        for key, outcome in zip(groups, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                errors.append(outcome)
                continue
            shipment_events, new_ids = outcome
            placed |= {e.event_id: e for e in shipment_events}
            if new_ids:
                added[key] = new_ids
        if errors:
            self.forget(Placement(added=added))
            raise EnqueueFailedError(
                "the events could not be recorded; send the request again"
            ) from errors[0]
        return Placement([placed[e.event_id] for e in events], added)

    def forget(self, placement: Placement, event_ids: Collection[str] | None = None) -> None:
        """Take out of their shipments' states the events this request added (all, or those
        in `event_ids`) because they were not queued. Never raises: an event left behind
        only makes a later event's previous_status or stale flag wrong, so it is logged."""
        todo = {
            key: [i for i in ids if event_ids is None or i in event_ids]
            for key, ids in placement.added.items()
        }
        todo = {key: ids for key, ids in todo.items() if ids}
        for (key, ids), outcome in zip(
            todo.items(), self._each(todo.items(), self._forget_shipment), strict=True
        ):
            if isinstance(outcome, BaseException):
                logger.error(
                    "events not queued are still in their shipment's state",
                    merchant_id=key.merchant_id,
                    carrier=key.carrier,
                    event_ids=ids,
                    error=repr(outcome),
                )

    def record(self, events: Sequence[ShipmentEvent]) -> list[ShipmentEvent | BaseException | None]:
        """Each placed event's history item, written unless it is there (one conditional
        write each, on the pool): None for one written now, the stored event for one that
        was there, the error for one that could not be written (it may have been)."""
        expires = self._clock() + self._retention
        return self._each(
            [(ShipmentKey.of(e), e) for e in events],
            lambda _key, event: self._store.record(event, expires),
        )

    def _place_shipment(
        self, key: ShipmentKey, events: list[ShipmentEvent], stored: ShipmentState
    ) -> tuple[list[ShipmentEvent], list[str]]:
        expires = self._clock() + self._retention
        # The newest order id the request's events name (a shipment belongs to one order).
        order_id = next((e.order_id for e in reversed(events) if e.order_id), None)
        for _ in range(MAX_PLACE_ATTEMPTS):
            state, placed, added = stored, [], []
            for event in events:
                before = state
                state, entry = state.place(event)
                if state is not before:
                    added.append(event.event_id)
                placed.append(placed_event(event, entry, state))
            if not added:
                return placed, added  # every event was placed already: nothing to write
            state, due_at = self._watched(key, state)
            current = self._store.save(
                key, state, stored, expires, order_id=order_id, due_at=due_at
            )
            if current is None:
                return placed, added
            stored = current  # another request won: place ours after its events
        raise ShipmentContentionError(f"{key} kept changing while its events were placed")

    def _forget_shipment(self, key: ShipmentKey, event_ids: list[str]) -> None:
        expires = self._clock() + self._retention
        stored = self._store.load(key)
        for _ in range(MAX_PLACE_ATTEMPTS):
            state, due_at = self._watched(key, stored.without(event_ids))
            current = self._store.save(key, state, stored, expires, due_at=due_at)
            if current is None:
                return
            stored = current
        raise ShipmentContentionError(f"{key} kept changing while events were taken out")

    def _watched(
        self, key: ShipmentKey, state: ShipmentState
    ) -> tuple[ShipmentState, datetime | None]:
        """The state with only its current episodes' told marks, and when it is next due."""
        rules = self._stall_rules.of(key.merchant_id)
        state = replace(state, told=still_relevant(state))
        return state, next_due(state, rules, WeekendsOnly())

    def _each[T, R](
        self,
        items: Collection[tuple[ShipmentKey, T]],
        work: Callable[[ShipmentKey, T], R],
    ) -> list[R | BaseException]:
        """`work` on every shipment, on the pool if there is one; failures as values."""
        if self._executor is None or len(items) == 1:
            outcomes: list[R | BaseException] = []
            for key, value in items:
                try:
                    outcomes.append(work(key, value))
                except Exception as error:
                    outcomes.append(error)
            return outcomes
        futures = [self._executor.submit(work, key, value) for key, value in items]
        return [f.exception() or f.result() for f in futures]
