"""Stalled and late shipments: when a shipment is due to be told `shipment.stalled` or
`shipment.late`, and what the alert says.

*Stalled*: no event for N business days in the shipment's current status (N per status,
`STALL_AFTER`; a delivered, returned or cancelled shipment never stalls). The days are
counted on the calendar of the state (UF) the shipment was last seen in, in that state's
time zone: from the day after the carrier's latest word on it (its newest event, a
correction included), whole business days; it is due at the midnight that ends the N-th.
*Late*: past the carrier's promised date (`estimated_delivery`) in the same zone, from the
first business day after it, unless delivered, returned, cancelled or waiting for the buyer
at a pickup point.

Each alert belongs to an *episode*: a stalled one to the carrier's latest word (a new event
or a correction ends it, and the count starts again from it), a late one to the promised
date (a new promise ends it). `ShipmentState.told` keeps the episodes already told, so
each is told once. Pure code: the sweep (watch/) finds due shipments and sends the alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import PlainValidator

from parcelhooks.core.brazil_zones import zone_of
from parcelhooks.core.business_days import Calendar, add_business_days, business_days_between
from parcelhooks.core.ids import is_owner_id
from parcelhooks.core.shipments import ShipmentState
from parcelhooks.core.statuses import Status

S = Status

# Business days without an event before a shipment in that status is stalled.
# available_for_pickup: Correios keep a parcel 7 calendar days (about 5 business days);
# 3 leaves the buyer time to fetch it after the merchant reminds them.
STALL_AFTER: Mapping[Status, int] = {
    S.LABEL_CREATED: 5,
    S.POSTED: 3,
    S.IN_TRANSIT: 4,
    S.OUT_FOR_DELIVERY: 1,
    S.DELIVERY_ATTEMPTED: 2,
    S.AVAILABLE_FOR_PICKUP: 3,
    S.EXCEPTION: 3,
    S.UNKNOWN: 4,
}
# The shipment's journey is over: neither stalled nor late.
FINAL = frozenset({S.DELIVERED, S.RETURNED_TO_SENDER, S.CANCELLED})
# Waiting for the buyer: not the carrier's lateness.
NEVER_LATE = FINAL | {S.AVAILABLE_FOR_PICKUP}


class AlertKind(StrEnum):
    STALLED = "stalled"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    # The episode: `stalled:<latest event's time>` or `late:<promised date>`.
    episode: str
    due: datetime
    # The latest event's time (the stall started there), and the promised date if any.
    since: datetime
    promised: date | None
    # Whole business days without an event (stalled), or business days past the promise.
    business_days: int = 0


@dataclass(frozen=True)
class StallRules:
    """Business days before a stall, per status: the stack's, and any merchant's own."""

    default: Mapping[Status, int] = field(default_factory=lambda: dict(STALL_AFTER))
    merchants: Mapping[str, Mapping[Status, int]] = field(default_factory=dict)

    def of(self, merchant_id: str) -> Mapping[Status, int]:
        return self.merchants.get(merchant_id, self.default)


def parse_rules(text: str) -> StallRules:
    """`in_transit=6,posted=2,shop-a/in_transit=8`: the defaults with these statuses' days
    replaced, for every merchant or (`merchant/`) for one, over the stack's; `0` turns a
    status's stall alert off. Raises ValueError naming what is wrong."""
    stack: dict[Status, int] = dict(STALL_AFTER)
    own: dict[str, dict[Status, int]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        scope, _, rule = part.rpartition("/")
        name, _, days = rule.partition("=")
        try:
            status = Status(name.strip())
            count = int(days)
        except ValueError:
            raise ValueError(f"not [merchant/]status=days: {part!r}") from None
        if status in FINAL or not 0 <= count <= 60:
            raise ValueError(f"{part!r}: a status that can stall, 0-60 business days")
        if scope and not is_owner_id(scope):
            raise ValueError(f"{part!r}: {scope!r} is not a merchant id")
        (own.setdefault(scope, {}) if scope else stack)[status] = count

    def kept(rules: Mapping[Status, int]) -> dict[Status, int]:
        return {status: days for status, days in rules.items() if days > 0}

    return StallRules(
        kept(stack), {merchant: kept(stack | rules) for merchant, rules in own.items()}
    )


MAX_RULES_TEXT = 512


def _stall_rules(value: object) -> StallRules:
    if isinstance(value, StallRules):
        return value
    if not isinstance(value, str) or len(value) > MAX_RULES_TEXT:
        raise ValueError(f"must be [merchant/]status=days,... in {MAX_RULES_TEXT} characters")
    return parse_rules(value)


# StalledAfterBusinessDays as a setting: read once, a bad value refused with its name.
StallRulesSetting = Annotated[StallRules, PlainValidator(_stall_rules)]


def _zone(state: ShipmentState) -> ZoneInfo:
    return ZoneInfo(zone_of(state.region).name)


def _midnight_after(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), zone)


