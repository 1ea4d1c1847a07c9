"""Who a carrier may send to, and ids that cannot collide once joined into table keys; a
delivery id's time."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcelhooks.auth.keys import create_key
from parcelhooks.auth.policy import policy_for
from parcelhooks.core.api_keys import ApiKeyRecord, Role
from parcelhooks.core.errors import ForbiddenError, ValidationFailedError
from parcelhooks.core.ids import (
    OWNER_ID_PATTERN,
    delivery_id,
    delivery_time,
    event_id_of,
    is_owner_id,
    legacy_delivery_id,
)
from parcelhooks.ingest.events import CarrierEventIn
from parcelhooks.ingest.merchants import MerchantGate
from testkit.factories import NOW, carrier_event
from testkit.fakes import FakeKeyStore

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/v1/events"


class CountingDirectory:
    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.asked: list[set[str]] = []

    def merchants_known(self, merchant_ids: Collection[str]) -> set[str]:
        self.asked.append(set(merchant_ids))
        return self.known & set(merchant_ids)


def _events(*merchants: str) -> list[CarrierEventIn]:
    """Events as ingest parsed them at NOW."""
    sent = [
        carrier_event(now=NOW, merchant_id=m, carrier_event_id=f"ce-{i}")
        for i, m in enumerate(merchants)
    ]
    return [CarrierEventIn.model_validate(event, context={"now": NOW}) for event in sent]


def test_a_scoped_key_may_not_send_outside_its_merchants_and_the_error_names_them() -> None:
    gate = MerchantGate(CountingDirectory({"shop-a", "shop-b"}))
    with pytest.raises(ForbiddenError) as refused:
        gate.check("correios", frozenset({"shop-a"}), _events("shop-a", "shop-b"))
    assert refused.value.details == [
        {
            "loc": "events[1].merchant_id",
            "message": "this carrier key may not send events for merchant 'shop-b'",
            "type": "merchant_not_allowed",
        }
    ]


def test_a_scoped_key_sends_for_its_merchants() -> None:
    gate = MerchantGate(CountingDirectory({"shop-a", "shop-b"}))
    gate.check("correios", frozenset({"shop-a", "shop-b"}), _events("shop-a", "shop-b"))


def test_an_unknown_merchant_is_refused_with_every_event_that_names_it() -> None:
    gate = MerchantGate(CountingDirectory({"shop-a"}))
    with pytest.raises(ValidationFailedError) as refused:
        gate.check("correios", None, _events("shop-a", "shop-typo", "shop-typo"))
    assert [d["loc"] for d in refused.value.details] == [
        "events[1].merchant_id",
        "events[2].merchant_id",
    ]
    assert all(d["type"] == "unknown_merchant" for d in refused.value.details)


def test_a_known_merchant_is_looked_up_once_per_container() -> None:
    directory = CountingDirectory({"shop-a"})
    gate = MerchantGate(directory)
    gate.check("correios", None, _events("shop-a"))
    gate.check("correios", None, _events("shop-a"))
    assert directory.asked == [{"shop-a"}]
    with pytest.raises(ValidationFailedError):
        gate.check("correios", None, _events("shop-typo"))
    with pytest.raises(ValidationFailedError):  # an unknown one is asked again: it may exist now
        gate.check("correios", None, _events("shop-typo"))
    assert directory.asked[1:] == [{"shop-typo"}, {"shop-typo"}]


def _record(**overrides: Any) -> ApiKeyRecord:
    fields: dict[str, Any] = {
        "key_id": "key_1",
        "key_hash": "h",
        "role": Role.CARRIER,
        "owner_id": "correios",
        "created_at": NOW,
    }
    return ApiKeyRecord.model_validate(fields | overrides)


def test_the_authorizer_passes_a_carrier_keys_scope_and_no_scope_when_it_has_none() -> None:
    scoped = policy_for(_record(merchants=["shop-b", "shop-a"]), METHOD_ARN)
    assert scoped["context"]["merchants"] == "shop-a,shop-b"
    assert "merchants" not in policy_for(_record(), METHOD_ARN)["context"]


owner_ids = st.from_regex(OWNER_ID_PATTERN, fullmatch=True)


tracking_codes = st.from_regex(r"[A-Z0-9]{4,64}", fullmatch=True)


@given(
    st.tuples(owner_ids, owner_ids, tracking_codes, st.text(min_size=1)),
    st.tuples(owner_ids, owner_ids, tracking_codes, st.text(min_size=1)),
)
def test_event_ids_of_different_carriers_shipments_or_events_never_collide(
    a: tuple[str, str, str, str], b: tuple[str, str, str, str]
) -> None:
    assert (event_id_of(*a) == event_id_of(*b)) == (a == b)


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)
)


@given(st.text(min_size=1), st.text(min_size=1), instants)
def test_a_delivery_id_gives_back_its_event_s_time_to_the_millisecond(
    event_id: str, subscription_id: str, at: datetime
) -> None:
    dlv = delivery_id(event_id, subscription_id, at)
    assert dlv == delivery_id(event_id, subscription_id, at)  # derived, never drawn
    assert len(dlv) == 30 and dlv.startswith("dlv_") and dlv == dlv.lower()
    assert delivery_time(dlv) == at.replace(microsecond=at.microsecond // 1000 * 1000)
    # An id of before ids held their time is told apart: it holds none.
    assert delivery_time(legacy_delivery_id(event_id, subscription_id)) is None


@given(instants, instants)
def test_delivery_ids_sort_as_their_events_times(a: datetime, b: datetime) -> None:
    first, second = delivery_id("evt_a", "sub_1", a), delivery_id("evt_b", "sub_1", b)
    if a.replace(microsecond=0) < b.replace(microsecond=0):
        assert first[:14] < second[:14]


@given(
    st.tuples(st.text(min_size=1), st.text(min_size=1)),
    st.tuples(st.text(min_size=1), st.text(min_size=1)),
)
def test_deliveries_of_one_moment_differ_by_their_event_and_subscription(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert (delivery_id(*a, NOW) == delivery_id(*b, NOW)) == (a == b)


def test_the_collision_the_review_found_cannot_be_built() -> None:
    # "a#b" + "c" and "a" + "b#c" joined to the same key: the first owner is refused, and
    # an event id's parts are joined with a character no owner id or tracking code holds.
    assert not is_owner_id("a#b")
    assert event_id_of("a", "m", "T123", "b#c") != event_id_of("a", "m", "T123#b", "c")


def test_merchants_scope_carrier_keys_only_and_is_never_empty() -> None:
    keys = FakeKeyStore()
    with pytest.raises(ValueError, match="carrier keys only"):
        create_key(keys, Role.MERCHANT, "shop", merchants=["shop"])
    with pytest.raises(ValueError, match="at least one"):
        create_key(keys, Role.CARRIER, "correios", merchants=[])
    assert keys.records == {}
