"""Merchant subscriptions: create, list, get, update, delete, rotate — scoped to the key's owner.

Every call takes the merchant id from the caller's key; another merchant's
subscription is simply not found, never forbidden, so ids leak nothing. An answer about
one subscription carries its endpoint's health, read from the record the fan-out keeps;
re-enabling one resets its circuit breaker there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from parcelhooks.core.errors import (
    ConflictError,
    Detail,
    LimitReachedError,
    NotFoundError,
    ValidationFailedError,
)
from parcelhooks.core.health import BreakerPolicy, EndpointHealth
from parcelhooks.core.ids import new_subscription_id
from parcelhooks.core.models import EmailDestination, SigningSecret, StoredHeader, Subscription
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
from parcelhooks.merchant_api.destinations import (
    Destination,
    Sealer,
    filter_problems,
    header_problems,
    render_problems,
    shape_problems,
    shown_value,
    stored_headers,
    url_problems,
)
from parcelhooks.merchant_api.models import (
    DestinationFields,
    EmailIn,
    EndpointHealthOut,
    HeaderOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
)
from parcelhooks.merchant_api.previews import (
    PreviewEventIn,
    PreviewIn,
    PreviewOut,
    preview,
    preview_event,
)

ROTATION_OVERLAP = timedelta(hours=24)
MASK_VISIBLE_CHARS = 4
DISABLED_BY_MERCHANT = "disabled by the merchant"
# Subscriptions read per page when only their ids are wanted.
ID_PAGE = 100


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
    email = subscription.email
    return SubscriptionOut(
        id=subscription.id,
        kind=subscription.kind,
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
        filter=subscription.filter,
        method=subscription.method,
        headers=[
            HeaderOut(name=h.name, value=shown_value(h), secret=h.secret)
            for h in subscription.headers
        ],
        content_type=subscription.content_type,
        template=subscription.template,
        email=EmailIn.model_validate(email.model_dump()) if email else None,
        metadata=subscription.metadata,
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
        sealer: Sealer,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sealer = sealer
        self._store = store
        self._health = health
        self._breaker = breaker
        self._policy = policy
        self._resolve = resolve
        self._max_per_merchant = max_per_merchant
        self._clock = clock

    def create(self, merchant_id: str, request: SubscriptionIn) -> SubscriptionOut:
        subscription_id = new_subscription_id()
        destination = self._destination(merchant_id, subscription_id, request, request.url, kept=[])
        if self._store.count(merchant_id) >= self._max_per_merchant:
            raise LimitReachedError(
                f"a merchant may have at most {self._max_per_merchant} subscriptions; "
                "delete one first",
            )
        subscription = Subscription(
            id=subscription_id,
            merchant_id=merchant_id,
            **destination.fields(),
            event_types=sorted(set(request.event_types)),
            description=request.description,
            enabled=True,
            include_stale=request.include_stale,
            max_in_flight=request.max_in_flight,
            rate_limit_per_second=request.rate_limit_per_second,
            secrets=[SigningSecret(secret=generate_secret())],
            created_at=self._clock(),
        )
        self._check_templates(subscription)
        self._store.put(subscription)
        # A new endpoint has no record yet: healthy, nothing held or pending.
        fresh = health_out(subscription, EndpointHealth(), self._breaker)
        return to_out(subscription, with_secret=True, health=fresh)

    def preview(self, merchant_id: str, request: PreviewIn) -> PreviewOut:
        """What a subscription with this body would send for the event: nothing stored,
        nothing sealed, nothing sent (an invalid body is the 400 a create would answer)."""
        draft_id = "sub_preview"
        fields = request.subscription
        destination = self._destination(
            merchant_id, draft_id, fields, fields.url, kept=[], seal=_unsealed
        )
        draft = Subscription(
            id=draft_id,
            merchant_id=merchant_id,
            **destination.fields(),
            event_types=sorted(set(fields.event_types)),
            description=fields.description,
            secrets=[SigningSecret(secret=generate_secret())],
            created_at=self._clock(),
        )
        event = preview_event(draft, request, self._clock())
        return preview(draft, event, sample_metadata=request.data is None)

    def preview_stored(
        self, merchant_id: str, subscription_id: str, request: PreviewEventIn
    ) -> PreviewOut:
        subscription = self.require(merchant_id, subscription_id)
        event = preview_event(subscription, request, self._clock())
        return preview(subscription, event, sample_metadata=request.data is None)

    def list(self, merchant_id: str, limit: int, cursor: str | None) -> SubscriptionPage:
        items, next_cursor = self._store.page(merchant_id, limit, cursor)
        return SubscriptionPage(data=[to_out(s) for s in items], next_cursor=next_cursor)

    def get(self, merchant_id: str, subscription_id: str) -> SubscriptionOut:
        return self._with_health(self.require(merchant_id, subscription_id))

    def ids_of(self, merchant_id: str) -> Sequence[str]:
        """Every subscription id the merchant has (where its deliveries' log lines are)."""
        ids: list[str] = []
        cursor: str | None = None
        while True:
            items, cursor = self._store.page(merchant_id, ID_PAGE, cursor)
            ids += [s.id for s in items]
            if cursor is None:
                return ids

    def update(
        self, merchant_id: str, subscription_id: str, patch: SubscriptionPatch
    ) -> SubscriptionOut:
        current = self.require(merchant_id, subscription_id)
        now = self._clock()
        changes: dict[str, object] = {"updated_at": now}
        if patch.model_fields_set & DESTINATION_FIELDS:
            fields, url = _patched_destination(current, patch)
            changes |= self._destination(
                merchant_id, current.id, fields, url, kept=current.headers
            ).fields()
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
        if patch.model_fields_set & (DESTINATION_FIELDS | {"event_types"}):
            self._check_templates(updated)
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

    def _destination(
        self,
        merchant_id: str,
        subscription_id: str,
        fields: DestinationFields,
        url: str | None,
        *,
        kept: Sequence[StoredHeader],
        seal: Callable[[str, str, str], str] | None = None,
    ) -> Destination:
        """The destination as stored, or every problem of it in one 400."""
        problems = shape_problems(fields, url)
        problems += header_problems(fields.headers, basic_auth=fields.basic_auth is not None)
        if fields.filter is not None:
            problems += filter_problems(fields.filter)
        if url is not None:
            template_problems = url_problems(url)
            problems += template_problems or list(self._unsafe(url))
        if problems:
            raise ValidationFailedError("the subscription's destination is not valid", problems)
        auth = fields.basic_auth
        headers, missing = stored_headers(
            fields.headers,
            (auth.username, auth.password) if auth else None,
            seal=lambda value: (seal or self._sealer.seal)(merchant_id, subscription_id, value),
            kept={h.name.lower(): h for h in kept},
        )
        if missing:
            raise ValidationFailedError("the subscription's destination is not valid", missing)
        email = fields.email
        return Destination(
            kind=fields.kind,
            url=url if fields.kind == "webhook" else None,
            filter=fields.filter,
            method=fields.method,
            headers=headers,
            content_type=fields.content_type,
            template=fields.template,
            email=EmailDestination.model_validate(email.model_dump()) if email else None,
            metadata=dict(fields.metadata),
        )

    def _check_templates(self, subscription: Subscription) -> None:
        problems = render_problems(subscription, subscription.event_types, self._clock())
        if problems:
            raise ValidationFailedError(
                "a template failed on a sample event the subscription can receive", problems
            )

    def _unsafe(self, url: str) -> Sequence[Detail]:
        """The guard's verdict on the URL with each placeholder as a plain segment: the host
        is fixed, and the rendered URL is vetted again at every delivery."""
        try:
            vet(_PLACEHOLDER.sub("x", url), self._policy, self._resolve)
        except UnsafeTargetError as error:
            return [{"loc": "url", "message": p, "type": "unsafe_url"} for p in error.problems]
        return ()


_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def _unsealed(merchant_id: str, subscription_id: str, value: str) -> str:
    """A preview's draft is never stored: its secret values are never sealed or kept."""
    return "unsealed"


# The fields of a PATCH that change the destination (so it is checked whole again).
DESTINATION_FIELDS = frozenset(
    {
        "url",
        "filter",
        "method",
        "headers",
        "basic_auth",
        "content_type",
        "template",
        "email",
        "metadata",
    }
)


def _patched_destination(
    current: Subscription, patch: SubscriptionPatch
) -> tuple[DestinationFields, str | None]:
    """The destination as it will be: the PATCH's fields over the stored ones. Stored
    secret headers come back without their values (kept unless the PATCH replaces them)."""
    sent = patch.model_fields_set
    headers = (
        patch.headers
        if "headers" in sent and patch.headers is not None
        else [
            {"name": h.name, "secret": True} if h.secret else {"name": h.name, "value": h.value}
            for h in current.headers
            # Basic auth comes back as its header unless the PATCH sets or removes it.
            if not ("basic_auth" in sent and h.basic_auth)
        ]
    )
    email = current.email.model_dump() if current.email else None
    fields = DestinationFields.model_validate(
        {
            "kind": current.kind,
            "filter": patch.filter if "filter" in sent else current.filter,
            "method": patch.method or current.method,
            "headers": headers,
            "basic_auth": patch.basic_auth if "basic_auth" in sent else None,
            "content_type": patch.content_type or current.content_type,
            "template": patch.template if "template" in sent else current.template,
            "email": patch.email if "email" in sent else email,
            "metadata": patch.metadata if patch.metadata is not None else current.metadata,
        },
        strict=False,
    )
    return fields, patch.url if patch.url is not None else current.url


def not_found(subscription_id: str) -> NotFoundError:
    return NotFoundError(f"no subscription {subscription_id}")
