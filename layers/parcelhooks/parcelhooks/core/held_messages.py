"""A message a dead-letter queue gave one redrive run, hidden from every other reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A dead letter received by this run, invisible to others until released or deleted."""

    body: str
    handle: str
    sent_at: datetime
