"""The Lambda events in events/lambda are what the functions really accept."""

import json

import pytest

from parcelhooks.auth.keys import hash_key
from parcelhooks.auth.policy import authorize, bearer_token
from parcelhooks.core.api_keys import ApiKeyRecord, Role
from parcelhooks.wiring import fanout as fanout_wiring
from testkit.factories import EVENTS_DIR, NOW, LambdaContextStub, load_function, subscription
from testkit.fakes import FanoutKit

LAMBDA_EVENTS = EVENTS_DIR / "lambda"


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
