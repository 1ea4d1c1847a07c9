"""Events accepted with a carrier code that is not in the table (status `unknown`).

They are delivered, not refused; each one newly queued is told to telemetry, with the
vocabulary its code was read in (the key's, or a raw object's carrier's), so that table
(ingest/correios.py, ingest/carriers/) can be extended with the codes carriers really
send. Repeats and duplicates are not told again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.events import CarrierEventIn, IngestResponse


class IngestTelemetry(Protocol):
    def unmapped_carrier_status(
        self, carrier: str, vocabulary: Vocabulary, event: CarrierEventIn
    ) -> None:
        """One event queued with a carrier code its vocabulary's table does not map."""
        ...


def report_unmapped(
    carrier: str,
    events: Sequence[CarrierEventIn],
    response: IngestResponse,
    telemetry: IngestTelemetry,
) -> int:
    """Tell telemetry of each event newly queued as `unknown`; how many were told."""
    told = 0
    # The answer lists the events in request order, a repeat marked as a duplicate.
    for event, answer in zip(events, response.events, strict=True):
        if event.status is Status.UNKNOWN and not answer.duplicate:
            telemetry.unmapped_carrier_status(carrier, event.code_vocabulary, event)
            told += 1
    return told
