"""The Lambda events in events/lambda are what the functions really accept."""

import json
from datetime import UTC, datetime

import pytest
import time_machine

from parcelhooks.auth.keys import hash_key
from parcelhooks.auth.policy import authorize, bearer_token
from parcelhooks.core.api_keys import ApiKeyRecord, Role
from parcelhooks.wiring import fanout as fanout_wiring
from tests.factories import EVENTS_DIR, NOW, LambdaContextStub, load_function, subscription
from tests.fakes import FanoutKit

LAMBDA_EVENTS = EVENTS_DIR / "lambda"


@pytest.mark.usefixtures("moto_stack")
def test_the_api_gateway_sample_is_accepted_by_ingest() -> None:
    event = json.loads((LAMBDA_EVENTS / "apigw-post-events.json").read_text())
    # A recorded request: replayed at the time API Gateway received it, as ingest checks
    # occurred_at against the time of the request.
    received = datetime.fromtimestamp(event["requestContext"]["requestTimeEpoch"] / 1000, UTC)
    with time_machine.travel(received):
        response = load_function("ingest").handler(event, LambdaContextStub())
    assert response["statusCode"] == 202
    assert json.loads(response["body"])["accepted"] == 1


def test_the_sqs_sample_is_fanned_out(monkeypatch: pytest.MonkeyPatch) -> None:
    event = json.loads((LAMBDA_EVENTS / "sqs-events-queue.json").read_text())
    body = json.loads(event["Records"][0]["body"])
    kit = FanoutKit([subscription(merchant_id=body["merchant_id"])])
    monkeypatch.setattr(fanout_wiring, "fanout", lambda: kit.fanout)
    response = load_function("fanout").handler(event, LambdaContextStub())
    assert response == {"batchItemFailures": []}
    assert [r.headers["webhook-id"] for r in kit.sender.requests] == [body["event_id"]]


def test_the_authorizer_sample_is_allowed_for_its_carrier_key() -> None:
    event = json.loads((LAMBDA_EVENTS / "authorizer-request.json").read_text())
    key = bearer_token(event["headers"])
    assert key is not None
    record = ApiKeyRecord(
        key_id="key_1",
        key_hash=hash_key(key),
        role=Role.CARRIER,
        owner_id="correios",
        created_at=NOW,
    )
    decision = authorize(event["headers"], event["methodArn"], {record.key_hash: record}.get)
    assert decision["context"]["role"] == "carrier"
    assert decision["policyDocument"]["Statement"][0]["Resource"] == [event["methodArn"]]
