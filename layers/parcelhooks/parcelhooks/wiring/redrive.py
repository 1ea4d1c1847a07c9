"""Builds the redrive from its settings and AWS adapters, once per container."""

from __future__ import annotations

from functools import cache

from parcelhooks.aws import clients
from parcelhooks.aws.dead_letters import DeadLetterReader
from parcelhooks.aws.queues import EventsQueue, RetryQueue
from parcelhooks.aws.subscriptions_table import SubscriptionsTable
from parcelhooks.ops.redrive import Redrive
from parcelhooks.ops.settings import RedriveSettings


@cache
def settings() -> RedriveSettings:
    return RedriveSettings.from_env()


def _dead_letters(queue: str) -> DeadLetterReader:
    config = settings()
    url = config.deliveries_dlq_url if queue == "deliveries" else config.events_dlq_url
    return DeadLetterReader(clients.sqs(), url, config.dead_letter_hold_s)


@cache
def redrive() -> Redrive:
    config = settings()
    return Redrive(
        dead_letters=_dead_letters,
        events=EventsQueue(clients.sqs(), config.events_queue_url),
        retries=RetryQueue(clients.sqs(), config.retry_queue_url),
        subscriptions=SubscriptionsTable(clients.table(config.subscriptions_table)),
    )
