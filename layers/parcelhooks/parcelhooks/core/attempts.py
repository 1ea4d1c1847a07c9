"""What one attempt to reach a destination came back with, and the e-mail an e-mail
destination sends: values the fan-out and its adapters (HTTP, SES) pass each other."""

from __future__ import annotations

import math
from dataclasses import dataclass

from parcelhooks.core.deliveries import MAX_STATUS, MIN_STATUS, is_valid_status


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one POST to a receiver (or one SES SendEmail) came back with."""

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


@dataclass(frozen=True, slots=True)
class EmailPlan:
    """An e-mail as rendered for one delivery: its recipients, subject and bodies."""

    to: tuple[str, ...]
    subject: str
    text: str | None
    html: str | None
