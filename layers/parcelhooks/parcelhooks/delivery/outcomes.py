"""What an attempt's result means for the delivery: done, try again, or stop for good."""

import math
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from parcelhooks.core.deliveries import MAX_STATUS, MIN_STATUS, Outcome, is_valid_status

GONE = 410
HONOURS_RETRY_AFTER = frozenset({429, 503})
# A send failed in a way no error class foresaw; the traceback is in the function's log.
UNEXPECTED_ERROR = "unexpected_error"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one POST to a receiver came back with."""

    status_code: int | None
    latency_ms: float
    error: str | None = None
    response_excerpt: str = ""
    retry_after: str | None = None

    def __post_init__(self) -> None:
        # Refused here, a value the log cannot store never reaches the fan-out's bookkeeping.
        if self.status_code is not None and not is_valid_status(self.status_code):
            raise ValueError(f"status {self.status_code} is outside {MIN_STATUS}-{MAX_STATUS}")
        if not (math.isfinite(self.latency_ms) and self.latency_ms >= 0):
            raise ValueError(f"latency {self.latency_ms} ms is not a finite duration")


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
