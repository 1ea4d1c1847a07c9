import json
from typing import Any

import pytest

from tests.factories import LambdaContextStub, api_event, load_function

pytestmark = pytest.mark.usefixtures("moto_stack")

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["shipment.delivered"]}


def _call(
    method: str, path: str, body: Any = None, merchant: str = "merchant-a", **kw: Any
) -> tuple[int, Any]:
    app = load_function("admin")
    response = app.handler(
        api_event(method, path, body, role="merchant", owner_id=merchant, **kw), LambdaContextStub()
    )
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def test_create_returns_the_secret_once_and_get_does_not() -> None:
    status, created = _call("POST", "/v1/subscriptions", NEW)
    assert status == 201 and created["secret"].startswith("whsec_") and created["enabled"]
    status, fetched = _call("GET", f"/v1/subscriptions/{created['id']}")
    assert status == 200 and fetched["url"] == NEW["url"]
    assert fetched["secret"] != created["secret"]
    assert fetched["secret"].startswith(created["secret"][:10]) and fetched["secret"].endswith("*")


def test_list_pages_with_a_cursor() -> None:
    ids = [_call("POST", "/v1/subscriptions", NEW)[1]["id"] for _ in range(3)]
    status, first = _call("GET", "/v1/subscriptions", query={"limit": "2"})
    _, second = _call(
        "GET", "/v1/subscriptions", query={"limit": "2", "cursor": first["next_cursor"]}
    )
    assert status == 200
    assert [s["id"] for s in first["data"] + second["data"]] == sorted(ids)


def test_another_merchants_subscription_is_not_found() -> None:
    _, created = _call("POST", "/v1/subscriptions", NEW)
    assert _call("GET", f"/v1/subscriptions/{created['id']}", merchant="merchant-b")[0] == 404
    assert _call("DELETE", f"/v1/subscriptions/{created['id']}", merchant="merchant-b")[0] == 404
    assert _call("GET", "/v1/subscriptions", merchant="merchant-b")[1]["data"] == []


def test_delete_removes_it() -> None:
    _, created = _call("POST", "/v1/subscriptions", NEW)
    assert _call("DELETE", f"/v1/subscriptions/{created['id']}")[0] == 204
    assert _call("GET", f"/v1/subscriptions/{created['id']}")[0] == 404


def test_invalid_fields_are_a_400_listing_each_problem() -> None:
    status, body = _call("POST", "/v1/subscriptions", {"url": "", "event_types": ["shipment.lost"]})
    assert status == 400
    locations = {d["loc"] for d in body["error"]["details"]}
    assert {"url", "event_types.0"} <= locations


def test_plain_http_urls_are_refused_in_the_cloud_configuration() -> None:
    status, body = _call("POST", "/v1/subscriptions", {**NEW, "url": "http://erp.example.com/h"})
    assert status == 400 and body["error"]["details"][0]["loc"] == "url"


def test_a_carrier_key_cannot_use_the_admin_api() -> None:
    app = load_function("admin")
    response = app.handler(
        api_event("GET", "/v1/subscriptions", role="carrier"), LambdaContextStub()
    )
    assert response["statusCode"] == 403


def test_a_forged_cursor_is_a_400() -> None:
    assert _call("GET", "/v1/subscriptions", query={"cursor": "!!!"})[0] == 400
