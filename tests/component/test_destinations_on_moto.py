"""The fan-out handler as built for Lambda, with SES and KMS on moto: a secret header sealed by
the merchant API is opened and sent, an e-mail reaches SES, SES throttling is retried on the
schedule, and no secret reaches a log line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from parcelhooks.core.deliveries import DeliveryJob
from parcelhooks.wiring import fanout as fanout_wiring
from testkit.factories import (
    LambdaContextStub,
    api_event,
    load_function,
    shipment_event,
    sqs_event,
)
from testkit.fakes import ScriptedSender

REGION = "us-east-1"
TOKEN = "bearer-token-that-must-never-be-logged"
BUYER = "ana.compradora@example.com"


@pytest.fixture
def sender(moto_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ScriptedSender:
    """Only the POSTs are fake; tables, queues, KMS and SES are moto's."""
    scripted = ScriptedSender()
    monkeypatch.setattr(fanout_wiring, "HttpSender", lambda **_: scripted)
    return scripted


def _create(body: dict[str, Any]) -> dict[str, Any]:
    admin = load_function("admin")
    event = api_event("POST", "/v1/subscriptions", body, role="merchant", owner_id="merchant-a")
    response = admin.handler(event, LambdaContextStub())
    assert response["statusCode"] == 201, response["body"]
    created: dict[str, Any] = json.loads(response["body"])
    return created


def _fan_out(event_json: str) -> dict[str, Any]:
    result: dict[str, Any] = load_function("fanout").handler(
        sqs_event([event_json]), LambdaContextStub()
    )
    return result


def _log(moto_stack: dict[str, str], subscription_id: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name=REGION).Table(moto_stack["DELIVERIES_TABLE"])
    items = table.scan()["Items"]
    return [item for item in items if item["subscription_id"] == subscription_id]


def _sent_mail() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _event() -> Any:
    return shipment_event(
        event_id="evt_dest",
        order_id="A-1001",
        metadata={"buyer_email": BUYER, "buyer_phone": "+55 81 99999-0000"},
    )


def test_a_sealed_header_is_opened_by_the_fanout_and_sent_and_never_logged(
    sender: ScriptedSender, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(
        {
            "url": "https://erp.example.com/orders/{{ data.order_id }}",
            "event_types": ["shipment.delivered"],
            "method": "PUT",
            "headers": [{"name": "Authorization", "value": f"Bearer {TOKEN}", "secret": True}],
        }
    )
    assert _fan_out(_event().model_dump_json()) == {"batchItemFailures": []}
    [request] = sender.requests
    assert (request.method, request.url) == ("PUT", "https://erp.example.com/orders/A-1001")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in capsys.readouterr().out


def test_an_email_destination_sends_through_ses_with_the_buyer_masked_in_the_log(
    sender: ScriptedSender, moto_stack: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    created = _create(
        {
            "kind": "email",
            "event_types": ["shipment.delivered"],
            "email": {
                "to": "{{ data.metadata.buyer_email }}",
                "subject": "Pedido {{ data.order_id }} entregue",
                "text": "{{ message.pt_BR }}",
            },
        }
    )
    assert _fan_out(_event().model_dump_json()) == {"batchItemFailures": []}
    [mail] = _sent_mail()
    assert mail.destinations["ToAddresses"] == [BUYER]
    assert mail.subject == "Pedido A-1001 entregue"
    assert mail.body == "Seu pedido A-1001 foi entregue."
    [line] = _log(moto_stack, created["id"])
    assert (line["outcome"], line["status_code"]) == ("delivered", 200)
    # The delivery list and the function's log show the address masked (LGPD).
    assert BUYER not in line["response_excerpt"] and "a***@e***.com" in line["response_excerpt"]
    assert BUYER not in capsys.readouterr().out


def test_ses_throttling_is_a_failed_attempt_retried_on_the_schedule(
    sender: ScriptedSender, moto_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No wait before the retry, so the test reads it from the queue at once.
    monkeypatch.setenv("RETRY_SCHEDULE_S", "0")
    created = _create(
        {
            "kind": "email",
            "event_types": ["shipment.delivered"],
            "email": {"to": "loja@example.com", "subject": "Entregue", "text": "ok"},
        }
    )
    throttled = {"count": 0}

    def throttle(**_: Any) -> tuple[Any, dict[str, Any]]:
        throttled["count"] += 1
        answer = {
            "Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return _HttpAnswer(400), answer

    # The fan-out's own SES client, as its wiring makes it (the IAM tier signs it with its role).
    ses = fanout_wiring.clients.ses()
    ses.meta.events.register_first("before-call.ses.SendEmail", throttle, unique_id="throttle")
    try:
        assert _fan_out(_event().model_dump_json()) == {"batchItemFailures": []}
    finally:
        ses.meta.events.unregister("before-call.ses.SendEmail", unique_id="throttle")
    # One try in the invocation (boto3's own retries are off for SES): the queue retries it.
    assert throttled["count"] == 1 and _sent_mail() == []
    [line] = _log(moto_stack, created["id"])
    assert (line["outcome"], line["status_code"], line["error"]) == (
        "retry",
        400,
        "ses_Throttling",
    )
    sqs = boto3.client("sqs", region_name=REGION)
    [message] = sqs.receive_message(QueueUrl=moto_stack["RETRY_QUEUE_URL"])["Messages"]
    job = DeliveryJob.model_validate_json(message["Body"])
    assert job.attempt == 2
    # The retry, once due, reaches SES.
    due = job.model_copy(update={"due_at": datetime.now(UTC)})
    assert _fan_out(due.model_dump_json()) == {"batchItemFailures": []}
    assert len(_sent_mail()) == 1
    outcomes = sorted(str(item["outcome"]) for item in _log(moto_stack, created["id"]))
    assert outcomes == ["delivered", "retry"]


class _HttpAnswer:
    """The HTTP part of a short-circuited botocore call."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