def pending(state: ShipmentState, rules: Mapping[Status, int], calendar: Calendar) -> list[Alert]:
    """The alerts this shipment will be due (not told yet), earliest first."""
    latest = state.latest
    if latest is None or latest.status in FINAL:
        return []
    zone = _zone(state)
    since = last_activity(state)
    alerts: list[Alert] = []
    days = rules.get(latest.status)
    if days:
        last_quiet_day = add_business_days(since.astimezone(zone).date(), days, calendar)
        alerts.append(
            Alert(
                AlertKind.STALLED,
                f"stalled:{since.isoformat()}",
                _midnight_after(last_quiet_day, zone),
                since,
                state.promised,
            )
        )
    if state.promised is not None and latest.status not in NEVER_LATE:
        # Late from the first business day after the promise (a Friday's promise is late on
        # Monday, not on Saturday).
        first_late_day = add_business_days(state.promised, 1, calendar)
        alerts.append(
            Alert(
                AlertKind.LATE,
                f"late:{state.promised.isoformat()}",
                datetime.combine(first_late_day, time(), zone),
                since,
                state.promised,
            )
        )
    return sorted((a for a in alerts if a.episode not in state.told), key=lambda a: a.due)


def next_due(
    state: ShipmentState, rules: Mapping[Status, int], calendar: Calendar
) -> datetime | None:
    """When the sweep should look at this shipment next (None: nothing to tell)."""
    alerts = pending(state, rules, calendar)
    return alerts[0].due if alerts else None


def due_now(
    state: ShipmentState, now: datetime, rules: Mapping[Status, int], calendar: Calendar
) -> list[Alert]:
    """The alerts due at `now`, with the business days counted up to it."""
    zone = _zone(state)
    today = now.astimezone(zone).date()
    due: list[Alert] = []
    for alert in pending(state, rules, calendar):
        if alert.due > now:
            continue
        if alert.kind is AlertKind.STALLED:
            start = alert.since.astimezone(zone).date()
            counted = business_days_between(start, today - timedelta(days=1), calendar)
        else:
            assert alert.promised is not None
            counted = business_days_between(alert.promised, today, calendar)
        due.append(
            Alert(alert.kind, alert.episode, alert.due, alert.since, alert.promised, counted)
        )
    return due


def last_activity(state: ShipmentState) -> datetime:
    """When the carrier last said anything of the shipment: its newest event, a correction
    or a withdrawn one included (a correction restarts the count; a late scan does not)."""
    return max(e.occurred_at for e in state.entries)


def still_relevant(state: ShipmentState) -> frozenset[str]:
    """The told episodes worth keeping: those of the shipment's current episodes."""
    current = set()
    if state.entries:
        current.add(f"stalled:{last_activity(state).isoformat()}")
    if state.promised is not None:
        current.add(f"late:{state.promised.isoformat()}")
    return frozenset(state.told & current)
