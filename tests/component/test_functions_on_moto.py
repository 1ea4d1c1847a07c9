"""The functions' code paths against AWS that no other component test reaches: the authorizer
reading keys, the fan-out logging, marking, retrying, disabling and dead-lettering through its
adapters, ingest's dedupe when a store misbehaves, and redrive. tests/iam replays these, as
every test here that builds the moto stack, with each function under its own IAM role.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from devstack.template import parameter_default
from parcelhooks.auth.keys import create_key, generate_key
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.queues import FIRST_QUEUED
from parcelhooks.aws.subscriptions_table import SubscriptionsTable
from parcelhooks.core.api_keys import Role, Vocabulary
from parcelhooks.core.deliveries import DeliveryJob, delivery_id_of
from parcelhooks.core.ids import legacy_delivery_id
from parcelhooks.wiring import fanout as fanout_wiring
from parcelhooks.wiring import ingest as ingest_wiring
from testkit.factories import (
    EVENTS_DIR,
    LambdaContextStub,
    api_event,
    attempt_record,
    carrier_event,
    load_function,
    shipment_event,
    sqs_event,
    subscription,
)
from testkit.fakes import ScriptedSender

REGION = "us-east-1"


def _resource(table_or_queue: str) -> Any:
    return boto3.resource("dynamodb", region_name=REGION).Table(table_or_queue)


def _messages(queue_url: str) -> int:
    """Messages in a queue, delayed ones included (retries wait before they are visible)."""
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_the_authorizer_reads_a_live_key_and_refuses_unknown_and_revoked_ones(
    moto_stack: dict[str, str],
) -> None:
    keys = ApiKeysTable(_resource(moto_stack["API_KEYS_TABLE"]))
    key, record = create_key(keys, Role.CARRIER, "correios")
    app = load_function("authorizer")
    event = json.loads((EVENTS_DIR / "lambda" / "authorizer-request.json").read_text())
    event["headers"] = {"Authorization": f"Bearer {key}"}
    decision = app.handler(event, LambdaContextStub())
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert decision["context"]["owner_id"] == "correios"
    unknown = {**event, "headers": {"Authorization": f"Bearer {generate_key()}"}}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.handler(unknown, LambdaContextStub())
    keys.revoke(record.key_id, datetime.now(UTC))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.handler(event, LambdaContextStub())


@pytest.fixture
def fanout_app(moto_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fan-out handler as built for Lambda, AWS adapters and all; only the POSTs are fake:
    a.example/ok answers 204, /failing 500, /gone 410."""
    store = SubscriptionsTable(_resource(moto_stack["SUBSCRIPTIONS_TABLE"]))
    for name in ("ok", "failing", "gone"):
        store.put(subscription(id=f"sub_{name}", url=f"https://a.example/{name}"))
    sender = ScriptedSender(
        {
            "https://a.example/ok": [204],
            "https://a.example/failing": [500],
            "https://a.example/gone": [410],
        }
    )
    monkeypatch.setattr(fanout_wiring, "HttpSender", lambda **_: sender)
    return load_function("fanout")


def _retry_job(attempt: int, due_at: datetime) -> DeliveryJob:
    event = shipment_event(event_id="evt_iam")
    return DeliveryJob(
        delivery_id=delivery_id_of(event, "sub_failing"),
        event=event,
        subscription_id="sub_failing",
        merchant_id="merchant-a",
        attempt=attempt,
        due_at=due_at,
        first_attempt_at=due_at - timedelta(hours=1),
        last_attempt_at=due_at - timedelta(minutes=1),
        last_status=500,
    )


