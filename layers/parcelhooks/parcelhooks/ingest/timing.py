"""The window of times ingest believes: when an event may have occurred, and when a
delivery may be expected, relative to the time of the request.

Older than `MAX_EVENT_AGE` is a replay or a bug, not tracking news; later than
`MAX_CLOCK_SKEW`, a wrong clock. An estimated delivery may lie as far in the past as an
event (a late parcel keeps its old promise) and at most `MAX_ESTIMATE_AHEAD` ahead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import ValidationInfo

MAX_EVENT_AGE = timedelta(days=365)
MAX_CLOCK_SKEW = timedelta(days=1)
MAX_ESTIMATE_AHEAD = timedelta(days=365)


def request_time(info: ValidationInfo) -> datetime:
    """The request's time, from the validation context (tests pass their clock's)."""
    context = info.context if isinstance(info.context, dict) else {}
    now = context.get("now")
    return now if isinstance(now, datetime) else datetime.now(UTC)


def check_occurred_at(value: datetime, now: datetime) -> datetime:
    if not now - MAX_EVENT_AGE <= value <= now + MAX_CLOCK_SKEW:
        raise ValueError(
            f"must be at most {MAX_EVENT_AGE.days} days before and {MAX_CLOCK_SKEW.days} day "
            f"after the time of the request ({now.isoformat(timespec='seconds')})"
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
