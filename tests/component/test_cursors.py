"""Page cursors are opaque and signed: a forged, altered or borrowed one is a 400, never a 500."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from parcelhooks.aws.cursor_key import CURSOR_KEY_ITEM, stored_cursor_key
from testkit.factories import FORGED_CURSORS, LambdaContextStub, api_event, load_function

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["shipment.delivered"]}


@pytest.mark.usefixtures("moto_stack")
def test_every_container_of_the_stack_signs_with_the_one_stored_key(
    moto_stack: dict[str, str],
) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["SUBSCRIPTIONS_TABLE"]
    )
    first = stored_cursor_key(table)
    assert stored_cursor_key(table) == first and len(first) == 32
    assert table.get_item(Key=CURSOR_KEY_ITEM)["Item"]["merchant_id"] == "#stack"


def _call(path: str, query: dict[str, str], merchant: str = "merchant-a") -> tuple[int, Any]:
    app = load_function("admin")
    event = api_event("GET", path, None, role="merchant", owner_id=merchant, query=query)
    response = app.handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"])


def _create(merchant: str) -> str:
    app = load_function("admin")
    event = api_event("POST", "/v1/subscriptions", NEW, role="merchant", owner_id=merchant)
    response = app.handler(event, LambdaContextStub())
    assert response["statusCode"] == 201
    return str(json.loads(response["body"])["id"])


@pytest.mark.usefixtures("moto_stack")
@pytest.mark.parametrize("cursor", [c for c in FORGED_CURSORS if c])
@pytest.mark.parametrize("route", ["subscriptions", "deliveries"])
def test_a_forged_cursor_is_a_400_invalid_cursor_on_every_list_route(
    cursor: str, route: str
) -> None:
    subscription_id = _create("merchant-a")
    path = "/v1/subscriptions"
    if route == "deliveries":
        path = f"/v1/subscriptions/{subscription_id}/deliveries"
    status, body = _call(path, {"cursor": cursor})
    # Over 2,048 characters the query parameter itself is invalid, before any cursor check.
    expected = "validation_failed" if len(cursor) > 2048 else "invalid_cursor"
    assert (status, body["error"]["code"]) == (400, expected), body


@pytest.mark.usefixtures("moto_stack")
def test_another_merchants_cursor_is_a_400_and_shows_nothing() -> None:
    for _ in range(3):
        _create("merchant-b")
    _, page = _call("/v1/subscriptions", {"limit": "1"}, merchant="merchant-b")
    assert page["next_cursor"]
    status, body = _call("/v1/subscriptions", {"cursor": page["next_cursor"]})
    assert status == 400 and body["error"]["code"] == "invalid_cursor"