def test_the_fanout_logs_marks_retries_and_disables_through_aws(
    fanout_app: Any, moto_stack: dict[str, str]
) -> None:
    event = shipment_event(event_id="evt_iam")
    sent = fanout_app.handler(sqs_event([event.model_dump_json()]), LambdaContextStub())
    assert sent == {"batchItemFailures": []}
    store = SubscriptionsTable(_resource(moto_stack["SUBSCRIPTIONS_TABLE"]))
    gone = store.get("merchant-a", "sub_gone")
    assert gone is not None and not gone.enabled
    assert _messages(moto_stack["RETRY_QUEUE_URL"]) == 1
    log = _resource(moto_stack["DELIVERIES_TABLE"]).scan()["Items"]
    assert sorted(item["subscription_id"] for item in log) == ["sub_failing", "sub_gone", "sub_ok"]
    # The merchant's other subscriptions hear of the disable through the events queue.
    assert _messages(moto_stack["EVENTS_QUEUE_URL"]) == 1
    # The same event again (an SQS redelivery): its success line in the log spares sub_ok a
    # second POST, and sub_gone, disabled now, holds it.
    again = fanout_app.handler(sqs_event([event.model_dump_json()]), LambdaContextStub())
    assert again == {"batchItemFailures": []}
    log = _resource(moto_stack["DELIVERIES_TABLE"]).scan()["Items"]
    assert sorted((item["subscription_id"], item["outcome"]) for item in log) == [
        ("sub_failing", "retry"),
        ("sub_failing", "retry"),
        ("sub_gone", "disable"),
        ("sub_gone", "held"),
        ("sub_ok", "delivered"),
    ]


def test_a_delivery_logged_before_ids_held_their_time_is_not_sent_again(
    fanout_app: Any, moto_stack: dict[str, str]
) -> None:
    # An event delivered to sub_ok before the upgrade, under its legacy id, comes back (an
    # SQS redelivery, or a carrier's resend queued again): the legacy index finds the line.
    event = shipment_event(event_id="evt_legacy")
    table = _resource(moto_stack["DELIVERIES_TABLE"])
    DeliveryLogTable(table, timedelta(days=30)).record(
        [
            attempt_record(
                delivery_id=legacy_delivery_id(event.event_id, "sub_ok"),
                event_id=event.event_id,
                subscription_id="sub_ok",
                outcome="delivered",
                event=event,
            )
        ]
    )
    again = fanout_app.handler(sqs_event([event.model_dump_json()]), LambdaContextStub())
    assert again == {"batchItemFailures": []}
    lines = sorted((i["subscription_id"], i["outcome"]) for i in table.scan()["Items"])
    assert lines == [("sub_failing", "retry"), ("sub_gone", "disable"), ("sub_ok", "delivered")]


@pytest.mark.parametrize(
    ("receives", "marked", "first"),
    [("1", "true", True), ("2", "true", False), ("1", None, False), ("1", "false", False)],
)
def test_only_a_first_receive_of_an_event_ingest_queued_first_is_a_first_sight(
    fanout_app: Any, receives: str, marked: str | None, first: bool
) -> None:
    [record] = sqs_event(["{}"])["Records"]
    record["attributes"]["ApproximateReceiveCount"] = receives
    if marked is not None:
        record["messageAttributes"] = {FIRST_QUEUED: {"stringValue": marked, "dataType": "String"}}
    assert fanout_app.first_sight(SQSRecord(record)) is first


