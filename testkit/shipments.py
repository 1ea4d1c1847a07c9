"""An in-memory shipments table for ingest's tests: states with a compare-and-set, history
items written only if absent (the dedupe claim), expiry by a clock, and faults on demand."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.shipments import ShipmentKey, ShipmentState


class HistoryWriteError(RuntimeError):
    """A history write that failed (throttled, timed out)."""


class MemoryShipments:
    """`fail_record`: carrier_event_ids whose history write raises (`written_anyway`: the
    write took effect before the error, as after a lost answer)."""

    def __init__(
        self,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fail_record: Collection[str] = (),
        written_anyway: bool = False,
    ) -> None:
        self.states: dict[ShipmentKey, ShipmentState] = {}
        self.history: dict[tuple[ShipmentKey, str], tuple[ShipmentEvent, datetime]] = {}
        self.saves = 0
        self._clock = clock
        self.fail_record = set(fail_record)
        self._written_anyway = written_anyway
        self._lock = threading.Lock()

    def load(self, key: ShipmentKey) -> ShipmentState:
        return self.states.get(key, ShipmentState())

    def load_many(self, keys: Collection[ShipmentKey]) -> dict[ShipmentKey, ShipmentState]:
        return {key: self.load(key) for key in keys}

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
        with self._lock:
            self.saves += 1
            current = self.load(key)
            if current.version != previous.version:
                return current
            self.states[key] = state
            return None

    def record(self, event: ShipmentEvent, expires: datetime) -> ShipmentEvent | None:
        key = (ShipmentKey.of(event), event.event_id)
        with self._lock:
            stored = self.history.get(key)
            if stored is not None and stored[1] <= self._clock():
                stored = None  # expired, as the table's TTL takes it
            failing = event.carrier_event_id in self.fail_record
            if stored is None and (not failing or self._written_anyway):
                self.history[key] = (event, expires)
            if failing:
                raise HistoryWriteError(event.carrier_event_id)
            return stored[0] if stored is not None else None

    def events(self, key: ShipmentKey) -> list[ShipmentEvent]:
        """The shipment's history, in sequence order."""
        found = [event for (k, _), (event, _) in self.history.items() if k == key]
        return sorted(found, key=lambda e: e.sequence or 0)
