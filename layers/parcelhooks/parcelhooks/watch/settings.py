"""What the sweep (and ingest, which files the due times) read about stalled shipments."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from parcelhooks.core.settings import FunctionSettings, ResourceName
from parcelhooks.core.watch import parse_rules


class SweepSettings(FunctionSettings):
    shipments_table: ResourceName
    events_queue_url: ResourceName
    # StalledAfterBusinessDays: `status=days,...` over the defaults (core/watch.py).
    stalled_after: str = Field(default="", max_length=512)

    @model_validator(mode="after")
    def _rules_read(self) -> Self:
        parse_rules(self.stalled_after)  # a bad value fails the cold start with its name
        return self
