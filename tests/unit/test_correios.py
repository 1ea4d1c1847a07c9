"""Correios at ingest: every SRO code's status and detail, the Rastro event shape, and an
unmapped code reported once. (Through the handler to a `shipment.unknown` webhook:
tests/component/test_correios.py.)"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcelhooks.core.errors import ParcelhooksError, ValidationFailedError
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.observability import metrics
from parcelhooks.core.statuses import VOCABULARY, Status, StatusDetail
from parcelhooks.delivery.webhook import webhook_body
from parcelhooks.ingest.accept import to_shipment_event
from parcelhooks.ingest.carrier_codes import lookup, sro_key
from parcelhooks.ingest.correios import BAIXA, SRO_EVENTS
from parcelhooks.ingest.events import CarrierEventIn, IngestResponse, parse_events
from parcelhooks.ingest.telemetry import PowertoolsIngestTelemetry
from parcelhooks.ingest.unmapped import report_unmapped
from testkit.factories import NOW, carrier_event, subscription
from testkit.fakes import FanoutKit

S, D = Status, StatusDetail
CODES = sorted(SRO_EVENTS)


# Events are built, parsed and queued at the fixed clock's time, except those sent through
# the ingest handler, which reads the real clock.


def _event(**overrides: Any) -> dict[str, Any]:
    return carrier_event(now=NOW, **overrides)


def _one(event: dict[str, Any]) -> CarrierEventIn:
    [parsed] = parse_events(json.dumps(event), now=NOW)
    return parsed


def _coded(event_type: str, code: str, **overrides: Any) -> dict[str, Any]:
    return _event(status=None, carrier_status={"type": event_type, "code": code}, **overrides)


def _problems(event: dict[str, Any]) -> ParcelhooksError:
    with pytest.raises(ParcelhooksError) as caught:
        parse_events(json.dumps(event), now=NOW)
    return caught.value


# --- every code in the table ----------------------------------------------------------------


@pytest.mark.parametrize("key", CODES, ids=" ".join)
def test_every_sro_code_gives_its_status_detail_and_action(key: tuple[str, str]) -> None:
    event_type, number = key
    expected = SRO_EVENTS[key]
    event = _one(_coded(event_type, number))
    assert (event.status, event.status_detail) == (expected.status, expected.detail)
    # Every pair's detail belongs to its status, so the webhook's flag is the vocabulary's.
    assert expected.detail in VOCABULARY[expected.status]
    shipped = _shipment(event)
    assert shipped.action_required is VOCABULARY[expected.status][expected.detail].action_required


@pytest.mark.parametrize("key", CODES, ids=" ".join)
def test_every_sro_code_is_read_in_any_case_padding_and_order(key: tuple[str, str]) -> None:
    event_type, number = key
    unpadded = str(int(number))
    for sent_type, sent_code in [
        (event_type.lower(), unpadded),
        (f" {event_type.title()} ", f"0{number}"),
        (number, event_type),  # Rastro's names copied across: the parts swapped
    ]:
        assert lookup(sent_type, sent_code) is SRO_EVENTS[key], (sent_type, sent_code)


# Hand-written expectations for the codes merchants meet most, checked against the table.
KNOWN = [
    ("PO", "01", S.POSTED, D.DROPPED_OFF, False),
    ("PO", "09", S.POSTED, D.AFTER_CUTOFF, False),
    ("CO", "01", S.POSTED, D.PICKED_UP, False),
    ("RO", "01", S.IN_TRANSIT, D.FORWARDED, False),
    ("DO", "01", S.IN_TRANSIT, D.FORWARDED, False),
    ("TRI", "00", S.IN_TRANSIT, D.FORWARDED, False),
    ("CD", "01", S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, False),
    ("CMT", "00", S.IN_TRANSIT, D.ARRIVED_AT_FACILITY, False),
    ("PAR", "16", S.IN_TRANSIT, D.INTERNATIONAL_ARRIVAL, False),
    ("PAR", "18", S.IN_TRANSIT, D.INTERNATIONAL_ORIGIN, False),
    ("PAR", "10", S.IN_TRANSIT, D.CUSTOMS_CLEARED, False),
    ("PAR", "17", S.EXCEPTION, D.PAYMENT_REQUIRED, True),
    ("PAR", "25", S.EXCEPTION, D.INFORMATION_REQUIRED, True),
    ("EST", "01", S.IN_TRANSIT, D.CORRECTION, False),
    ("OEC", "01", S.OUT_FOR_DELIVERY, D.TO_RECIPIENT, False),
    ("OEC", "09", S.EXCEPTION, D.RETURNING, False),
    ("LDE", "09", S.EXCEPTION, D.RETURNING, False),
    ("LDI", "01", S.AVAILABLE_FOR_PICKUP, D.POST_OFFICE, True),
    ("LDI", "02", S.AVAILABLE_FOR_PICKUP, D.PO_BOX, True),
    ("BDE", "01", S.DELIVERED, D.TO_RECIPIENT, False),
    ("BDI", "01", S.DELIVERED, D.TO_RECIPIENT, False),
    ("BDR", "01", S.DELIVERED, D.TO_RECIPIENT, False),
    ("BDE", "67", S.DELIVERED, D.TO_NEIGHBOUR, False),
    ("BDE", "68", S.AVAILABLE_FOR_PICKUP, D.LOCKER, True),
    ("BDE", "20", S.DELIVERY_ATTEMPTED, D.RECIPIENT_ABSENT, False),
    ("BDI", "18", S.DELIVERY_ATTEMPTED, D.RECIPIENT_ABSENT, False),
    ("BDE", "19", S.DELIVERY_ATTEMPTED, D.ADDRESS_PROBLEM, True),
    ("BDE", "34", S.DELIVERY_ATTEMPTED, D.ADDRESS_PROBLEM, True),
    ("BDE", "25", S.DELIVERY_ATTEMPTED, D.BUSINESS_CLOSED, False),
    ("BDE", "04", S.EXCEPTION, D.REFUSED, False),
    ("BDE", "06", S.EXCEPTION, D.RECIPIENT_UNKNOWN, False),
    ("BDE", "10", S.EXCEPTION, D.RECIPIENT_MOVED, False),
    ("BDE", "26", S.EXCEPTION, D.UNCLAIMED, False),
    ("BDE", "82", S.EXCEPTION, D.ADDRESS_PROBLEM, True),
    ("BDE", "54", S.EXCEPTION, D.PAYMENT_REQUIRED, True),
    ("BDE", "28", S.EXCEPTION, D.DAMAGED, False),
    ("BDE", "50", S.EXCEPTION, D.STOLEN, False),
    ("BDE", "80", S.EXCEPTION, D.LOST, False),
    ("IDC", "01", S.EXCEPTION, D.LOST, False),
    ("BDE", "43", S.EXCEPTION, D.SEIZED, False),
    ("BDE", "69", S.EXCEPTION, D.DELAYED, False),
    ("BLQ", "01", S.EXCEPTION, D.HELD, False),
    ("FC", "47", S.EXCEPTION, D.RETURNING, False),
    ("BDE", "23", S.RETURNED_TO_SENDER, D.DELIVERED_TO_SENDER, False),
    ("BDE", "14", S.CANCELLED, D.BY_SENDER, False),
]


@pytest.mark.parametrize(
    ("event_type", "code", "status", "detail", "action"),
    KNOWN,
    ids=[f"{k[0]} {k[1]}" for k in KNOWN],
)
def test_the_codes_merchants_meet_most_mean_what_correios_says(
    event_type: str, code: str, status: Status, detail: StatusDetail, action: bool
) -> None:
    event = _one(_coded(event_type, code))
    assert (event.status, event.status_detail, _shipment(event).action_required) == (
        status,
        detail,
        action,
    )


def test_every_type_correios_publishes_is_mapped() -> None:
    types = {event_type for event_type, _ in SRO_EVENTS}
    published = {"BDE", "BDI", "BDR", "OEC", "LDI", "LDE", "PO", "RO", "DO", "PAR", "FC", "BLQ"}
    assert published | {"CO", "EST", "TRI", "CD", "CMT", "IDC", "CUN", "PMT"} <= types


def test_bde_bdi_and_bdr_share_every_status_number_from_1_to_80_that_is_published() -> None:
    numbers = {code for event_type, code in SRO_EVENTS if event_type == "BDE"}
    for event_type in BAIXA:
        assert {code for t, code in SRO_EVENTS if t == event_type} == numbers
    assert {f"{n:02d}" for n in range(1, 81)} - numbers == {
        "11", "16", "17", "27", "65", "78"  # numbers no published list gives
    }  # fmt: skip
    for code in numbers:
        assert SRO_EVENTS["BDE", code] == SRO_EVENTS["BDI", code] == SRO_EVENTS["BDR", code]


@given(
    key=st.sampled_from(CODES),
    zeros=st.integers(0, 3),
    upper=st.lists(st.booleans(), min_size=3, max_size=3),
    spaces=st.sampled_from(["", " ", "  "]),
)
def test_zero_padding_case_and_spaces_never_change_a_code(
    key: tuple[str, str], zeros: int, upper: list[bool], spaces: str
) -> None:
    event_type, number = key
    cased = "".join(c.upper() if u else c.lower() for c, u in zip(event_type, upper, strict=False))
    sent_code = spaces + "0" * zeros + str(int(number)) + spaces
    assert sro_key(cased + spaces, sent_code) == key


@pytest.mark.parametrize(
    ("event_type", "code"), [("BDE", "99"), ("BDE", "A1"), ("XYZ", "01"), ("01", "20"), ("", "01")]
)
def test_codes_not_in_the_table_are_not_guessed(event_type: str, code: str) -> None:
    assert lookup(event_type, code) is None


# --- the raw Rastro event -------------------------------------------------------------------


def _rastro(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "codigo": "BDE",
        "tipo": "20",
        "dtHrCriado": "2026-11-28T11:40:02",
        "descricao": "A entrega não pode ser efetuada - Carteiro não atendido",
        "detalhe": "Será realizada nova tentativa de entrega",
        "unidade": {
            "codSro": "24020972",
            "tipo": "Unidade de Distribuição",
            "endereco": {"cidade": "NITEROI", "uf": "RJ", "cep": "24020972"},
        },
        "urlIcone": "/public-resources/img/pre-atendimento-cor.png",
        "dtPrevista": "2026-12-01T23:59:59",
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}


def _raw_event(**overrides: Any) -> dict[str, Any]:
    return _event(status=None, occurred_at=None, description=None, correios=_rastro(**overrides))


def test_a_rastro_event_without_status_gives_status_detail_and_raw_text() -> None:
    event = _one(_raw_event())
    assert (event.status, event.status_detail) == (S.DELIVERY_ATTEMPTED, D.RECIPIENT_ABSENT)
    assert event.carrier_status is not None
    assert event.carrier_status.model_dump() == {
        "type": "BDE",
        "code": "20",
        "description": "A entrega não pode ser efetuada - Carteiro não atendido",
    }
    assert event.description == (
        "A entrega não pode ser efetuada - Carteiro não atendido - "
        "Será realizada nova tentativa de entrega"
    )
    # No offset in Rastro's times: Brasília's.
    assert event.occurred_at == datetime(2026, 11, 28, 14, 40, 2, tzinfo=UTC)
    assert event.location is not None
    assert event.location.model_dump() == {
        "city": "NITEROI",
        "state": "RJ",
        "country": "BR",
        "postal_code": "24020972",
    }
    assert event.estimated_delivery == date(2026, 12, 1)
    assert "correios" not in event.model_dump()  # read, then dropped


def test_what_the_event_sends_wins_over_the_rastro_fields() -> None:
    ours = _event(
        status="delivery_attempted",
        occurred_at="2026-11-28T11:41:00-03:00",
        description="Ours",
        location={"city": "Rio de Janeiro"},
        carrier_status={"type": "BDE", "code": "20", "description": "ours"},
        estimated_delivery="2026-12-02",
        correios=_rastro(),
    )
    event = _one(ours)
    assert (event.description, event.estimated_delivery) == ("Ours", date(2026, 12, 2))
    assert event.occurred_at == datetime(2026, 11, 28, 14, 41, tzinfo=UTC)
    assert event.location is not None and event.location.city == "Rio de Janeiro"
    assert event.carrier_status is not None and event.carrier_status.description == "ours"
    assert event.status_detail == D.RECIPIENT_ABSENT


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("2026-11-28T11:40:02", datetime(2026, 11, 28, 14, 40, 2, tzinfo=UTC)),
        ("2026-11-28T11:40:02.250", datetime(2026, 11, 28, 14, 40, 2, 250000, tzinfo=UTC)),
        ("2026-11-28T10:40:02-04:00", datetime(2026, 11, 28, 14, 40, 2, tzinfo=UTC)),
        ("2026-11-28T14:40:02Z", datetime(2026, 11, 28, 14, 40, 2, tzinfo=UTC)),
    ],
)
def test_dt_hr_criado_is_brasilia_time_unless_it_says_otherwise(sent: str, read: datetime) -> None:
    assert _one(_raw_event(dtHrCriado=sent)).occurred_at == read


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("2026-12-01T23:59:59", date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        ("01/12/2026", date(2026, 12, 1)),
        ("2026-12-01T18:00:00-03:00", datetime(2026, 12, 1, 21, 0, tzinfo=UTC)),
    ],
)
def test_dt_prevista_in_every_shape_rastro_writes_it(sent: str, read: date) -> None:
    assert _one(_raw_event(dtPrevista=sent)).estimated_delivery == read


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"dtHrCriado": "28/11/2026 11:40"}, "correios.dtHrCriado"),
        ({"dtHrCriado": 1764340802}, "correios.dtHrCriado"),
        ({"dtHrCriado": "2024-11-28T11:40:02"}, "correios.dtHrCriado"),  # two years old
        ({"dtPrevista": "31/02/2026"}, "correios.dtPrevista"),
        ({"dtPrevista": "amanhã"}, "correios.dtPrevista"),
        ({"codigo": None}, "correios.codigo"),
        ({"tipo": ""}, "correios.tipo"),
        ({"descricao": "x" * 400, "detalhe": "y" * 200}, "correios"),
        ({"situacao": "E"}, "correios.situacao"),
        (
            {"unidade": {"endereco": {"cidade": "NITEROI", "pais": "BR"}}},
            "correios.unidade.endereco.pais",
        ),
    ],
)
def test_a_malformed_rastro_event_is_refused_with_where(
    overrides: dict[str, Any], loc: str
) -> None:
    error = _problems(_raw_event(**overrides))
    assert type(error) is ValidationFailedError
    assert [d["loc"] for d in error.details] == [loc]


def test_without_dt_hr_criado_occurred_at_is_still_required() -> None:
    error = _problems(_raw_event(dtHrCriado=None))
    assert "occurred_at is required" in error.details[0]["message"]


def test_an_unknown_rastro_code_is_accepted_as_unknown_with_its_text() -> None:
    event = _one(_raw_event(codigo="ZZZ", tipo="3", descricao="Objeto em rota nova", detalhe=None))
    assert (event.status, event.status_detail) == (S.UNKNOWN, None)
    assert event.carrier_status is not None
    assert (event.carrier_status.type, event.carrier_status.code) == ("ZZZ", "3")
    assert event.description == "Objeto em rota nova"


# --- an unknown code, from the carrier's POST to the merchant's webhook -----------------------

UNKNOWN_RAW = {"type": "XYZ", "code": "7", "description": "Objeto em rota de entrega por parceiro"}


def _shipment(event: CarrierEventIn) -> ShipmentEvent:
    return to_shipment_event(event, "correios", NOW)


def test_only_events_newly_queued_as_unknown_are_counted(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics.clear_metrics()
    events = parse_events(
        json.dumps(
            {
                "events": [
                    _event(carrier_event_id="a", status=None, carrier_status=UNKNOWN_RAW),
                    _event(carrier_event_id="b"),
                    _event(carrier_event_id="c", status=None, carrier_status=UNKNOWN_RAW),
                    _event(carrier_event_id="a", status=None, carrier_status=UNKNOWN_RAW),
                ]
            }
        ),
        now=NOW,
    )
    answers = [
        {"carrier_event_id": e.carrier_event_id, "event_id": "evt", "duplicate": dup}
        for e, dup in zip(events, [False, False, True, True], strict=True)
    ]
    response = IngestResponse.model_validate({"accepted": 2, "duplicates": 2, "events": answers})
    telemetry = PowertoolsIngestTelemetry()
    assert report_unmapped("correios", events, response, telemetry) == 1
    emf = metrics.serialize_metric_set()
    metrics.clear_metrics()
    assert emf["UnmappedCarrierStatus"] in (1.0, [1.0])
    [line] = [r for r in caplog.records if r.getMessage() == "unmapped carrier status"]
    assert (line.carrier_status_type, line.carrier_status_code) == ("XYZ", "7")  # type: ignore[attr-defined]
    assert line.vocabulary == "correios"  # type: ignore[attr-defined]
    # Counted per vocabulary too: one EMF document of its own, with the vocabulary dimension.
    [per_vocabulary] = [
        json.loads(out)
        for out in capsys.readouterr().out.splitlines()
        if "UnmappedCarrierStatusByVocabulary" in out
    ]
    assert per_vocabulary["vocabulary"] == "correios"
    assert per_vocabulary["UnmappedCarrierStatusByVocabulary"] in (1.0, [1.0])


def test_the_webhook_carries_detail_action_and_estimated_delivery() -> None:
    event = _one(_raw_event(codigo="LDI", tipo="01", dtPrevista="2026-12-01"))
    kit = FanoutKit([subscription(merchant_id="merchant-a")])
    asyncio.run(kit.fanout.handle_message(_shipment(event).model_dump_json()))
    data = json.loads(kit.sender.requests[0].body)["data"]
    assert data["status"] == "available_for_pickup"
    assert (data["status_detail"], data["action_required"]) == ("post_office", True)
    assert data["estimated_delivery"] == "2026-12-01"
    assert data["carrier_status"]["type"] == "LDI"


def test_an_estimated_time_travels_as_a_date_time_and_none_as_null() -> None:
    timed = _one(_event(estimated_delivery="2026-12-01T18:00:00-03:00"))
    data = json.loads(webhook_body(_shipment(timed)))["data"]
    assert data["estimated_delivery"] == "2026-12-01T18:00:00-03:00"
    plain = json.loads(webhook_body(_shipment(_one(_event()))))["data"]
    assert (plain["estimated_delivery"], plain["status_detail"]) == (None, None)
