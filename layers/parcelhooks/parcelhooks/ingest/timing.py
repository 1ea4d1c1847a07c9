"""The window of times ingest believes: when an event may have occurred, and when a
delivery may be expected, relative to the time of the request.

An event older than the event window is refused: the window is what dedupe remembers
(DuplicateWindowDays), so an old batch sent again is a duplicate or refused, never new
events with new sequence numbers. Later than `MAX_CLOCK_SKEW` is a wrong clock. An
estimated delivery may lie up to `MAX_EVENT_AGE` in the past (a late parcel keeps its old
promise) and at most `MAX_ESTIMATE_AHEAD` ahead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import ValidationInfo

MAX_EVENT_AGE = timedelta(days=365)
# The event window when the request's context names none (tests, tools): the template's
# DuplicateWindowDays default.
DEFAULT_EVENT_WINDOW = timedelta(days=30)
MAX_CLOCK_SKEW = timedelta(days=1)
MAX_ESTIMATE_AHEAD = timedelta(days=365)


def request_time(info: ValidationInfo) -> datetime:
    """The request's time, from the validation context (tests pass their clock's)."""
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return now if isinstance(now, datetime) else datetime.now(UTC)


def event_window(info: ValidationInfo) -> timedelta:
    """How long ago an event may have occurred, from the validation context."""
    context = info.context if isinstance(info.context, dict) else {}
    window = context.get("event_window")
    return window if isinstance(window, timedelta) else DEFAULT_EVENT_WINDOW


def check_occurred_at(
    value: datetime, now: datetime, window: timedelta = DEFAULT_EVENT_WINDOW
) -> datetime:
    if not now - window <= value <= now + MAX_CLOCK_SKEW:
        raise ValueError(
            f"must be at most {window.days} days before and {MAX_CLOCK_SKEW.days} day "
            f"after the time of the request ({now.isoformat(timespec='seconds')}): an older "
            "event is past what duplicate detection remembers"
        )
    return value


def check_estimate(value: date, now: datetime) -> date:
    # A date is compared as a whole day: the first and last days of the window count.
    if isinstance(value, datetime):
        inside = now - MAX_EVENT_AGE <= value <= now + MAX_ESTIMATE_AHEAD
    else:
        today = now.astimezone(UTC).date()
        inside = today - MAX_EVENT_AGE <= value <= today + MAX_ESTIMATE_AHEAD
    if not inside:
        raise ValueError(
            f"must be at most {MAX_EVENT_AGE.days} days before and {MAX_ESTIMATE_AHEAD.days} "
            f"days after the time of the request ({now.isoformat(timespec='seconds')})"
        )
    return value
