"""Builds the domain objects from settings and AWS adapters, once per container."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache

from parcelhooks.aws import clients
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.idempotency_table import DeliveryMarksTable, EventClaimsTable
from parcelhooks.aws.queues import DeadLetterQueue, EventsQueue, RetryQueue
from parcelhooks.aws.subscriptions_table import SubscriptionsTable
from parcelhooks.core.settings import Settings, settings
from parcelhooks.delivery.fanout import Fanout, RetryPolicy
from parcelhooks.delivery.netguard import Resolver, system_resolver
from parcelhooks.delivery.sender import HttpSender
from parcelhooks.delivery.telemetry import PowertoolsTelemetry
from parcelhooks.ingest.accept import Ingest
from parcelhooks.merchant_api.deliveries import DeliveryAdmin
from parcelhooks.merchant_api.subscriptions import Subscriptions

AWS_WORKERS = 16


def resolver() -> Resolver:
    """DNS for the URL guard (tests put a fake one here)."""
    return system_resolver


@cache
def ingest() -> Ingest:
    config = settings()
    return Ingest(
        claims=EventClaimsTable(
            clients.table(config.idempotency_table), timedelta(days=config.idempotency_ttl_days)
        ),
        publisher=EventsQueue(clients.sqs(), config.events_queue_url),
        executor=ThreadPoolExecutor(max_workers=AWS_WORKERS, thread_name_prefix="claims"),
    )


@cache
def api_keys() -> ApiKeysTable:
    return ApiKeysTable(clients.table(settings().api_keys_table))


@cache
def subscriptions_table() -> SubscriptionsTable:
    return SubscriptionsTable(clients.table(settings().subscriptions_table))


@cache
def subscriptions() -> Subscriptions:
    config = settings()
    return Subscriptions(
        subscriptions_table(),
        policy=config.guard_policy,
        resolve=resolver(),
        max_per_merchant=config.max_subscriptions_per_merchant,
    )


@cache
def delivery_log() -> DeliveryLogTable:
    config = settings()
    return DeliveryLogTable(
        clients.table(config.deliveries_table), timedelta(days=config.delivery_log_ttl_days)
    )


@cache
def retry_queue() -> RetryQueue:
    return RetryQueue(clients.sqs(), settings().retry_queue_url)


@cache
def delivery_admin() -> DeliveryAdmin:
    return DeliveryAdmin(log=delivery_log(), subscriptions=subscriptions(), resender=retry_queue())


def build_fanout(config: Settings) -> Fanout:
    return Fanout(
        subscriptions=subscriptions_table(),
        marks=DeliveryMarksTable(
            clients.table(config.idempotency_table), timedelta(days=config.idempotency_ttl_days)
        ),
        log=delivery_log(),
        retries=retry_queue(),
        dead_letters=DeadLetterQueue(clients.sqs(), config.deliveries_dlq_url),
        sender=HttpSender(
            connect_timeout_s=config.connect_timeout_s,
            total_timeout_s=config.delivery_timeout_s,
            max_connections=config.max_concurrency,
            policy=config.guard_policy,
            resolve=resolver(),
        ),
        policy=RetryPolicy(schedule_s=config.retry_schedule_s, jitter=config.retry_jitter),
        # Only AWS calls use threads (the POSTs are on the event loop).
        executor=ThreadPoolExecutor(max_workers=AWS_WORKERS, thread_name_prefix="aws"),
        max_in_flight=config.max_concurrency,
        telemetry=PowertoolsTelemetry(),
    )


@cache
def fanout() -> Fanout:
    return build_fanout(settings())
