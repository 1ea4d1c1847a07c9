"""Builds the ingest flow from its settings and AWS adapters, once per container."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

from parcelhooks.aws import clients
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.queues import EventsQueue
from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.ingest.accept import Ingest
from parcelhooks.ingest.merchants import MerchantGate
from parcelhooks.ingest.settings import IngestSettings
from parcelhooks.ingest.shipments import ShipmentBook

# A request's history items are one conditional write each: a pool overlaps them.
WRITE_WORKERS = 16


@cache
def settings() -> IngestSettings:
    return IngestSettings.from_env()


@cache
def ingest() -> Ingest:
    config = settings()
    pool = ThreadPoolExecutor(max_workers=WRITE_WORKERS, thread_name_prefix="shipments")
    return Ingest(
        publisher=EventsQueue(clients.sqs_single_attempt(), config.events_queue_url),
        shipments=ShipmentBook(
            ShipmentsTable(clients.table(config.shipments_table)),
            retention=config.shipment_retention,
            executor=pool,
            stall_rules=config.stalled_after,
        ),
    )


@cache
def merchant_gate() -> MerchantGate:
    return MerchantGate(ApiKeysTable(clients.table(settings().api_keys_table)))
