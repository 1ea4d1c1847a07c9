"""Merchant subscriptions: create, list, get, update, delete, rotate — scoped to the key's owner.

Every call takes the merchant id from the caller's key; another merchant's
subscription is simply not found, never forbidden, so ids leak nothing. An answer about
one subscription carries its endpoint's health, read from the record the fan-out keeps;
re-enabling one resets its circuit breaker there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from parcelhooks.core.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    ValidationFailedError,
)
from parcelhooks.core.health import BreakerPolicy, EndpointHealth
from parcelhooks.core.ids import new_subscription_id
from parcelhooks.core.models import SigningSecret, Subscription
from parcelhooks.delivery.public import (
    SECRET_PREFIX,
    GuardPolicy,
    Resolver,
    UnsafeTargetError,
    generate_secret,
    health_state,
    system_resolver,
    vet,
)
from parcelhooks.merchant_api.models import (
    EndpointHealthOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
)

ROTATION_OVERLAP = timedelta(hours=24)
MASK_VISIBLE_CHARS = 4
DISABLED_BY_MERCHANT = "disabled by the merchant"


class SubscriptionStore(Protocol):
    def put(self, subscription: Subscription) -> None: ...

    def replace(self, subscription: Subscription, previous: Subscription) -> bool:
        """Write only if nothing changed it since `previous` was read."""
        ...

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Subscription], str | None]: ...

    def count(self, merchant_id: str) -> int: ...

    def delete(self, merchant_id: str, subscription_id: str) -> bool: ...


class EndpointHealthStore(Protocol):
    """The fan-out's shared record of each endpoint (aws/endpoint_health_table.py)."""

    def read(self, subscription_id: str) -> EndpointHealth: ...

    def reset_breaker(self, subscription_id: str) -> None: ...


def mask_secret(secret: str) -> str:
    """Enough to tell two secrets apart, not enough to sign with."""
    visible = secret.removeprefix(SECRET_PREFIX)[:MASK_VISIBLE_CHARS]
    return f"{SECRET_PREFIX}{visible}{'*' * 8}"


def health_out(
    subscription: Subscription, health: EndpointHealth, policy: BreakerPolicy
) -> EndpointHealthOut:
    return EndpointHealthOut(
        state=health_state(subscription, health, policy),
        failing_since=health.failing_since,
        consecutive_failures=health.consecutive_failures,
        last_success_at=health.last_success_at,
        last_failure_at=health.last_failure_at,
        # Counts kept beside the queues can drift below zero after a crash: none is none.
        held=max(0, health.held),
        pending=max(0, health.pending),
    )


def to_out(
    subscription: Subscription,
    *,
    with_secret: bool = False,
    health: EndpointHealthOut | None = None,
) -> SubscriptionOut:
    newest = subscription.secrets[0].secret
    return SubscriptionOut(
        id=subscription.id,
        url=subscription.url,
        event_types=subscription.event_types,
        description=subscription.description,
        enabled=subscription.enabled,
        disabled_reason=subscription.disabled_reason,
        disabled_at=subscription.disabled_at,
        include_stale=subscription.include_stale,
        max_in_flight=subscription.max_in_flight,
        rate_limit_per_second=subscription.rate_limit_per_second,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
        secret=newest if with_secret else mask_secret(newest),
        health=health,
    )


