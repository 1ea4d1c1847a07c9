"""DeliveryAdmin against in-memory stores: recover looks back exactly as far as its window,
a listing's time range must run forward, and one delivery is shown only to its merchant.
(The deliveries routes through the admin handler on moto:
tests/component/test_deliveries_api.py.)"""

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from parcelhooks.core.deliveries import AttemptRecord, DeliveryJob, LogFilter
from parcelhooks.core.errors import NotFoundError, ValidationFailedError
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.models import Subscription
from parcelhooks.delivery.http.netguard import GuardPolicy
from parcelhooks.delivery.webhook import webhook_body
from parcelhooks.merchant_api.deliveries import DeliveryAdmin
from parcelhooks.merchant_api.subscriptions import Subscriptions
from testkit.factories import NOW, attempt_record, shipment_event, subscription
from testkit.fakes import TEST_BREAKER, FakeSealer


class _OneSubscription:
    """Just enough of a subscription store for `Subscriptions.require` and `ids_of`."""

    def __init__(self, only: Subscription) -> None:
        self.only = only

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        found = (merchant_id, subscription_id) == (self.only.merchant_id, self.only.id)
        return self.only if found else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Subscription], str | None]:
        return ([self.only] if merchant_id == self.only.merchant_id else []), None


class _Log:
    """The log's lines in memory, newest first; keeps the filters it was asked for."""

    def __init__(self, lines: Sequence[AttemptRecord] = ()) -> None:
        self.lines = sorted(lines, key=lambda r: r.attempted_at, reverse=True)
        self.asked: list[LogFilter] = []

    def since(
        self, subscription_id: str, since: datetime, limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        return [], False

    def page(
        self, subscription_id: str, limit: int, cursor: str | None, only: LogFilter
    ) -> tuple[list[AttemptRecord], str | None]:
        self.asked.append(only)
        return self.lines[:limit], None

    def attempts_of(
        self, delivery_id: str, subscription_ids: Sequence[str], limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        lines = [
            r
            for r in self.lines
            if r.delivery_id == delivery_id and r.subscription_id in subscription_ids
        ]
        return lines[:limit], len(lines) > limit


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


def _admin(
    recover_window: timedelta = timedelta(days=30),
    log: _Log | None = None,
    only: Subscription | None = None,
) -> DeliveryAdmin:
    store = _OneSubscription(only or subscription())
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
        log=log or _Log(),  # type: ignore[arg-type]
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


def test_a_listing_whose_since_is_after_its_until_is_refused_before_the_log_is_read() -> None:
    log = _Log()
    backwards = LogFilter(since=NOW, until=NOW - timedelta(seconds=1))
    with pytest.raises(ValidationFailedError) as caught:
        _admin(log=log).attempts("merchant-a", "sub_1", limit=10, cursor=None, only=backwards)
    assert caught.value.details == [
        {"loc": "query.since", "message": "is after until", "type": "value_error"}
    ]
    assert log.asked == []
    one_instant = LogFilter(since=NOW, until=NOW)
    _admin(log=log).attempts("merchant-a", "sub_1", limit=10, cursor=None, only=one_instant)
    assert log.asked == [one_instant]


def _lines(dlv_id: str = "dlv_1", merchant_id: str = "merchant-a") -> list[AttemptRecord]:
    event = shipment_event(event_id="evt_1", merchant_id=merchant_id)
    return [
        attempt_record(
            delivery_id=dlv_id,
            merchant_id=merchant_id,
            attempt=n,
            attempted_at=NOW + timedelta(minutes=n),
            outcome=outcome,
            event=event,
        )
        for n, outcome in enumerate(["retry", "retry", "delivered"], start=1)
    ]


def test_a_delivery_shows_its_body_its_request_now_and_its_attempts_newest_first() -> None:
    admin = _admin(log=_Log(_lines()))
    shown = admin.delivery("merchant-a", "dlv_1")
    event = shipment_event(event_id="evt_1")
    assert shown.body == json.loads(webhook_body(event))
    assert shown.request is not None and shown.email is None and shown.render_error is None
    assert (shown.request.method, shown.request.url) == ("POST", "https://hooks.example.com/parcel")
    assert json.loads(shown.request.body) == shown.body
    assert [a.attempt for a in shown.attempts] == [3, 2, 1]
    assert not shown.attempts_truncated


def test_a_delivery_is_shown_as_the_subscription_renders_it_now() -> None:
    templated = subscription(template='{"code": "{{ data.tracking_code }}"}')
    shown = _admin(log=_Log(_lines()), only=templated).delivery("merchant-a", "dlv_1")
    assert shown.request is not None
    assert json.loads(shown.request.body) == {"code": "QB123456785BR"}


@pytest.mark.parametrize(
    ("lines", "asked"),
    [
        (_lines(), "dlv_other"),
        (_lines(merchant_id="merchant-b"), "dlv_1"),
        ([r.model_copy(update={"event": None}) for r in _lines()], "dlv_1"),
    ],
    ids=["unknown", "another-merchants", "no-event-kept"],
)
def test_a_delivery_not_the_merchants_to_see_is_not_found(
    lines: list[AttemptRecord], asked: str
) -> None:
    with pytest.raises(NotFoundError):
        _admin(log=_Log(lines)).delivery("merchant-a", asked)
