"""What another flow may use of ingest, and nothing more.

The merchant API looks shipments up by the tracking code ingest stored, so it normalises a
code with the same function, and its OpenAPI document describes the carrier route's bodies.
Everything else in ingest/ is the ingest function's own.
"""

from parcelhooks.ingest.events import CarrierEventBatchIn, CarrierEventIn, IngestResponse
from parcelhooks.ingest.tracking_codes import TRACKING_CODE_RULE, check_tracking_code

__all__ = [
    "TRACKING_CODE_RULE",
    "CarrierEventBatchIn",
    "CarrierEventIn",
    "IngestResponse",
    "check_tracking_code",
]
