"""Page cursors are opaque and signed: a forged, altered or borrowed one is a 400, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcelhooks.aws.cursor_key import CURSOR_KEY_ITEM, stored_cursor_key
from parcelhooks.aws.pages import CursorSigner
from parcelhooks.core.errors import InvalidCursorError
from tests.factories import LambdaContextStub, api_event, load_function

KEY = frozenset({"merchant_id", "subscription_id"})
SIGNER = CursorSigner(lambda: b"k" * 32)
NEW = {"url": "https://erp.example.com/hooks", "event_types": ["shipment.delivered"]}


def _start(merchant: str = "merchant-a") -> dict[str, str]:
    return {"merchant_id": merchant, "subscription_id": "sub_1"}


def test_a_cursor_comes_back_as_the_key_it_was_made_from() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-a", _start())
    assert cursor is not None
    assert SIGNER.decode("subscriptions/merchant-a", cursor, KEY) == _start()


def test_no_last_key_is_no_cursor_and_no_cursor_is_the_first_page() -> None:
    assert SIGNER.encode("subscriptions/merchant-a", None) is None
    assert SIGNER.decode("subscriptions/merchant-a", None, KEY) == {}
    assert SIGNER.decode("subscriptions/merchant-a", "", KEY) == {}


def test_a_cursor_of_another_listing_is_refused() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-b", _start("merchant-b"))
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("deliveries/merchant-b", cursor, KEY)


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    cursor = CursorSigner(lambda: b"x" * 32).encode("subscriptions/merchant-a", _start())
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)


def _unsigned(content: Any) -> str:
    """What an attacker can make without the key: the old format, or ours re-encoded."""
    return base64.urlsafe_b64encode(json.dumps(content).encode()).decode()


FORGED = [
    _unsigned({"merchant_id": "merchant-a"}),  # a key with parts missing
    _unsigned({"merchant_id": "merchant-a", "subscription_id": 7}),  # a number
    _unsigned({"merchant_id": "merchant-a", "subscription_id": 1.5e300}),  # a float
    _unsigned(["merchant-a"]),
    _unsigned({"s": "subscriptions/merchant-a", "k": _start()}) + ".AAAAAAAAAAAAAAAAAAAAAA",
    "!!!",
    "a.b.c",
    "é" * 10,
    "A" * 5000,
    "",
]


@pytest.mark.parametrize("cursor", [c for c in FORGED if c])
def test_forged_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)


def test_one_changed_character_is_refused() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-a", _start())
    assert cursor is not None
    for index in range(len(cursor)):
        changed = cursor[:index] + ("A" if cursor[index] != "A" else "B") + cursor[index + 1 :]
        with pytest.raises(InvalidCursorError):
            SIGNER.decode("subscriptions/merchant-a", changed, KEY)


def test_a_signed_key_of_the_wrong_shape_is_refused() -> None:
    cursor = SIGNER.encode("subscriptions/merchant-a", {"merchant_id": "merchant-a", "x": "y"})
    with pytest.raises(InvalidCursorError):
        SIGNER.decode("subscriptions/merchant-a", cursor, KEY)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_start_key_or_an_invalid_cursor(cursor: str) -> None:
    try:
        start = SIGNER.decode("subscriptions/merchant-a", cursor, KEY)
    except InvalidCursorError:
        return
    assert start == {}


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
@pytest.mark.parametrize("cursor", [c for c in FORGED if c])
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
