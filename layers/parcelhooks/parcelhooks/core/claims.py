"""An event's claim in the Idempotency table: who took a carrier's event id, and how far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Claim:
    event_id: str
    # Its event was queued; a claim still pending is another request at work, or a crashed one.
    confirmed: bool
    claimed_at: datetime
