import base64
import json
from typing import Any

import pytest

from testkit.factories import LambdaContextStub, api_event, load_function

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


def _raw(path: str, raw: str, method: str = "POST", **event: Any) -> tuple[int, dict[str, Any]]:
    app = load_function("admin")
    request = api_event(method, path, role="merchant", raw_body=raw) | event
    response = app.handler(request, LambdaContextStub())
    error: dict[str, Any] = json.loads(response["body"])["error"]
    return response["statusCode"], error


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        ("[" * 30_000 + "]" * 30_000, "[0]" * 32),
        ('{"url": ' + "[" * 40 + "]" * 40 + "}", "url" + "[0]" * 31),
        ('{"url": "https://erp.example.com/hooks", "event_types": [NaN]}', "event_types[0]"),
        ('{"url": "https://erp.example.com/hooks", "event_types": ["*"], "x": 1e999}', "x"),
        ('{"url": "https://a.example.com/", "url": "https://b.example.com/"}', "url"),
    ],
    ids=["deep-arrays", "deep-field", "nan", "overflow", "repeated-key"],
)
def test_odd_json_is_a_400_before_routing_not_a_500(raw: str, loc: str) -> None:
    # Class A: Powertools' own json.loads let these through or failed on them with a 500.
    status, error = _raw("/v1/subscriptions", raw)
    assert status == 400 and error["code"] == "malformed_json"
    assert error["details"][0]["loc"] == loc
    assert _call("GET", "/v1/subscriptions")[1]["data"] == []


def test_a_body_over_64_kib_is_a_413() -> None:
    status, error = _raw("/v1/subscriptions", json.dumps({**NEW, "description": "x" * 70_000}))
    assert status == 413 and error["code"] == "payload_too_large" and error["details"]


def test_a_body_marked_base64_that_is_not_is_a_400() -> None:
    status, error = _raw("/v1/subscriptions", "{not base64}", isBase64Encoded=True)
    assert status == 400 and error["code"] == "malformed_json"


def test_a_base64_body_is_read_like_any_other() -> None:
    encoded = base64.b64encode(json.dumps(NEW).encode()).decode()
    app = load_function("admin")
    event = api_event("POST", "/v1/subscriptions", role="merchant", raw_body=encoded)
    event["isBase64Encoded"] = True
    assert app.handler(event, LambdaContextStub())["statusCode"] == 201
