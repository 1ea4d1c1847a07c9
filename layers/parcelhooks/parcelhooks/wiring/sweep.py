"""Builds the stalled/late sweep from its settings and AWS adapters, once per container."""

from __future__ import annotations

from functools import cache

from parcelhooks.aws import clients
from parcelhooks.aws.queues import EventsQueue
from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.watch.settings import SweepSettings
from parcelhooks.watch.sweep import Sweep


@cache
def settings() -> SweepSettings:
    return SweepSettings.from_env()


@cache
def sweep() -> Sweep:
    config = settings()
    return Sweep(
        shipments=ShipmentsTable(clients.table(config.shipments_table)),
        events=EventsQueue(clients.sqs(), config.events_queue_url),
        stall_rules=config.stalled_after,
    )
