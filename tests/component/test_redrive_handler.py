"""The redrive function against moto's SQS: holds, releases and deletes as SQS does."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from parcelhooks.core.deliveries import DeadLetter
from testkit.factories import NOW, LambdaContextStub, load_function, shipment_event, subscription

pytestmark = pytest.mark.usefixtures("moto_stack")


def _dead(n: int, sub: str) -> str:
    return DeadLetter(
        delivery_id=f"dlv_{n}",
        event=shipment_event(event_id=f"evt_{n}", merchant_id="merchant-a"),
        subscription_id=sub,
        merchant_id="merchant-a",
        attempts=4,
        last_status=503,
        last_error=None,
        first_attempt_at=NOW,
        last_attempt_at=NOW,
    ).model_dump_json()


def _invoke(payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = load_function("redrive").handler(payload, LambdaContextStub())
    return result


def _bodies(sqs: Any, url: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_redrive_moves_one_subscriptions_dead_letters_and_leaves_the_others(
    moto_stack: dict[str, str],
) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("SubscriptionsTable")
    for sub_id in ("sub_1", "sub_2"):
        item = subscription(id=sub_id, merchant_id="merchant-a").model_dump(
            mode="json", exclude={"id"}, exclude_none=True
        )
        table.put_item(Item={**item, "subscription_id": sub_id})
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = moto_stack["DELIVERIES_DLQ_URL"]
    for n, sub in [(1, "sub_1"), (2, "sub_2"), (3, "sub_1")]:
        sqs.send_message(QueueUrl=dlq, MessageBody=_dead(n, sub))
    dry = _invoke({"queue": "deliveries", "subscription_id": "sub_1", "dry_run": True})
    assert (dry["matched"], dry["moved"], dry["left"]) == (2, 2, 1)
    assert _bodies(sqs, moto_stack["RETRY_QUEUE_URL"]) == []
    result = _invoke({"queue": "deliveries", "subscription_id": "sub_1"})
    assert (result["matched"], result["moved"], result["left"]) == (2, 2, 1)
    assert sorted(result["moved_ids"]) == ["dlv_1", "dlv_3"]
    jobs = _bodies(sqs, moto_stack["RETRY_QUEUE_URL"])
    assert sorted((j["delivery_id"], j["attempt"], j["origin"]) for j in jobs) == [
        ("dlv_1", 5, "redrive"),
        ("dlv_3", 5, "redrive"),
    ]
    [left] = _bodies(sqs, dlq)  # released at once: readable by the next run
    assert left["delivery_id"] == "dlv_2"


def test_a_bad_payload_answers_the_problems_and_moves_nothing() -> None:
    answer = _invoke({"queue": "everything", "max_messages": -1})
    assert answer["error"]["code"] == "validation_failed"
    assert {d["loc"] for d in answer["error"]["details"]} == {"queue", "max_messages"}
