"""What the sweep reads from its environment."""

from __future__ import annotations

from parcelhooks.core.settings import FunctionSettings, ResourceName
from parcelhooks.core.watch import StallRules, StallRulesSetting


class SweepSettings(FunctionSettings):
    shipments_table: ResourceName
    events_queue_url: ResourceName
    # StalledAfterBusinessDays: `[merchant/]status=days,...` over the defaults (core/watch.py),
    # the same as ingest reads to file the due times.
    stalled_after: StallRulesSetting = StallRules()
