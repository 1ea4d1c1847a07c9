"""Builds the ingest flow from its settings and AWS adapters, once per container."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache

from parcelhooks.aws import clients
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.idempotency_table import EventClaimsTable
from parcelhooks.aws.queues import EventsQueue
from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.ingest.accept import Ingest
from parcelhooks.ingest.merchants import MerchantGate
from parcelhooks.ingest.settings import IngestSettings
from parcelhooks.ingest.shipments import ShipmentBook

CLAIM_WORKERS = 16


@cache
def settings() -> IngestSettings:
    return IngestSettings.from_env()


@cache
def ingest() -> Ingest:
    config = settings()
    # Claims and shipments are one round trip each, for up to 100 events: a pool overlaps them.
    pool = ThreadPoolExecutor(max_workers=CLAIM_WORKERS, thread_name_prefix="claims")
    return Ingest(
        claims=EventClaimsTable(clients.table(config.idempotency_table), config.claim_memory),
        publisher=EventsQueue(clients.sqs_single_attempt(), config.events_queue_url),
        executor=pool,
        shipments=ShipmentBook(
            ShipmentsTable(clients.table(config.shipments_table)),
            retention=timedelta(days=config.shipment_ttl_days),
            executor=pool,
            stall_rules=config.stalled_after,
        ),
    )


@cache
def merchant_gate() -> MerchantGate:
    return MerchantGate(ApiKeysTable(clients.table(settings().api_keys_table)))
