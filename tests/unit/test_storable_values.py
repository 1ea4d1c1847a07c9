"""Every value the merchant API accepts can be stored: a subscription created or changed from
any JSON body the models accept goes through the DynamoDB serializer and comes back equal.

DynamoDB's numbers have 38 significant digits and exponents from -130 to +125; JSON's do not
(`1e-200` is a fine JSON number). A value the schema accepts but DynamoDB refuses was a 500;
this property finds any such value, whatever field it is in.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from parcelhooks.aws.subscriptions_table import subscription_from_item, subscription_item
from parcelhooks.core.errors import ValidationFailedError
from parcelhooks.core.health import EndpointHealth
from parcelhooks.core.models import Subscription
from parcelhooks.delivery.http.netguard import GuardPolicy
from parcelhooks.merchant_api.models import SubscriptionIn, SubscriptionPatch
from parcelhooks.merchant_api.subscriptions import Subscriptions
from testkit.fakes import TEST_BREAKER, FakeSealer

PROPERTY = settings(database=None)
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def round_trip(subscription: Subscription) -> Subscription:
    """Through boto3's serializer to DynamoDB's wire form and back, as a put and a get do."""
    wire = {k: _SERIALIZER.serialize(v) for k, v in subscription_item(subscription).items()}
    return subscription_from_item({k: _DESERIALIZER.deserialize(v) for k, v in wire.items()})


class RoundTripStore:
    """A store whose every write must survive the round trip."""

    def __init__(self) -> None:
        self.items: dict[str, Subscription] = {}

    def put(self, subscription: Subscription) -> None:
        assert round_trip(subscription) == subscription
        self.items[subscription.id] = subscription

    def replace(self, subscription: Subscription, previous: Subscription) -> bool:
        self.put(subscription)
        return True

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        return self.items.get(subscription_id)

    def count(self, merchant_id: str) -> int:
        return len(self.items)


class NoHealth:
    def read(self, subscription_id: str) -> EndpointHealth:
        return EndpointHealth()

    def reset_breaker(self, subscription_id: str) -> None:
        pass


def _subscriptions(store: RoundTripStore) -> Subscriptions:
    return Subscriptions(
        store,  # type: ignore[arg-type]
        health=NoHealth(),  # type: ignore[arg-type]
        breaker=TEST_BREAKER,
        policy=GuardPolicy(),
        resolve=lambda host, port: ["93.184.216.34"],
        max_per_merchant=10_000,
        sealer=FakeSealer(),
    )


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-100, max_value=1e-100, allow_nan=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
EVENT_TYPES = st.lists(
    st.sampled_from(["*", "shipment.delivered", "shipment.posted", "delivery.exhausted"]),
    min_size=1,
    max_size=4,
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "url": st.sampled_from(["https://hooks.example.com/a", "https://erp.example.com.br/x?y=1"]),
    "event_types": EVENT_TYPES,
    "description": st.text(max_size=500),
    "include_stale": st.booleans(),
    "enabled": st.booleans(),
    "max_in_flight": st.integers(min_value=0, max_value=300),
    "rate_limit_per_second": st.floats(min_value=0, max_value=1000, allow_nan=False)
    | st.floats(min_value=1e-300, max_value=1e-2)
    | st.integers(min_value=0, max_value=1000),
}


def bodies(model: type[SubscriptionIn] | type[SubscriptionPatch]) -> st.SearchStrategy[Any]:
    """Bodies whose every field is sometimes right for it and sometimes any JSON value."""
    fields = {
        name: FIELD_VALUES.get(name, JSON_VALUES) | JSON_VALUES for name in model.model_fields
    }
    required = {"url", "event_types"} if model is SubscriptionIn else set()
    return st.fixed_dictionaries(
        {name: FIELD_VALUES[name] for name in required},
        optional={name: value for name, value in fields.items() if name not in required},
    )


def _accepted(model: type[SubscriptionIn] | type[SubscriptionPatch], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError:
        return None


@PROPERTY
@given(body=bodies(SubscriptionIn))
@example(
    body={"url": "https://h.example.com/", "event_types": ["*"], "rate_limit_per_second": 0.01}
)
@example(
    body={"url": "https://h.example.com/", "event_types": ["*"], "rate_limit_per_second": 1000}
)
def test_every_subscription_the_api_accepts_is_stored_as_it_was_given(body: dict[str, Any]) -> None:
    request = _accepted(SubscriptionIn, body)
    if request is None:
        return
    store = RoundTripStore()
    try:
        created = _subscriptions(store).create("merchant-a", request)
    except ValidationFailedError:
        return  # a 400 that lists the problems: refused, not a 500
    stored = store.items[created.id]
    assert stored.rate_limit_per_second == request.rate_limit_per_second
    assert stored.description == request.description


@PROPERTY
@given(body=bodies(SubscriptionPatch))
@example(body={"rate_limit_per_second": 0.01})
@example(body={"filter": {"data": {"weight": [{"numeric": [">", 1e-200]}]}}})
@example(body={"description": "x" * 500, "max_in_flight": 256})
def test_every_change_the_api_accepts_is_stored_as_it_was_given(body: dict[str, Any]) -> None:
    patch = _accepted(SubscriptionPatch, body)
    if patch is None:
        return
    store = RoundTripStore()
    flow = _subscriptions(store)
    created = flow.create(
        "merchant-a", SubscriptionIn(url="https://h.example.com/", event_types=["*"])
    )
    try:
        flow.update("merchant-a", created.id, patch)
    except ValidationFailedError:
        return  # a 400 that lists the problems: refused, not a 500
    assert store.items[created.id].updated_at is not None


def test_a_rate_too_small_to_store_is_refused_by_the_model() -> None:
    # The class's first instance: 1e-200 underflowed DynamoDB's number type and answered 500.
    for tiny in (1e-200, 5e-324, 0.001):
        assert (
            _accepted(
                SubscriptionIn,
                {"url": "https://a.example/", "event_types": ["*"], "rate_limit_per_second": tiny},
            )
            is None
        )
        assert _accepted(SubscriptionPatch, {"rate_limit_per_second": tiny}) is None
