"""When a shipment is due shipment.stalled or shipment.late, on Brazil's business days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from parcelhooks.core.business_days import (
    BrazilCalendar,
    WeekendsOnly,
    add_business_days,
    business_days_between,
)
from parcelhooks.core.models import CarrierStatus, ShipmentEvent
from parcelhooks.core.shipments import ShipmentState
from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.core.watch import (
    STALL_AFTER,
    AlertKind,
    due_now,
    next_due,
    parse_rules,
    pending,
    still_relevant,
)
from testkit.factories import shipment_event

BRT = ZoneInfo("America/Sao_Paulo")
MANAUS = ZoneInfo("America/Manaus")


def state_after(
    status: Status, occurred: datetime, state: str | None = "SP", promised: date | None = None
) -> ShipmentState:
    event = shipment_event(
        event_id=f"evt_{occurred.timestamp():.0f}",
        status=status,
        occurred_at=occurred,
        location={"city": "X", "state": state} if state else None,
        estimated_delivery=promised,
    )
    placed, _ = ShipmentState().place(event)
    return placed


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2027, 2, 8), False),  # Carnaval Monday
        (date(2027, 2, 9), False),  # Carnaval Tuesday
        (date(2027, 2, 10), True),  # Ash Wednesday: deliveries run
        (date(2027, 4, 21), False),  # Tiradentes, national
        (date(2027, 7, 9), False),  # São Paulo's Revolução Constitucionalista
        (date(2027, 2, 13), False),  # a Saturday
        (date(2027, 7, 8), True),
    ],
)
def test_sao_paulo_s_calendar(day: date, business: bool) -> None:
    assert BrazilCalendar("SP").is_business_day(day) is business


def test_a_state_holiday_is_that_state_s_alone() -> None:
    assert BrazilCalendar("RJ").is_business_day(date(2027, 7, 9))
    assert not BrazilCalendar("RJ").is_business_day(date(2027, 4, 23))  # São Jorge, RJ
    assert BrazilCalendar("SP").is_business_day(date(2027, 4, 23))
    # No known state: the national calendar (and Carnaval).
    national = BrazilCalendar(None)
    assert national.is_business_day(date(2027, 7, 9))
    assert not national.is_business_day(date(2027, 2, 9))
    assert BrazilCalendar("XX").state is None


def test_business_days_are_counted_after_the_start() -> None:
    sp = BrazilCalendar("SP")
    assert add_business_days(date(2027, 2, 5), 4, sp) == date(2027, 2, 15)
    assert add_business_days(date(2027, 2, 5), 4, WeekendsOnly()) == date(2027, 2, 11)
    assert business_days_between(date(2027, 2, 5), date(2027, 2, 15), sp) == 4
    assert business_days_between(date(2027, 2, 15), date(2027, 2, 5), sp) == 0


def test_stalled_is_due_at_the_midnight_ending_the_last_quiet_business_day() -> None:
    state = state_after(Status.IN_TRANSIT, datetime(2027, 2, 5, 10, tzinfo=BRT))
    [stalled] = pending(state, STALL_AFTER, BrazilCalendar("SP"))
    assert stalled.kind is AlertKind.STALLED
    assert stalled.due == datetime(2027, 2, 16, tzinfo=BRT)
    # Ingest's filing, on weekdays alone, is never later than Brazil's calendar.
    assert next_due(state, STALL_AFTER, WeekendsOnly()) == datetime(2027, 2, 12, tzinfo=BRT)


def test_the_days_are_counted_in_the_zone_of_the_state_last_seen() -> None:
    # 23:30 in Manaus is already the next day in Brasília: counted from Manaus's day.
    state = state_after(Status.IN_TRANSIT, datetime(2027, 3, 1, 23, 30, tzinfo=MANAUS), "AM")
    [stalled] = pending(state, STALL_AFTER, BrazilCalendar("AM"))
    assert stalled.due == datetime(2027, 3, 6, tzinfo=MANAUS)


def test_due_now_counts_the_business_days_up_to_the_run() -> None:
    state = state_after(
        Status.IN_TRANSIT, datetime(2027, 2, 5, 10, tzinfo=BRT), promised=date(2027, 2, 10)
    )
    sp = BrazilCalendar("SP")
    assert [
        a.kind for a in due_now(state, datetime(2027, 2, 11, 8, tzinfo=BRT), STALL_AFTER, sp)
    ] == [AlertKind.LATE]
    alerts = due_now(state, datetime(2027, 2, 16, 0, 5, tzinfo=BRT), STALL_AFTER, sp)
    assert {(a.kind, a.business_days) for a in alerts} == {
        (AlertKind.LATE, 4),  # 11, 12, 15 and (today) 16 February
        (AlertKind.STALLED, 4),
    }


@pytest.mark.parametrize("status", [Status.DELIVERED, Status.RETURNED_TO_SENDER, Status.CANCELLED])
def test_a_finished_shipment_is_never_due(status: Status) -> None:
    state = state_after(status, datetime(2027, 2, 5, 10, tzinfo=BRT), promised=date(2027, 2, 1))
    assert pending(state, STALL_AFTER, BrazilCalendar("SP")) == []


def test_waiting_at_a_pickup_point_is_never_late_but_can_stall() -> None:
    state = state_after(
        Status.AVAILABLE_FOR_PICKUP, datetime(2027, 3, 1, 10, tzinfo=BRT), promised=date(2027, 2, 1)
    )
    assert [a.kind for a in pending(state, STALL_AFTER, BrazilCalendar("SP"))] == [
        AlertKind.STALLED
    ]


def test_told_episodes_are_not_due_again_and_a_new_event_starts_a_new_one() -> None:
    first = state_after(Status.IN_TRANSIT, datetime(2027, 3, 1, 9, tzinfo=BRT))
    [alert] = pending(first, STALL_AFTER, WeekendsOnly())
    told = ShipmentState(
        first.last_sequence,
        first.version,
        first.entries,
        region="SP",
        told=frozenset({alert.episode}),
    )
    assert pending(told, STALL_AFTER, WeekendsOnly()) == []
    later = shipment_event(
        event_id="evt_later",
        status=Status.IN_TRANSIT,
        occurred_at=datetime(2027, 3, 8, 9, tzinfo=BRT),
    )
    moved, _ = told.place(later)
    assert still_relevant(moved) == frozenset()
    [again] = pending(moved, STALL_AFTER, WeekendsOnly())
    assert again.episode != alert.episode


def test_a_late_scan_does_not_move_the_region_or_the_stall() -> None:
    state = state_after(Status.IN_TRANSIT, datetime(2027, 3, 8, 9, tzinfo=BRT), "RJ")
    late = shipment_event(
        event_id="evt_old",
        status=Status.IN_TRANSIT,
        occurred_at=datetime(2027, 3, 5, 9, tzinfo=BRT),
        location={"city": "Y", "state": "SP"},
    )
    placed, entry = state.place(late)
    assert entry.stale and placed.region == "RJ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", STALL_AFTER),
        ("in_transit=6,posted=2", {**STALL_AFTER, Status.IN_TRANSIT: 6, Status.POSTED: 2}),
        ("unknown=0", {s: d for s, d in STALL_AFTER.items() if s is not Status.UNKNOWN}),
    ],
)
def test_stalled_after_business_days_overrides_the_defaults(
    text: str, expected: dict[Status, int]
) -> None:
    rules = parse_rules(text)
    assert rules.default == expected
    assert rules.of("any-merchant") == expected


def test_a_merchant_s_own_days_go_over_the_stack_s() -> None:
    rules = parse_rules("shop-a/in_transit=8,in_transit=6,shop-a/posted=0,shop.b@x/unknown=2")
    assert rules.of("shop-a") == {
        s: d for s, d in {**STALL_AFTER, Status.IN_TRANSIT: 8}.items() if s is not Status.POSTED
    }
    assert rules.of("shop.b@x") == {**STALL_AFTER, Status.IN_TRANSIT: 6, Status.UNKNOWN: 2}
    assert rules.of("shop-c") == {**STALL_AFTER, Status.IN_TRANSIT: 6}


@pytest.mark.parametrize(
    "text", ["in_transit", "delivered=3", "in_transit=99", "nowhere=1", "sh op/in_transit=2"]
)
def test_a_bad_stalled_after_setting_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=text.split("=", maxsplit=1)[0]):
        parse_rules(text)


def test_every_status_that_can_stall_has_a_default() -> None:
    can_stall = set(Status) - {Status.DELIVERED, Status.RETURNED_TO_SENDER, Status.CANCELLED}
    assert set(STALL_AFTER) == can_stall
    assert all(days >= 1 for days in STALL_AFTER.values())


def test_weekdays_alone_are_never_later_than_any_state_s_calendar() -> None:
    start = datetime(2027, 1, 1, 12, tzinfo=BRT)
    for offset in range(0, 365, 3):
        state = state_after(Status.IN_TRANSIT, start + timedelta(days=offset), "BA")
        early = next_due(state, STALL_AFTER, WeekendsOnly())
        precise = next_due(state, STALL_AFTER, BrazilCalendar("BA"))
        assert early is not None and precise is not None and early <= precise


def _event(event_id: str, occurred: datetime, **fields: object) -> ShipmentEvent:
    return shipment_event(
        event_id=event_id, status=Status.IN_TRANSIT, occurred_at=occurred, **fields
    )


def test_a_late_scan_s_older_promise_does_not_replace_the_newest_one() -> None:
    state, _ = ShipmentState().place(
        _event("evt_new", datetime(2027, 3, 8, 9, tzinfo=BRT), estimated_delivery=date(2027, 3, 10))
    )
    state, entry = state.place(
        _event("evt_old", datetime(2027, 3, 5, 9, tzinfo=BRT), estimated_delivery=date(2027, 3, 5))
    )
    assert entry.stale and state.promised == date(2027, 3, 10)


def test_a_forgotten_event_takes_its_promise_and_state_with_it() -> None:
    state, _ = ShipmentState().place(
        _event("evt_1", datetime(2027, 3, 1, 9, tzinfo=BRT), location={"state": "SP"})
    )
    state, _ = state.place(
        _event(
            "evt_2",
            datetime(2027, 3, 2, 9, tzinfo=BRT),
            estimated_delivery=date(2027, 3, 3),
            location={"state": "AM"},
        )
    )
    assert (state.promised, state.region) == (date(2027, 3, 3), "AM")
    forgotten = state.without(["evt_2"])
    assert (forgotten.promised, forgotten.region) == (None, "SP")


def test_a_withdrawn_event_s_promise_no_longer_counts() -> None:
    state, _ = ShipmentState().place(
        _event("evt_1", datetime(2027, 3, 1, 9, tzinfo=BRT), estimated_delivery=date(2027, 3, 9))
    )
    state, _ = state.place(
        _event("evt_2", datetime(2027, 3, 2, 9, tzinfo=BRT), estimated_delivery=date(2027, 3, 3))
    )
    correction = _event(
        "evt_est",
        datetime(2027, 3, 2, 10, tzinfo=BRT),
        status_detail=StatusDetail.CORRECTION,
        carrier_status=CarrierStatus(type="EST", code="01"),
    )
    state, _ = state.place(correction)
    assert state.promised == date(2027, 3, 9)


def test_a_correction_after_a_told_stall_starts_a_new_episode_from_it() -> None:
    state, _ = ShipmentState().place(_event("evt_p", datetime(2027, 3, 1, 9, tzinfo=BRT)))
    [told] = pending(state, STALL_AFTER, WeekendsOnly())
    state = replace(state, told=frozenset({told.episode}))
    state, _ = state.place(_event("evt_a", datetime(2027, 3, 8, 9, tzinfo=BRT)))
    state = replace(state, told=still_relevant(state))
    correction = _event(
        "evt_est",
        datetime(2027, 3, 8, 11, tzinfo=BRT),
        status_detail=StatusDetail.CORRECTION,
        carrier_status=CarrierStatus(type="EST", code="01"),
    )
    state, _ = state.place(correction)
    [again] = pending(state, STALL_AFTER, WeekendsOnly())
    assert again.episode != told.episode
    assert again.since == datetime(2027, 3, 8, 11, tzinfo=BRT)


def test_a_friday_promise_is_late_on_the_next_business_day() -> None:
    state = state_after(
        Status.IN_TRANSIT, datetime(2027, 3, 1, 9, tzinfo=BRT), promised=date(2027, 3, 5)
    )
    sp = BrazilCalendar("SP")
    late = next(a for a in pending(state, STALL_AFTER, sp) if a.kind is AlertKind.LATE)
    assert late.due == datetime(2027, 3, 8, tzinfo=BRT)
    [told] = [
        a
        for a in due_now(state, datetime(2027, 3, 8, 0, 5, tzinfo=BRT), STALL_AFTER, sp)
        if a.kind is AlertKind.LATE
    ]
    assert told.business_days == 1


def test_a_promised_time_is_its_day_in_the_state_s_zone() -> None:
    # 02:00 UTC on the 6th is still the 5th in Manaus.
    state = state_after(
        Status.IN_TRANSIT,
        datetime(2027, 3, 1, 9, tzinfo=MANAUS),
        "AM",
        promised=datetime(2027, 3, 6, 2, tzinfo=ZoneInfo("UTC")),
    )
    assert state.promised == date(2027, 3, 5)