class Subscriptions:
    def __init__(
        self,
        store: SubscriptionStore,
        *,
        health: EndpointHealthStore,
        breaker: BreakerPolicy,
        policy: GuardPolicy,
        resolve: Resolver = system_resolver,
        max_per_merchant: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._health = health
        self._breaker = breaker
        self._policy = policy
        self._resolve = resolve
        self._max_per_merchant = max_per_merchant
        self._clock = clock

    def create(self, merchant_id: str, request: SubscriptionIn) -> SubscriptionOut:
        self._check_url(request.url)
        if self._store.count(merchant_id) >= self._max_per_merchant:
            raise LimitReachedError(
                f"a merchant may have at most {self._max_per_merchant} subscriptions; "
                "delete one first",
            )
        subscription = Subscription(
            id=new_subscription_id(),
            merchant_id=merchant_id,
            url=request.url,
            event_types=sorted(set(request.event_types)),
            description=request.description,
            enabled=True,
            include_stale=request.include_stale,
            max_in_flight=request.max_in_flight,
            rate_limit_per_second=request.rate_limit_per_second,
            secrets=[SigningSecret(secret=generate_secret())],
            created_at=self._clock(),
        )
        self._store.put(subscription)
        # A new endpoint has no record yet: healthy, nothing held or pending.
        fresh = health_out(subscription, EndpointHealth(), self._breaker)
        return to_out(subscription, with_secret=True, health=fresh)

    def list(self, merchant_id: str, limit: int, cursor: str | None) -> SubscriptionPage:
        items, next_cursor = self._store.page(merchant_id, limit, cursor)
        return SubscriptionPage(data=[to_out(s) for s in items], next_cursor=next_cursor)

    def get(self, merchant_id: str, subscription_id: str) -> SubscriptionOut:
        return self._with_health(self.require(merchant_id, subscription_id))

    def update(
        self, merchant_id: str, subscription_id: str, patch: SubscriptionPatch
    ) -> SubscriptionOut:
        current = self.require(merchant_id, subscription_id)
        now = self._clock()
        changes: dict[str, object] = {"updated_at": now}
        if patch.url is not None:
            self._check_url(patch.url)
            changes["url"] = patch.url
        if patch.event_types is not None:
            changes["event_types"] = sorted(set(patch.event_types))
        if "description" in patch.model_fields_set:
            changes["description"] = patch.description
        if patch.include_stale is not None:
            changes["include_stale"] = patch.include_stale
        if patch.max_in_flight is not None:
            changes["max_in_flight"] = patch.max_in_flight
        if "rate_limit_per_second" in patch.model_fields_set:
            changes["rate_limit_per_second"] = patch.rate_limit_per_second
        if patch.enabled is True:
            changes |= {"enabled": True, "disabled_reason": None, "disabled_at": None}
        elif patch.enabled is False and current.enabled:
            changes |= {
                "enabled": False,
                "disabled_reason": DISABLED_BY_MERCHANT,
                "disabled_at": now,
            }
        updated = current.model_copy(update=changes)
        self._replace(updated, current)
        if patch.enabled is True:
            # The failures before count no more, or the next one would disable it again.
            # Every `enabled: true` resets (not only a change), so resending the PATCH
            # after a failed reset completes it.
            self._health.reset_breaker(updated.id)
        return self._with_health(updated)

    def rotate_secret(self, merchant_id: str, subscription_id: str) -> SubscriptionOut:
        """A new secret signs from now on; the previous ones keep signing for 24 hours."""
        current = self.require(merchant_id, subscription_id)
        now = self._clock()
        overlap_until = now + ROTATION_OVERLAP
        kept = [
            s.model_copy(update={"expires_at": min(s.expires_at or overlap_until, overlap_until)})
            for s in current.secrets
            if s.expires_at is None or s.expires_at > now
        ]
        rotated = current.model_copy(
            update={"secrets": [SigningSecret(secret=generate_secret()), *kept], "updated_at": now}
        )
        self._replace(rotated, current)
        return self._with_health(rotated, with_secret=True)

    def delete(self, merchant_id: str, subscription_id: str) -> None:
        if not self._store.delete(merchant_id, subscription_id):
            raise not_found(subscription_id)

    def require(self, merchant_id: str, subscription_id: str) -> Subscription:
        subscription = self._store.get(merchant_id, subscription_id)
        if subscription is None:
            raise not_found(subscription_id)
        return subscription

    def _with_health(
        self, subscription: Subscription, *, with_secret: bool = False
    ) -> SubscriptionOut:
        health = health_out(subscription, self._health.read(subscription.id), self._breaker)
        return to_out(subscription, with_secret=with_secret, health=health)

    def _replace(self, updated: Subscription, current: Subscription) -> None:
        """Read-modify-write without losing a concurrent change (a 410 disable, a rotation)."""
        if self._store.replace(updated, current):
            return
        if self._store.get(current.merchant_id, current.id) is None:
            raise not_found(current.id)
        raise ConflictError(
            f"subscription {current.id} changed while this request ran; read it and try again"
        )

    def _check_url(self, url: str) -> None:
        try:
            vet(url, self._policy, self._resolve)
        except UnsafeTargetError as error:
            raise ValidationFailedError(
                "the subscription url may not receive webhooks",
                [{"loc": "url", "message": p, "type": "unsafe_url"} for p in error.problems],
            ) from None


def not_found(subscription_id: str) -> NotFoundError:
    return NotFoundError(f"no subscription {subscription_id}")
