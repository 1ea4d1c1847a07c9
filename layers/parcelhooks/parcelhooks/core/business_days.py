"""Brazil's business days: weekdays that are neither a national holiday, a holiday of the
state (UF) the count is made in, nor Carnaval's Monday and Tuesday.

Holidays come from the `holidays` library (national and state public holidays, kept up to
date there). Carnaval is not a public holiday by law but a *ponto facultativo*; carriers,
the Correios included, do not deliver on its Monday and Tuesday, so they do not count. Ash
Wednesday, Corpus Christi and the other optional days do count (deliveries run).

The library is imported only when a Brazilian calendar is first used (by the sweep): ingest
files a shipment's next due time on the weekends-only calendar, which is never later than
this one, and the sweep puts it right.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from typing import Protocol

SATURDAY = 5
CARNAVAL = "Carnaval"


class Calendar(Protocol):
    def is_business_day(self, day: date) -> bool: ...


class WeekendsOnly:
    """Every weekday is a business day: the earliest any Brazilian calendar can be due."""

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY


class BrazilCalendar:
    """Weekdays less Brazil's national holidays, the state's, and Carnaval."""

    def __init__(self, state: str | None) -> None:
        self.state = state if state in states() else None

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and day not in _days_off(self.state, day.year)

    def holidays(self, year: int) -> frozenset[date]:
        return _days_off(self.state, year)


@cache
def states() -> frozenset[str]:
    """The UFs the holiday library knows."""
    from holidays.countries.brazil import Brazil  # noqa: PLC0415 - the sweep's alone

    return frozenset(s for s in Brazil.subdivisions if len(s) == 2)


@cache
def _days_off(state: str | None, year: int) -> frozenset[date]:
    from holidays import OPTIONAL, PUBLIC  # noqa: PLC0415 - the sweep's alone
    from holidays.countries.brazil import Brazil  # noqa: PLC0415

    public = Brazil(subdiv=state, years=year, categories=(PUBLIC,))
    optional = Brazil(subdiv=state, years=year, categories=(OPTIONAL,))
    carnaval = [day for day, name in optional.items() if name == CARNAVAL]
    return frozenset([*public.keys(), *carnaval])


def add_business_days(start: date, count: int, calendar: Calendar) -> date:
    """The `count`-th business day after `start` (`start` itself not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            remaining -= 1
    return day


def business_days_between(start: date, end: date, calendar: Calendar) -> int:
    """Business days after `start` up to and including `end` (0 when `end` <= `start`)."""
    return sum(1 for day in _days(start, end) if calendar.is_business_day(day))


def _days(start: date, end: date) -> Iterable[date]:
    day = start + timedelta(days=1)
    while day <= end:
        yield day
        day += timedelta(days=1)
