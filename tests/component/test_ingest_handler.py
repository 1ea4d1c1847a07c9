import json
from typing import Any

import boto3
import pytest

from parcelhooks.aws.queues import FIRST_QUEUED, EventsQueue
from testkit.factories import LambdaContextStub, api_event, carrier_event, load_function, nested
from tests.component.stack import StackReader

pytestmark = pytest.mark.usefixtures("moto_stack")


def _post(body: Any = None, role: str = "carrier", raw: str | None = None) -> dict[str, Any]:
    app = load_function("ingest")
    event = api_event("POST", "/v1/events", body, role=role, owner_id="correios", raw_body=raw)
    return app.handler(event, LambdaContextStub())


def _queued(env: dict[str, str]) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=env["EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_a_valid_event_is_answered_202_and_queued(moto_stack: dict[str, str]) -> None:
    response = _post(carrier_event())
    assert response["statusCode"] == 202
    body = json.loads(response["body"])
    assert body["accepted"] == 1 and body["events"][0]["event_id"].startswith("evt_")
    [queued] = _queued(moto_stack)
    assert queued["carrier"] == "correios" and queued["event_id"] == body["events"][0]["event_id"]


def test_a_duplicate_is_queued_again_as_recorded_and_unmarked(moto_stack: dict[str, str]) -> None:
    # The request that recorded it may have died before queueing it: the copy queued again
    # is the same event, and without FirstQueued the fan-out asks its log what was sent.
    first = json.loads(_post(carrier_event())["body"])
    second = json.loads(_post(carrier_event(description="sent again, edited"))["body"])
    assert second["duplicates"] == 1
    assert second["events"][0]["event_id"] == first["events"][0]["event_id"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(
        QueueUrl=moto_stack["EVENTS_QUEUE_URL"],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
    )["Messages"]
    assert len(got) == 2 and got[0]["Body"] == got[1]["Body"]
    assert sorted(FIRST_QUEUED in m.get("MessageAttributes", {}) for m in got) == [False, True]


def test_an_invalid_batch_is_a_400_listing_problems_and_queues_nothing(
    moto_stack: dict[str, str],
) -> None:
    body = {"events": [carrier_event(), carrier_event(carrier_event_id="x", tracking_code="1")]}
    response = _post(body)
    assert response["statusCode"] == 400
    error = json.loads(response["body"])["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0]["loc"] == "events[1].tracking_code"
    assert _queued(moto_stack) == []


def test_malformed_json_is_a_400_in_the_error_shape(moto_stack: dict[str, str]) -> None:
    response = _post(raw="{nope")
    assert response["statusCode"] == 400
    assert set(json.loads(response["body"])["error"]) == {"code", "message", "details"}


def test_a_merchant_key_that_reaches_ingest_is_refused(moto_stack: dict[str, str]) -> None:
    response = _post(carrier_event(), role="merchant")
    assert response["statusCode"] == 403
    assert _queued(moto_stack) == []


def test_a_body_that_is_not_json_by_content_type_is_a_415(moto_stack: dict[str, str]) -> None:
    app = load_function("ingest")
    event = api_event("POST", "/v1/events", carrier_event(), role="carrier", owner_id="correios")
    event["headers"] = {"content-type": "text/plain"}
    response = app.handler(event, LambdaContextStub())
    assert response["statusCode"] == 415
    assert json.loads(response["body"])["error"]["code"] == "unsupported_media_type"
    assert _queued(moto_stack) == []


def _no_trace(env: dict[str, str]) -> bool:
    stack = StackReader(env)
    return stack.shipment_items() == [] and stack.messages("EVENTS_QUEUE_URL") == 0


def _error(response: dict[str, Any]) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(response["body"])["error"]
    assert set(error) == {"code", "message", "details"} and error["details"]
    return error


def test_deep_metadata_is_a_400_that_leaves_no_claim_so_the_fix_is_accepted(
    moto_stack: dict[str, str],
) -> None:
    # Class A: it used to fail serializing after the claim, so the corrected resend got 503.
    response = _post(carrier_event(metadata=nested(300)))
    assert response["statusCode"] == 400
    assert _error(response)["code"] == "malformed_json"
    assert _no_trace(moto_stack)
    fixed = _post(carrier_event(metadata={"note": "flat now"}))
    assert fixed["statusCode"] == 202
    assert json.loads(fixed["body"])["accepted"] == 1


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 50_000 + "]" * 50_000,
        '{"events": ' + "[" * 2_000 + "]" * 2_000 + "}",
        json.dumps(carrier_event())[:-1] + ', "metadata": {"w": NaN}}',
        json.dumps(carrier_event())[:-1] + ', "metadata": {"w": 1e999}}',
        json.dumps(carrier_event())[:-1] + ', "merchant_id": "merchant-b"}',
    ],
    ids=["deep-arrays", "deep-batch", "nan", "overflow", "repeated-key"],
)
def test_odd_json_is_a_400_naming_where_and_nothing_is_claimed_or_queued(
    moto_stack: dict[str, str], raw: str
) -> None:
    response = _post(raw=raw)
    assert response["statusCode"] == 400
    assert _error(response)["code"] == "malformed_json"
    assert _no_trace(moto_stack)


def test_an_unexpected_error_while_queueing_is_finished_by_the_resend(
    moto_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The event is recorded (its history item is its claim) before it is queued: the
    # resend queues that copy, same event_id and body, and answers it as a duplicate.
    def explode(self: EventsQueue, events: Any, first_queued: Any = ()) -> list[str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(EventsQueue, "publish", explode)
    assert _post(carrier_event())["statusCode"] == 500
    assert _queued(moto_stack) == []
    [recorded] = [i for i in StackReader(moto_stack).shipment_items() if "event" in i]
    monkeypatch.undo()
    body = json.loads(_post(carrier_event())["body"])
    assert (body["accepted"], body["duplicates"]) == (0, 1)
    [queued] = _queued(moto_stack)
    assert queued["event_id"] == body["events"][0]["event_id"]
    assert str(recorded["sk"]).endswith(queued["event_id"]) and queued["sequence"] == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"tracking_code": "QB12\x003456"},
        {"merchant_id": "merchant#a"},
        {"occurred_at": "0001-01-01T00:00:00+14:00"},
        {"occurred_at": "9999-12-31T23:59:59Z"},
        {"description": "line\nbreak"},
    ],
    ids=["nul", "owner-id", "year-1", "year-9999", "newline"],
)
def test_text_and_times_the_contract_does_not_mean_are_a_400(
    moto_stack: dict[str, str], overrides: dict[str, Any]
) -> None:
    # Class C.
    response = _post(carrier_event(**overrides))
    assert response["statusCode"] == 400
    assert [d["loc"] for d in _error(response)["details"]] == list(overrides)
    assert StackReader(moto_stack).shipment_items() == []
