"""Raw objects in a carrier's own format: a Loggi package and a Melhor Envio webhook, as the
samples in events/carrier/ hold them, read into our fields and in their carrier's codes."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.core.errors import ValidationFailedError
from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.events import CarrierEventIn, parse_events
from parcelhooks_cli.send import stamp_times
from testkit.factories import EVENTS_DIR, NOW

SAMPLES = EVENTS_DIR / "carrier"


def sample(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    stamp_times(payload, NOW)
    return payload


def read(payload: dict[str, Any], vocabulary: Vocabulary = Vocabulary.CANONICAL) -> CarrierEventIn:
    [event] = parse_events(json.dumps(payload), now=NOW, vocabulary=vocabulary)
    return event


def test_the_loggi_sample_is_read_in_loggi_codes_whatever_the_key() -> None:
    for vocabulary in (Vocabulary.CANONICAL, Vocabulary.CORREIOS, Vocabulary.LOGGI):
        event = read(sample("loggi_raw_package.json"), vocabulary)
        assert (event.status, event.status_detail) == (Status.DELIVERED, StatusDetail.TO_RECIPIENT)
        assert event.occurred_at == NOW - timedelta(minutes=10)
        assert event.occurred_at_zone is None  # Loggi gives UTC
        assert event.description == "O pacote foi recebido no endereço de entrega."
        assert event.carrier_status is not None
        assert (event.carrier_status.code, event.carrier_status.description) == ("5", "Entregue")
        assert event.location is not None
        assert (event.location.city, event.location.state, event.location.country) == (
            "São Paulo",
            "SP",
            "BR",
        )
        assert event.estimated_delivery == NOW.astimezone(ZoneInfo("America/Sao_Paulo")).date()


def test_a_loggi_code_given_as_a_number_is_the_same_code() -> None:
    payload = sample("loggi_raw_package.json")
    payload["loggi"]["status"]["code"] = 11
    event = read(payload)
    assert event.status is Status.OUT_FOR_DELIVERY


def test_the_melhor_envio_sample_takes_the_time_of_its_event() -> None:
    event = read(sample("melhor_envio_raw_webhook.json"))
    assert event.status is Status.POSTED
    assert event.occurred_at == NOW - timedelta(hours=2)  # data.posted_at, not created_at
    assert event.carrier_status is not None
    assert (event.carrier_status.code, event.carrier_status.description) == (
        "order.posted",
        "posted",
    )
    assert event.description  # Melhor Envio's words for order.posted, from its table


def test_a_melhor_envio_event_without_a_time_of_its_own_needs_occurred_at() -> None:
    payload = sample("melhor_envio_raw_webhook.json")
    payload["melhor_envio"]["event"] = "order.undelivered"
    with pytest.raises(ValidationFailedError) as refused:
        read(payload)
    assert "occurred_at is required" in json.dumps(refused.value.details)
    payload["occurred_at"] = (NOW - timedelta(hours=1)).isoformat()
    event = read(payload)
    assert event.status is Status.EXCEPTION
    assert event.occurred_at == NOW - timedelta(hours=1)


def test_what_the_event_sends_wins_over_the_raw_object() -> None:
    payload = sample("loggi_raw_package.json")
    payload["description"] = "Entregue na portaria"
    payload["occurred_at"] = (NOW - timedelta(hours=3)).isoformat()
    event = read(payload)
    assert event.description == "Entregue na portaria"
    assert event.occurred_at == NOW - timedelta(hours=3)


def test_two_raw_objects_in_one_event_are_refused() -> None:
    payload = sample("loggi_raw_package.json")
    payload["melhor_envio"] = sample("melhor_envio_raw_webhook.json")["melhor_envio"]
    with pytest.raises(ValidationFailedError) as refused:
        read(payload)
    assert "at most one raw carrier object" in json.dumps(refused.value.details)


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("loggi_raw_package.json", ("loggi", "status", "updatedTime"), "2021-05-05T10:40:18"),
        ("loggi_raw_package.json", ("loggi", "unexpected"), 1),
        ("loggi_raw_package.json", ("loggi", "status", "code"), ""),
        ("melhor_envio_raw_webhook.json", ("melhor_envio", "data", "posted_at"), "yesterday"),
        ("melhor_envio_raw_webhook.json", ("melhor_envio", "vocabulary"), "correios"),
    ],
)
def test_a_malformed_raw_object_is_a_400_naming_the_field(
    name: str, path: tuple[str, ...], value: object
) -> None:
    payload = copy.deepcopy(sample(name))
    target = payload
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(ValidationFailedError) as refused:
        read(payload)
    assert any(path[-1] in str(d["loc"]) for d in refused.value.details)


def test_a_raw_time_older_than_the_window_is_refused() -> None:
    payload = sample("loggi_raw_package.json")
    payload["loggi"]["status"]["updatedTime"] = (NOW - timedelta(days=400)).isoformat()
    with pytest.raises(ValidationFailedError):
        read(payload)


def test_an_unknown_code_in_a_raw_object_is_counted_in_its_carrier_s_vocabulary() -> None:
    payload = sample("loggi_raw_package.json")
    payload["loggi"]["status"]["code"] = "999"
    event = read(payload, Vocabulary.CORREIOS)
    assert event.status is Status.UNKNOWN
    assert event.code_vocabulary is Vocabulary.LOGGI
    own = read(
        {k: v for k, v in payload.items() if k != "loggi"}
        | {"status": None, "carrier_status": {"code": "999"}, "occurred_at": NOW.isoformat()},
        Vocabulary.JADLOG,
    )
    assert own.code_vocabulary is Vocabulary.JADLOG
