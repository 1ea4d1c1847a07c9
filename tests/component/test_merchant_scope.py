"""Who a carrier may send to, and ids that cannot collide once joined into table keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from parcelhooks.auth.keys import create_key
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.core.api_keys import InvalidOwnerIdError, Role
from testkit.factories import LambdaContextStub, api_event, carrier_event, load_function


def _post(event_body: Any, merchants: str | None) -> tuple[int, Any]:
    app = load_function("ingest")
    event = api_event("POST", "/v1/events", event_body, role="carrier", owner_id="correios")
    if merchants is not None:
        event["requestContext"]["authorizer"]["merchants"] = merchants
    response = app.handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"])


def _queued(env: dict[str, str]) -> list[Any]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    return sqs.receive_message(QueueUrl=env["EVENTS_QUEUE_URL"]).get("Messages", [])


def test_through_ingest_a_scoped_carrier_gets_403_naming_the_merchant_and_nothing_is_queued(
    moto_stack: dict[str, str],
) -> None:
    status, body = _post({"events": [carrier_event(merchant_id="merchant-b")]}, "merchant-a")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert "'merchant-b'" in body["error"]["details"][0]["message"]
    assert _queued(moto_stack) == []
    assert _post(carrier_event(merchant_id="merchant-a"), "merchant-a")[0] == 202


def test_through_ingest_a_merchant_typo_is_a_400_and_nothing_is_queued(
    moto_stack: dict[str, str],
) -> None:
    status, body = _post(carrier_event(merchant_id="merchant-aa"), None)
    assert status == 400 and body["error"]["code"] == "validation_failed"
    assert body["error"]["details"][0]["type"] == "unknown_merchant"
    assert _queued(moto_stack) == []


def test_a_revoked_merchant_still_exists_for_ingest(moto_stack: dict[str, str]) -> None:
    keys = ApiKeysTable(boto3.resource("dynamodb", region_name="us-east-1").Table("ApiKeysTable"))
    _, record = create_key(keys, Role.MERCHANT, "closing-shop")
    keys.revoke(record.key_id, datetime.now(UTC))
    assert keys.merchants_known(["closing-shop", "never-shop"]) == {"closing-shop"}


@pytest.mark.usefixtures("moto_stack")
@pytest.mark.parametrize("owner", ["a#b", "shop,b", "", " shop", "shop\x00", "-shop", "x" * 129])
def test_the_key_store_refuses_owner_ids_that_could_collide(owner: str) -> None:
    keys = ApiKeysTable(boto3.resource("dynamodb", region_name="us-east-1").Table("ApiKeysTable"))
    with pytest.raises(InvalidOwnerIdError):
        create_key(keys, Role.CARRIER, owner)
    with pytest.raises(InvalidOwnerIdError):
        create_key(keys, Role.CARRIER, "correios", merchants=[owner])
