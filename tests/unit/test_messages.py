"""The buyer's sentence for every status and detail: every one reads with and without the
order, place and date, and the key ones say exactly what a shop would."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from parcelhooks.core.messages import (
    CORRECTION_SENTENCE,
    SENTENCES,
    BuyerMessage,
    buyer_message,
    date_en,
    sentence_templates,
)
from parcelhooks.core.models import Location, ShipmentEvent
from parcelhooks.core.statuses import VOCABULARY, Status, StatusDetail, action_required
from testkit.factories import shipment_event

RECIFE = Location(city="Recife", state="PE", country="BR")
ESTIMATE = date(2026, 12, 12)
# 02:30 UTC on the 12th is 23:30 on the 11th in São Paulo.
ESTIMATE_INSTANT = datetime(2026, 12, 12, 2, 30, tzinfo=UTC)

PAIRS = [(status, detail) for status in Status for detail in (None, *VOCABULARY[status])]
# Each case: the fields that pick the sentence (a correction whatever its status).
CASES = [
    pytest.param({"status": status, "status_detail": detail}, id=f"{status}/{detail}")
    for status, detail in PAIRS
] + [
    pytest.param(
        {"status": Status.DELIVERED, "status_detail": None, "correction": True},
        id="correction",
    )
]
ACTION_REQUIRED = [pair for pair in PAIRS if action_required(*pair)]


def event(**fields: Any) -> ShipmentEvent:
    return shipment_event(**fields)


def full_event(**fields: Any) -> ShipmentEvent:
    """An event with an order, a place and a delivery estimate."""
    return event(order_id="A-1001", location=RECIFE, estimated_delivery=ESTIMATE, **fields)


def assert_reads_well(message: BuyerMessage) -> None:
    for text in (message.pt_BR, message.en):
        assert text
        assert text.endswith(".")
        assert not any(mark in text for mark in "{}[]"), text
        assert "  " not in text, text
        assert " ." not in text, text
        assert " ," not in text, text
        assert "None" not in text, text
    assert message.pt_BR != message.en


def test_every_status_and_detail_has_a_sentence_and_nothing_else_does() -> None:
    assert set(SENTENCES) == set(PAIRS)


@pytest.mark.parametrize("fields", CASES)
def test_a_sentence_with_order_place_and_date_reads_well_and_fills_them_in(
    fields: dict[str, Any],
) -> None:
    message = buyer_message(full_event(**fields))
    assert_reads_well(message)
    assert "A-1001" in message.pt_BR
    assert "A-1001" in message.en


@pytest.mark.parametrize("fields", CASES)
def test_a_sentence_without_order_place_or_date_still_reads_well(
    fields: dict[str, Any],
) -> None:
    message = buyer_message(event(**fields))
    assert_reads_well(message)


@pytest.mark.parametrize(("status", "detail"), PAIRS, ids=[f"{s}/{d}" for s, d in PAIRS])
def test_a_sentence_that_names_a_place_or_date_shows_the_events(
    status: Status, detail: StatusDetail | None
) -> None:
    pt_br, en = sentence_templates(status, detail)
    message = buyer_message(full_event(status=status, status_detail=detail))
    assert ("{place}" in pt_br) == ("Recife/PE" in message.pt_BR)
    assert ("{place}" in en) == ("Recife/PE" in message.en)
    assert ("{date}" in pt_br) == ("12/12/2026" in message.pt_BR)
    assert ("{date}" in en) == ("December 12, 2026" in message.en)


def test_a_delivered_order_is_told_plainly() -> None:
    message = buyer_message(event(status_detail=StatusDetail.TO_RECIPIENT, order_id="A-1001"))
    assert message == BuyerMessage(
        pt_BR="Seu pedido A-1001 foi entregue.", en="Your order A-1001 has been delivered."
    )


def test_without_an_order_id_the_sentence_leaves_it_out() -> None:
    message = buyer_message(event(status_detail=StatusDetail.TO_RECIPIENT))
    assert message == BuyerMessage(
        pt_BR="Seu pedido foi entregue.", en="Your order has been delivered."
    )


def test_a_posted_order_says_where_from_and_when_it_should_arrive() -> None:
    message = buyer_message(
        full_event(status=Status.POSTED, status_detail=StatusDetail.DROPPED_OFF)
    )
    assert message == BuyerMessage(
        pt_BR="Seu pedido A-1001 foi postado em Recife/PE e deve chegar até 12/12/2026.",
        en="Your order A-1001 has been shipped from Recife/PE and should arrive by "
        "December 12, 2026.",
    )


def test_a_parcel_at_the_post_office_says_where_and_what_to_bring() -> None:
    message = buyer_message(
        full_event(status=Status.AVAILABLE_FOR_PICKUP, status_detail=StatusDetail.POST_OFFICE)
    )
    assert message == BuyerMessage(
        pt_BR="Seu pedido A-1001 está disponível para retirada na agência em Recife/PE. "
        "Para retirar, leve um documento com foto e o código de rastreamento.",
        en="Your order A-1001 is ready for pickup at the post office in Recife/PE. "
        "To collect it, please bring photo ID and your tracking number.",
    )


def test_a_pickup_does_not_pass_the_delivery_estimate_off_as_a_deadline() -> None:
    message = buyer_message(
        full_event(status=Status.AVAILABLE_FOR_PICKUP, status_detail=StatusDetail.LOCKER)
    )
    assert "12/12/2026" not in message.pt_BR
    assert "December" not in message.en


def test_an_estimated_instant_is_given_in_sao_paulo_time_on_its_local_day() -> None:
    message = buyer_message(
        event(
            status=Status.IN_TRANSIT,
            status_detail=StatusDetail.DELIVERY_SCHEDULED,
            order_id="A-1001",
            estimated_delivery=ESTIMATE_INSTANT,
        )
    )
    assert message == BuyerMessage(
        pt_BR="A entrega do seu pedido A-1001 foi agendada para 11/12/2026 às 23h30 "
        "(horário de Brasília).",
        en="Delivery of your order A-1001 has been scheduled for December 11, 2026 at "
        "11:30 PM (Brasília time).",
    )


def test_an_instant_just_after_midnight_is_12_am_in_english() -> None:
    assert date_en(datetime(2026, 12, 12, 3, 5, tzinfo=UTC)) == (
        "December 12, 2026 at 12:05 AM (Brasília time)"
    )


def test_a_tax_to_pay_tells_the_buyer_to_pay_it_on_the_carriers_site() -> None:
    message = buyer_message(
        event(status=Status.EXCEPTION, status_detail=StatusDetail.PAYMENT_REQUIRED)
    )
    assert message == BuyerMessage(
        pt_BR="Há uma taxa a pagar para liberar seu pedido. Faça o pagamento no site oficial "
        "da transportadora para que ele siga para entrega.",
        en="There is a tax or fee to pay before your order can be delivered. Please pay it on "
        "the carrier's official website.",
    )


@pytest.mark.parametrize(
    ("status", "detail"), ACTION_REQUIRED, ids=[f"{s}/{d}" for s, d in ACTION_REQUIRED]
)
def test_where_the_buyer_must_act_the_sentence_says_what_to_do(
    status: Status, detail: StatusDetail
) -> None:
    pt_br, en = sentence_templates(status, detail)
    instructions = ("Fale com a loja", "Retire-o", "leve um documento", "Leve um documento")
    assert any(verb in pt_br for verb in (*instructions, "Faça o pagamento", "Confira")), pt_br
    assert "please" in en.lower(), en


def test_a_correction_says_so_whatever_status_it_carries() -> None:
    message = buyer_message(event(status=Status.DELIVERED, correction=True, order_id="A-1001"))
    assert message == BuyerMessage(
        pt_BR="Houve uma correção no rastreamento do seu pedido A-1001: desconsidere a "
        "atualização anterior.",
        en="The tracking of your order A-1001 has been corrected: please disregard the "
        "previous update.",
    )
    assert sentence_templates(Status.IN_TRANSIT, StatusDetail.CORRECTION) == CORRECTION_SENTENCE


def test_an_unknown_status_says_there_is_news() -> None:
    message = buyer_message(event(status=Status.UNKNOWN, order_id="A-1001"))
    assert message.pt_BR == "Há uma nova atualização no rastreamento do seu pedido A-1001."


def test_a_detail_outside_its_status_gets_the_statuss_own_sentence() -> None:
    assert sentence_templates(Status.DELIVERED, StatusDetail.PAYMENT_REQUIRED) == (
        sentence_templates(Status.DELIVERED, None)
    )


@pytest.mark.parametrize(
    ("location", "place"),
    [
        pytest.param(Location(city="Recife"), "em Recife.", id="city-alone"),
        pytest.param(
            Location(city="RIO DE JANEIRO", state="RJ"), "em Rio de Janeiro/RJ.", id="caps"
        ),
        pytest.param(
            Location(city="São João del-Rei", state="MG"),
            "em São João del-Rei/MG.",
            id="as-written",
        ),
    ],
)
def test_the_place_is_the_city_and_state_written_as_a_name(location: Location, place: str) -> None:
    message = buyer_message(
        event(status=Status.DELIVERED, status_detail=StatusDetail.PICKED_UP, location=location)
    )
    assert message.pt_BR == f"Seu pedido foi retirado {place}"


@pytest.mark.parametrize(
    "location",
    [Location(state="PE", country="BR"), Location(city="   ", state="PE"), None],
    ids=["state-alone", "blank-city", "none"],
)
def test_without_a_city_the_place_is_left_out(location: Location | None) -> None:
    message = buyer_message(
        event(status=Status.DELIVERED, status_detail=StatusDetail.PICKED_UP, location=location)
    )
    assert message == BuyerMessage(
        pt_BR="Seu pedido foi retirado.", en="Your order has been collected."
    )


def test_an_order_id_that_looks_like_a_placeholder_is_kept_as_sent() -> None:
    message = buyer_message(event(status_detail=StatusDetail.TO_RECIPIENT, order_id="{place}"))
    assert message.pt_BR == "Seu pedido {place} foi entregue."
