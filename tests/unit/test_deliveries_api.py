"""DeliveryAdmin against in-memory stores: recover looks back exactly as far as its window.
(The deliveries routes through the admin handler on moto:
tests/component/test_deliveries_api.py.)"""

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from parcelhooks.core.deliveries import AttemptRecord, DeliveryJob
from parcelhooks.core.errors import ValidationFailedError
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.models import Subscription
from parcelhooks.delivery.http.netguard import GuardPolicy
from parcelhooks.merchant_api.deliveries import DeliveryAdmin
from parcelhooks.merchant_api.subscriptions import Subscriptions
from testkit.factories import NOW, subscription
from testkit.fakes import TEST_BREAKER, FakeSealer


class _OneSubscription:
    """Just enough of a subscription store for `Subscriptions.require`."""

    def __init__(self, only: Subscription) -> None:
        self.only = only

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        found = (merchant_id, subscription_id) == (self.only.merchant_id, self.only.id)
        return self.only if found else None


class _EmptyLog:
    def since(
        self, subscription_id: str, since: datetime, limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        return [], False


class _Resender:
    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        return []


class _NoHealth:
    """An endpoint health record nobody wrote."""

    def read(self, subscription_id: str) -> EndpointHealth:
        return EndpointHealth()

    def reset_breaker(self, subscription_id: str) -> None:
        pass

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        pass


def _admin(recover_window: timedelta) -> DeliveryAdmin:
    store = _OneSubscription(subscription())
    health = _NoHealth()
    subscriptions = Subscriptions(
        store,  # type: ignore[arg-type]
        health=health,
        breaker=TEST_BREAKER,
        policy=GuardPolicy(),
        max_per_merchant=50,
        sealer=FakeSealer(),
    )
    return DeliveryAdmin(
        log=_EmptyLog(),  # type: ignore[arg-type]
        subscriptions=subscriptions,
        resender=_Resender(),
        counts=health,
        recover_window=recover_window,
        clock=lambda: NOW,
    )


def test_recover_looks_back_exactly_as_far_as_the_window_it_is_given() -> None:
    admin = _admin(recover_window=timedelta(days=7))
    assert admin.recover("merchant-a", "sub_1", NOW - timedelta(days=7)).recovered == 0
    with pytest.raises(ValidationFailedError, match="within the last 7 days") as caught:
        admin.recover("merchant-a", "sub_1", NOW - timedelta(days=7, seconds=1))
    assert caught.value.details == [
        {"loc": "since", "message": "out of range", "type": "value_error"}
    ]
    with pytest.raises(ValidationFailedError):
        admin.recover("merchant-a", "sub_1", NOW + timedelta(seconds=1))
