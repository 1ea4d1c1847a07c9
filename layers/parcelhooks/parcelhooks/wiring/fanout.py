"""Builds the fan-out from its settings and AWS adapters, once per container."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache

from parcelhooks.aws import clients
from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.endpoint_health_table import EndpointHealthTable
from parcelhooks.aws.queues import DeadLetterQueue, EventsQueue, RetryQueue
from parcelhooks.aws.secret_box import KmsOpener
from parcelhooks.aws.ses_mailer import SesMailer
from parcelhooks.aws.subscriptions_table import SubscriptionsTable
from parcelhooks.delivery.fanout import Fanout, RetryPolicy, utcnow
from parcelhooks.delivery.gate import EndpointGate
from parcelhooks.delivery.http.netguard import Resolver, system_resolver
from parcelhooks.delivery.http.sender import HttpSender
from parcelhooks.delivery.settings import FanoutSettings
from parcelhooks.delivery.settlement import Bookkeeping
from parcelhooks.delivery.telemetry import PowertoolsTelemetry

# Only AWS calls use threads (the POSTs are on the event loop).
AWS_WORKERS = 16


@cache
def settings() -> FanoutSettings:
    return FanoutSettings.from_env()


def resolver() -> Resolver:
    """DNS for the URL guard (tests put a fake one here)."""
    return system_resolver


def build_fanout(config: FanoutSettings) -> Fanout:
    executor = ThreadPoolExecutor(max_workers=AWS_WORKERS, thread_name_prefix="aws")
    gate = EndpointGate(
        EndpointHealthTable(clients.table(config.endpoint_health_table)),
        config.breaker_policy,
        delivery_timeout_s=config.delivery_timeout_s,
        executor=executor,
        clock=utcnow,
        invocations=config.invocations,
    )
    books = Bookkeeping(
        subscriptions=SubscriptionsTable(clients.table(config.subscriptions_table)),
        # The log's lines that end a delivery are what keeps it from being sent twice.
        log=DeliveryLogTable(
            clients.table(config.deliveries_table),
            timedelta(days=config.delivery_log_ttl_days),
            history_kept=timedelta(days=config.shipment_ttl_days),
            legacy_ids=config.delivery_log_legacy_ids,
        ),
        retries=RetryQueue(clients.sqs(), config.retry_queue_url),
        dead_letters=DeadLetterQueue(clients.sqs(), config.deliveries_dlq_url),
        notices=EventsQueue(clients.sqs(), config.events_queue_url),
        counts=gate,
        clock=utcnow,
    )
    return Fanout(
        books=books,
        sender=HttpSender(
            connect_timeout_s=config.connect_timeout_s,
            total_timeout_s=config.delivery_timeout_s,
            max_connections=config.delivery_concurrency,
            policy=config.guard_policy,
            resolve=resolver(),
        ),
        mailer=SesMailer(clients.ses(), config.email_from_address, executor),
        secrets=KmsOpener(clients.kms()),
        gate=gate,
        policy=RetryPolicy(schedule_s=config.retry_schedule_s, jitter=config.retry_jitter),
        executor=executor,
        concurrency=config.delivery_concurrency,
        telemetry=PowertoolsTelemetry(),
    )


@cache
def fanout() -> Fanout:
    return build_fanout(settings())
