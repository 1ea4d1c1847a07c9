"""Correios on the local stack: a raw Rastro event and a code nobody mapped, each from the
carrier's POST to a merchant's receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from tests.e2e.conftest import Api, carrier_event, subscribe

DELIVERY_TIMEOUT_S = 30
BRASILIA = timedelta(hours=-3)


def _delivered(receiver: Any, subscription: dict[str, Any]) -> dict[str, Any]:
    [received] = receiver.wait_for(1, DELIVERY_TIMEOUT_S)
    payload: dict[str, Any] = Webhook(subscription["secret"]).verify(
        received.body, received.headers
    )
    return payload


def test_a_rastro_event_without_status_arrives_with_status_detail_and_text(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory()
    subscription = subscribe(merchant, receiver.url, ["shipment.delivery_attempted"])
    # Rastro writes Brasília time without an offset; an hour ago keeps it in ingest's window.
    created = (datetime.now(UTC) + BRASILIA - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    event = carrier_event(merchant.owner_id)
    for ours in ("status", "occurred_at", "description"):
        del event[ours]
    event["correios"] = {
        "codigo": "BDE",
        "tipo": "20",
        "dtHrCriado": created,
        "descricao": "A entrega não pode ser efetuada - Carteiro não atendido",
        "detalhe": "Será realizada nova tentativa de entrega",
        "unidade": {
            "tipo": "Unidade de Distribuição",
            "endereco": {"cidade": "NITEROI", "uf": "RJ"},
        },
    }
    response = carrier.call("POST", "/v1/events", event)
    assert response.status_code == 202, response.text

    payload = _delivered(receiver, subscription)
    assert payload["type"] == "shipment.delivery_attempted"
    data = payload["data"]
    assert (data["status_detail"], data["action_required"]) == ("recipient_absent", False)
    assert data["carrier_status"] == {
        "type": "BDE",
        "code": "20",
        "description": "A entrega não pode ser efetuada - Carteiro não atendido",
    }
    assert data["description"].endswith("Será realizada nova tentativa de entrega")
    assert data["location"]["city"] == "NITEROI"
    assert datetime.fromisoformat(data["occurred_at"]).utcoffset() == BRASILIA


def test_an_unknown_code_arrives_as_shipment_unknown_with_its_raw_code(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    receiver = receiver_factory()
    subscription = subscribe(merchant, receiver.url, ["shipment.unknown"])
    raw = {"type": "XYZ", "code": "7", "description": "Objeto em rota de entrega por parceiro"}
    event = carrier_event(merchant.owner_id, carrier_status=raw, description=raw["description"])
    del event["status"]
    response = carrier.call("POST", "/v1/events", event)
    assert response.status_code == 202, response.text

    payload = _delivered(receiver, subscription)
    assert payload["type"] == "shipment.unknown"
    data = payload["data"]
    assert (data["status"], data["status_detail"]) == ("unknown", None)
    assert data["carrier_status"] == raw
    assert data["description"] == raw["description"]
