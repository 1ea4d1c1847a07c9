"""Builds the merchant API's use cases from its settings and AWS adapters, once per container."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from parcelhooks.auth.portal import PortalAuth
from parcelhooks.aws import clients
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.cursor_key import stored_cursor_key
from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.endpoint_health_table import EndpointHealthTable
from parcelhooks.aws.pages import CursorSigner
from parcelhooks.aws.portal_table import PortalTable
from parcelhooks.aws.queues import RetryQueue
from parcelhooks.aws.secret_box import KmsSealer
from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.aws.subscriptions_table import SubscriptionsTable
from parcelhooks.delivery.public import Resolver, system_resolver
from parcelhooks.merchant_api.deliveries import DeliveryAdmin
from parcelhooks.merchant_api.settings import AdminSettings
from parcelhooks.merchant_api.shipments import Shipments
from parcelhooks.merchant_api.subscriptions import Subscriptions


@cache
def settings() -> AdminSettings:
    return AdminSettings.from_env()


def resolver() -> Resolver:
    """DNS for the URL guard (tests put a fake one here)."""
    return system_resolver


@cache
def cursors() -> CursorSigner:
    table = clients.table(settings().subscriptions_table)
    return CursorSigner(lambda: stored_cursor_key(table))


@cache
def subscriptions_table() -> SubscriptionsTable:
    return SubscriptionsTable(clients.table(settings().subscriptions_table), cursors())


@cache
def endpoint_health_table() -> EndpointHealthTable:
    return EndpointHealthTable(clients.table(settings().endpoint_health_table))


@cache
def subscriptions() -> Subscriptions:
    config = settings()
    return Subscriptions(
        subscriptions_table(),
        health=endpoint_health_table(),
        breaker=config.breaker_policy,
        policy=config.guard_policy,
        resolve=resolver(),
        max_per_merchant=config.max_subscriptions_per_merchant,
        sealer=KmsSealer(clients.kms(), config.header_secrets_key_id),
    )


@cache
def delivery_admin() -> DeliveryAdmin:
    config = settings()
    log_retention = timedelta(days=config.delivery_log_ttl_days)
    return DeliveryAdmin(
        log=DeliveryLogTable(
            clients.table(config.deliveries_table),
            log_retention,
            cursors(),
            history=shipments_table(),
            legacy_ids=config.delivery_log_legacy_ids,
        ),
        subscriptions=subscriptions(),
        resender=RetryQueue(clients.sqs(), config.retry_queue_url),
        counts=endpoint_health_table(),
        recover_window=log_retention,
    )


@cache
def shipments() -> Shipments:
    return Shipments(shipments_table())


@cache
def shipments_table() -> ShipmentsTable:
    return ShipmentsTable(clients.table(settings().shipments_table))


@cache
def portal() -> PortalAuth:
    return PortalAuth(PortalTable(clients.table(settings().portal_table)))


@cache
def api_keys() -> ApiKeysTable:
    """Read only: a merchant signs in to the portal with its key."""
    return ApiKeysTable(clients.table(settings().api_keys_table))
