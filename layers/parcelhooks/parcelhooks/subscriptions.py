"""Merchant subscriptions: create, list, get, delete — always scoped to the key's owner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from parcelhooks.errors import ApiError, ErrorCode
from parcelhooks.ids import new_subscription_id
from parcelhooks.models import Subscription, SubscriptionIn, SubscriptionOut, SubscriptionPage
from parcelhooks.netguard import GuardPolicy, Resolver, UnsafeTargetError, system_resolver, vet
from parcelhooks.signing import generate_secret

DEFAULT_PAGE_SIZE = 50


class SubscriptionStore(Protocol):
    def put(self, subscription: Subscription) -> None: ...

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Subscription], str | None]: ...

    def delete(self, merchant_id: str, subscription_id: str) -> bool: ...


def to_out(subscription: Subscription, *, with_secret: bool = False) -> SubscriptionOut:
    return SubscriptionOut(
        id=subscription.id,
        url=subscription.url,
        event_types=subscription.event_types,
        description=subscription.description,
        enabled=subscription.enabled,
        disabled_reason=subscription.disabled_reason,
        disabled_at=subscription.disabled_at,
        created_at=subscription.created_at,
        secret=subscription.secrets[0] if with_secret else None,
    )


class Subscriptions:
    def __init__(
        self,
        store: SubscriptionStore,
        *,
        policy: GuardPolicy,
        resolve: Resolver = system_resolver,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._policy = policy
        self._resolve = resolve
        self._clock = clock

    def create(self, merchant_id: str, request: SubscriptionIn) -> SubscriptionOut:
        self._check_url(request.url)
        subscription = Subscription(
            id=new_subscription_id(),
            merchant_id=merchant_id,
            url=request.url,
            event_types=sorted(set(request.event_types)),
            description=request.description,
            enabled=True,
            secrets=[generate_secret()],
            created_at=self._clock(),
        )
        self._store.put(subscription)
        return to_out(subscription, with_secret=True)

    def list(self, merchant_id: str, limit: int, cursor: str | None) -> SubscriptionPage:
        items, next_cursor = self._store.page(merchant_id, limit, cursor)
        return SubscriptionPage(data=[to_out(s) for s in items], next_cursor=next_cursor)

    def get(self, merchant_id: str, subscription_id: str) -> SubscriptionOut:
        return to_out(self._require(merchant_id, subscription_id))

    def delete(self, merchant_id: str, subscription_id: str) -> None:
        if not self._store.delete(merchant_id, subscription_id):
            raise _not_found(subscription_id)

    def _check_url(self, url: str) -> None:
        try:
            vet(url, self._policy, self._resolve)
        except UnsafeTargetError as error:
            raise ApiError(
                400,
                ErrorCode.VALIDATION_FAILED,
                "the subscription url may not receive webhooks",
                [{"loc": "url", "message": p, "type": "unsafe_url"} for p in error.problems],
            ) from None

    def _require(self, merchant_id: str, subscription_id: str) -> Subscription:
        subscription = self._store.get(merchant_id, subscription_id)
        if subscription is None:
            raise _not_found(subscription_id)
        return subscription


def _not_found(subscription_id: str) -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, f"no subscription {subscription_id}")