def test_the_fanout_defers_early_retries_and_dead_letters_the_last_one(
    fanout_app: Any, moto_stack: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    early = _retry_job(attempt=2, due_at=now + timedelta(hours=1))
    assert fanout_app.handler(sqs_event([early.model_dump_json()]), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert _messages(moto_stack["RETRY_QUEUE_URL"]) == 1
    attempts = len(parameter_default("RetrySchedule").split(",")) + 1
    last = _retry_job(attempt=attempts, due_at=now - timedelta(seconds=1))
    assert fanout_app.handler(sqs_event([last.model_dump_json()]), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert _messages(moto_stack["DELIVERIES_DLQ_URL"]) == 1


def _post_events(body: Any) -> dict[str, Any]:
    event = api_event("POST", "/v1/events", body, role="carrier", owner_id="correios")
    response: dict[str, Any] = load_function("ingest").handler(event, LambdaContextStub())
    return response


def _forget_the_old_item(parsed: dict[str, Any], **_: Any) -> None:
    """A store that does not return the item a failed condition met (MiniStack does not)."""
    if "Error" in parsed:
        parsed.pop("Item", None)


@pytest.mark.usefixtures("moto_stack")
def test_ingest_reads_a_claim_back_when_the_store_does_not_return_it() -> None:
    first = json.loads(_post_events(carrier_event())["body"])
    client = ingest_wiring.clients.dynamodb().meta.client
    client.meta.events.register("after-call.dynamodb.PutItem", _forget_the_old_item)
    response = _post_events(carrier_event())
    assert response["statusCode"] == 202
    again = json.loads(response["body"])
    assert again["duplicates"] == 1
    assert again["events"][0]["event_id"] == first["events"][0]["event_id"]


def test_an_event_sqs_refused_is_queued_by_the_resend_as_recorded(
    moto_stack: dict[str, str],
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.delete_queue(QueueUrl=moto_stack["EVENTS_QUEUE_URL"])
    assert _post_events(carrier_event())["statusCode"] == 503
    sqs.create_queue(QueueName=moto_stack["EVENTS_QUEUE_URL"].rsplit("/", 1)[1])
    shipments = _resource(moto_stack["SHIPMENTS_TABLE"]).scan(ConsistentRead=True)["Items"]
    [recorded] = [item for item in shipments if str(item["sk"]).startswith("event#")]
    again = json.loads(_post_events(carrier_event())["body"])
    # Kept with its place: the resend queues it (a duplicate of what may have been queued).
    assert again["duplicates"] == 1
    assert str(recorded["sk"]).endswith(again["events"][0]["event_id"])
    assert _messages(moto_stack["EVENTS_QUEUE_URL"]) == 1


def test_redrive_sends_an_events_dead_letter_back_and_releases_the_rest(
    moto_stack: dict[str, str],
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for event_id, merchant in [("evt_mine", "merchant-a"), ("evt_other", "merchant-b")]:
        event = shipment_event(event_id=event_id, merchant_id=merchant)
        sqs.send_message(QueueUrl=moto_stack["EVENTS_DLQ_URL"], MessageBody=event.model_dump_json())
    payload = {"queue": "events", "merchant_id": "merchant-a"}
    result = load_function("redrive").handler(payload, LambdaContextStub())
    assert (result["matched"], result["moved"], result["left"]) == (1, 1, 1)
    assert _messages(moto_stack["EVENTS_QUEUE_URL"]) == 1
    assert _messages(moto_stack["EVENTS_DLQ_URL"]) == 1


@pytest.mark.parametrize(
    ("vocabulary", "status"),
    [(Vocabulary.CANONICAL, "unknown"), (Vocabulary.CORREIOS, "delivery_attempted")],
)
def test_the_keys_vocabulary_decides_what_its_codes_mean_from_authorizer_to_queue(
    moto_stack: dict[str, str], vocabulary: Vocabulary, status: str
) -> None:
    keys = ApiKeysTable(_resource(moto_stack["API_KEYS_TABLE"]))
    key, _ = create_key(keys, Role.CARRIER, "some-carrier", vocabulary=vocabulary)
    authorizer = json.loads((EVENTS_DIR / "lambda" / "authorizer-request.json").read_text())
    authorizer["headers"] = {"Authorization": f"Bearer {key}"}
    decision = load_function("authorizer").handler(authorizer, LambdaContextStub())
    body = carrier_event(status=None, carrier_status={"type": "BDE", "code": "20"})
    request = api_event("POST", "/v1/events", body, role="carrier", owner_id="some-carrier")
    request["requestContext"]["authorizer"] = decision["context"]
    response = load_function("ingest").handler(request, LambdaContextStub())
    assert response["statusCode"] == 202, response["body"]
    sqs = boto3.client("sqs", region_name=REGION)
    [message] = sqs.receive_message(QueueUrl=moto_stack["EVENTS_QUEUE_URL"])["Messages"]
    queued = json.loads(message["Body"])
    assert (queued["status"], queued["carrier_status"]["code"]) == (status, "20")
