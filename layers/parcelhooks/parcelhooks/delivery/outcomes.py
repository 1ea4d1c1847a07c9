"""What an attempt's result means for the delivery: done, try again, or stop for good."""

from datetime import datetime
from email.utils import parsedate_to_datetime

from parcelhooks.core.attempts import AttemptResult
from parcelhooks.core.deliveries import Outcome

__all__ = [
    "GONE",
    "HONOURS_RETRY_AFTER",
    "UNEXPECTED_ERROR",
    "AttemptResult",
    "classify",
    "retry_after_s",
]

GONE = 410
HONOURS_RETRY_AFTER = frozenset({429, 503})
# A send failed in a way no error class foresaw; the traceback is in the function's log.
UNEXPECTED_ERROR = "unexpected_error"


def classify(result: AttemptResult) -> Outcome:
    code = result.status_code
    if code is None:
        return Outcome.RETRY
    if 200 <= code < 300:
        return Outcome.DELIVERED
    if code == GONE:
        return Outcome.DISABLE
    return Outcome.RETRY


def retry_after_s(result: AttemptResult, now: datetime) -> float | None:
    """Seconds a 429/503 asked us to wait (delta-seconds or HTTP-date), else None."""
    if result.status_code not in HONOURS_RETRY_AFTER or not result.retry_after:
        return None
    value = result.retry_after.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
