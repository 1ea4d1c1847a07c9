"""The sweep: every shipment due a `shipment.stalled` or `shipment.late`, told once.

A scheduled run asks the store for the shipments whose filed due time has come (an index
keyed by due time: the run reads only those, never the whole table), counts each on
Brazil's calendar for its state (core/business_days.py), and for each alert due queues an
event built from the shipment's latest event: the same queue, signing, delivery log and
retries as a carrier's events. Then it writes down the episodes told and the next due time,
with a compare-and-set on the shipment's state.

At least once, never twice to a merchant: the alert's event id comes from the shipment and
the episode, so a run that dies after queueing and before writing down queues the same
event again, and the fan-out's delivery log sends each delivery once. A shipment whose
ingest-filed time came before its holidays are counted is filed again, for the right time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from parcelhooks.core.business_days import BrazilCalendar
from parcelhooks.core.ids import operational_event_id
from parcelhooks.core.models import ShipmentAlert, ShipmentEvent
from parcelhooks.core.observability import logger
from parcelhooks.core.shipments import Entry, ShipmentKey, ShipmentState
from parcelhooks.core.watch import Alert, StallRules, due_now, next_due

# Shipments looked at per shard per run; more wait for the next run, earliest first.
MAX_PER_RUN = 500
# A shipment due an alert whose latest event is not in the history yet is looked at again.
HISTORY_WAIT = timedelta(minutes=5)


class DueShipments(Protocol):
    def due_states(self, now: datetime, limit: int) -> list[tuple[ShipmentKey, ShipmentState]]:
        """The shipments filed as due at or before `now`, with their states."""
        ...

    def latest_events(
        self, wanted: Sequence[tuple[ShipmentKey, Entry]]
    ) -> dict[tuple[ShipmentKey, str], ShipmentEvent]:
        """The recorded events of these (shipment, entry), by event id: those the history
        still has."""
        ...

    def mark(self, key: ShipmentKey, state: ShipmentState, due_at: datetime | None) -> bool:
        """Write `state.told` and the next due time if the stored state is still
        `state.version`; False when an event changed the shipment meanwhile."""
        ...


class EventSink(Protocol):
    def publish(self, events: Sequence[ShipmentEvent]) -> list[str]:
        """Queue the events; the ids of those the queue kept refusing."""
        ...


@dataclass(frozen=True)
class SweepResult:
    looked_at: int
    told: dict[str, int]
    refiled: int
    changed_meanwhile: int


def alert_event_id(key: ShipmentKey, alert: Alert) -> str:
    """The same episode of the same shipment is always the same event."""
    shipment = f"{key.merchant_id}#{key.carrier}#{key.tracking_code}"
    return operational_event_id(f"shipment.{alert.kind.value}", f"{shipment}#{alert.episode}")


def alert_event(
    key: ShipmentKey, latest: ShipmentEvent, alert: Alert, now: datetime
) -> ShipmentEvent:
    """The shipment's latest event, told again as the alert: it occurred when it became due."""
    return latest.model_copy(
        update={
            "event_id": alert_event_id(key, alert),
            "occurred_at": alert.due.astimezone(UTC),
            "occurred_at_zone": None,
            "received_at": now,
            "stale": False,
            "correction": False,
            "corrects": None,
            "alert": ShipmentAlert(
                kind=alert.kind.value,
                stalled_since=alert.since,
                promised=alert.promised,
                business_days=alert.business_days,
            ),
        }
    )


class Sweep:
    def __init__(
        self,
        shipments: DueShipments,
        events: EventSink,
        stall_rules: StallRules,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._shipments = shipments
        self._events = events
        self._rules = stall_rules
        self._clock = clock

    def run(self, now: datetime | None = None) -> SweepResult:
        """Tell what is due at `now` (the scheduled time of the run; the clock's if None)."""
        now = now or self._clock()
        found = self._shipments.due_states(now, MAX_PER_RUN)
        plans = [
            (key, state, due_now(state, now, self._rules.of(key.merchant_id), _calendar(state)))
            for key, state in found
        ]
        wanted = [(key, s.latest) for key, s, alerts in plans if alerts and s.latest]
        latest = self._shipments.latest_events(wanted)
        told: dict[str, int] = {"stalled": 0, "late": 0}
        refiled = changed = 0
        outgoing: list[tuple[ShipmentKey, ShipmentState, list[Alert], list[ShipmentEvent]]] = []
        for key, state, alerts in plans:
            event = latest.get((key, state.latest.event_id)) if state.latest else None
            if alerts and event is None:
                # Ingest writes an event's history just after its state: it is not there yet
                # (or it was never written, or, long after, it expired). Nothing to build
                # the alert from: look again later, the episodes still untold.
                logger.warning("alert without its latest event yet", shipment=str(key))
                if not self._shipments.mark(key, state, now + HISTORY_WAIT):
                    changed += 1
                refiled += 1
                continue
            events = [alert_event(key, event, a, now) for a in alerts] if event else []
            outgoing.append((key, state, alerts, events))
        refused = set(self._events.publish([e for *_, events in outgoing for e in events]))
        for key, state, alerts, events in outgoing:
            if any(e.event_id in refused for e in events):
                continue  # not told: the next run tries again
            marked = replace(state, told=state.told | {a.episode for a in alerts})
            rules = self._rules.of(key.merchant_id)
            if not self._shipments.mark(key, marked, next_due(marked, rules, _calendar(state))):
                changed += 1
            for alert in alerts:
                told[alert.kind.value] += 1
            refiled += not alerts
        result = SweepResult(len(found), told, refiled, changed)
        logger.info(
            "sweep", looked_at=result.looked_at, told=told, refiled=refiled, changed=changed
        )
        return result


def _calendar(state: ShipmentState) -> BrazilCalendar:
    return BrazilCalendar(state.region)
