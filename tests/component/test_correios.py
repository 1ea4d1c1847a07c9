"""Correios through ingest on the moto stack: a code nobody mapped travels to a
`shipment.unknown` webhook. (Every SRO code and the Rastro event shape:
tests/unit/test_correios.py.)"""

from __future__ import annotations

import asyncio
import json

import boto3
import pytest

from testkit.factories import (
    LambdaContextStub,
    api_event,
    carrier_event,
    load_function,
    subscription,
)
from testkit.fakes import FanoutKit

UNKNOWN_RAW = {"type": "XYZ", "code": "7", "description": "Objeto em rota de entrega por parceiro"}


@pytest.mark.usefixtures("moto_stack")
def test_an_unknown_code_reaches_the_webhook_as_shipment_unknown(
    moto_stack: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    body = carrier_event(
        status=None, carrier_status=UNKNOWN_RAW, description=UNKNOWN_RAW["description"]
    )
    request = api_event("POST", "/v1/events", body, role="carrier", owner_id="correios")
    response = load_function("ingest").handler(request, LambdaContextStub())
    assert response["statusCode"] == 202, response["body"]
    assert '"UnmappedCarrierStatus"' in capsys.readouterr().out  # the EMF line, flushed

    sqs = boto3.client("sqs", region_name="us-east-1")
    [message] = sqs.receive_message(QueueUrl=moto_stack["EVENTS_QUEUE_URL"])["Messages"]
    kit = FanoutKit([subscription(merchant_id="merchant-a", event_types=["shipment.unknown"])])
    asyncio.run(kit.fanout.handle_message(message["Body"]))

    [delivered] = kit.sender.requests
    webhook = json.loads(delivered.body)
    assert webhook["type"] == "shipment.unknown"
    data = webhook["data"]
    assert (data["status"], data["status_detail"], data["action_required"]) == (
        "unknown",
        None,
        False,
    )
    assert data["carrier_status"] == UNKNOWN_RAW
    assert data["description"] == UNKNOWN_RAW["description"]
