"""The status vocabulary holds together, and docs/statuses.md is what the code says."""

from typing import get_args

import pytest

from devstack.statuses import DOCUMENT, render
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.statuses import (
    EVENT_TYPES,
    VOCABULARY,
    Status,
    StatusDetail,
    action_required,
    details_of,
)
from parcelhooks.ingest.correios import SRO_EVENTS
from parcelhooks.merchant_api.models import EventTypeFilter
from testkit.factories import shipment_event


def test_docs_statuses_md_matches_the_code() -> None:
    assert DOCUMENT.read_text() == render(), (
        "docs/statuses.md is out of date: run `make statuses` and commit it"
    )


def test_the_document_lists_every_code_and_every_detail() -> None:
    text = render()
    for event_type, number in SRO_EVENTS:
        assert f"| `{event_type}` | `{number}` |" in text
    for status, details in VOCABULARY.items():
        for detail in details:
            assert f"| `{status}` | `{detail}` |" in text


def test_every_status_has_a_vocabulary_and_every_detail_is_used() -> None:
    assert set(VOCABULARY) == set(Status)
    used = {detail for details in VOCABULARY.values() for detail in details}
    assert used == set(StatusDetail)


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.UNKNOWN])
def test_other_closes_each_known_status_list(status: Status) -> None:
    assert details_of(status)[-1] is StatusDetail.OTHER


def test_unknown_takes_no_detail() -> None:
    assert details_of(Status.UNKNOWN) == ()
    assert not action_required(Status.UNKNOWN, StatusDetail.OTHER)


ACTION_REQUIRED = {
    (Status.DELIVERY_ATTEMPTED, StatusDetail.ADDRESS_PROBLEM),
    (Status.AVAILABLE_FOR_PICKUP, StatusDetail.POST_OFFICE),
    (Status.AVAILABLE_FOR_PICKUP, StatusDetail.LOCKER),
    (Status.AVAILABLE_FOR_PICKUP, StatusDetail.PO_BOX),
    (Status.AVAILABLE_FOR_PICKUP, StatusDetail.PICKUP_POINT),
    (Status.AVAILABLE_FOR_PICKUP, StatusDetail.OTHER),
    (Status.EXCEPTION, StatusDetail.PAYMENT_REQUIRED),
    (Status.EXCEPTION, StatusDetail.INFORMATION_REQUIRED),
    (Status.EXCEPTION, StatusDetail.ADDRESS_PROBLEM),
}


def test_the_buyer_must_act_exactly_where_the_vocabulary_says() -> None:
    flagged = {
        (status, detail)
        for status, details in VOCABULARY.items()
        for detail, meaning in details.items()
        if meaning.action_required
    }
    assert flagged == ACTION_REQUIRED


def test_a_detail_outside_its_status_never_asks_for_action() -> None:
    assert not action_required(Status.DELIVERED, StatusDetail.PAYMENT_REQUIRED)
    assert not action_required(Status.EXCEPTION, None)


def test_an_event_says_whether_the_buyer_must_act() -> None:
    pickup = shipment_event(status=Status.AVAILABLE_FOR_PICKUP, status_detail=StatusDetail.LOCKER)
    assert pickup.action_required
    assert not shipment_event().action_required
    assert shipment_event(status=Status.UNKNOWN).type == "shipment.unknown"


def test_action_required_is_derived_so_the_queue_message_reads_back() -> None:
    event = shipment_event(status=Status.EXCEPTION, status_detail=StatusDetail.PAYMENT_REQUIRED)
    dumped = event.model_dump_json()
    assert "action_required" not in dumped
    assert ShipmentEvent.model_validate_json(dumped) == event


def test_subscriptions_may_filter_on_every_status_unknown_included() -> None:
    assert "shipment.unknown" in EVENT_TYPES
    assert set(EVENT_TYPES) <= set(get_args(EventTypeFilter))
