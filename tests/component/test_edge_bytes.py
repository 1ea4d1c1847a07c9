"""Bytes at the edge (issue 17): bodies that are not UTF-8, and control characters in paths.

The API declares every media type binary (template.yaml, `BinaryMediaTypes: */*`), so API
Gateway hands the functions each body base64-encoded with `isBase64Encoded: true`, as the
bytes that were sent. These tests build such events and call the real ingest and admin
handlers on the moto stack: a body that is not UTF-8 is a 400 `malformed_json` that stores
and queues nothing; U+FFFD sent as UTF-8 is a character like any other; and a base64 body
takes every path a text body takes (tests/e2e/test_edge_bytes.py sends them through
MiniStack; the authorizer's policy for such paths is in tests/unit/test_edge_bytes.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from testkit.factories import LambdaContextStub, api_event, carrier_event, load_function
from tests.component.stack import StackReader

Handler = Callable[[dict[str, Any]], dict[str, Any]]

# Each is refused by a strict UTF-8 decoder; a lenient one turns it into U+FFFD.
NOT_UTF8 = {
    "lone 0xff": b"\xff",
    "overlong slash": b"\xc0\xaf",
    "truncated euro sign": b"\xe2\x82",
    "encoded surrogate": b"\xed\xa0\x80",
    "lone continuation": b"\x80",
    "past U+10FFFF": b"\xf4\x90\x80\x80",
}
REPLACEMENT_CHARACTER = "\ufffd"
SUBSCRIPTION = {"url": "https://erp.example.com/hooks", "event_types": ["*"]}


def _handler(name: str) -> Handler:
    module = load_function(name)
    return lambda event: module.handler(event, LambdaContextStub())


@pytest.fixture
def stack(moto_stack: dict[str, str]) -> StackReader:
    return StackReader(moto_stack)


@pytest.fixture
def ingest(moto_stack: dict[str, str]) -> Handler:
    return _handler("ingest")


@pytest.fixture
def admin(moto_stack: dict[str, str]) -> Handler:
    return _handler("admin")


def binary_event(method: str, path: str, raw: bytes, **options: Any) -> dict[str, Any]:
    """A proxy event as API Gateway sends it when the body's media type is binary."""
    event = api_event(method, path, raw_body=base64.b64encode(raw).decode("ascii"), **options)
    event["isBase64Encoded"] = True
    return event


def _splice(document: dict[str, Any], field: str, raw: bytes) -> bytes:
    """The document as UTF-8 JSON, with `raw` inside the string value of `field`."""
    marker = "@@bytes@@"
    text = json.dumps({**document, field: f"before {marker} after"}, ensure_ascii=False)
    return text.encode("utf-8").replace(marker.encode(), raw)


def _error(response: dict[str, Any]) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(response["body"])["error"]
    return error


def _assert_not_utf8(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 400, response["body"]
    error = _error(response)
    assert error["code"] == "malformed_json"
    assert [(d["loc"], d["type"]) for d in error["details"]] == [("body", "json_invalid")]
    assert "not UTF-8" in error["details"][0]["message"]


def _subscriptions(admin: Handler, merchant: str) -> list[dict[str, Any]]:
    listed = admin(api_event("GET", "/v1/subscriptions", role="merchant", owner_id=merchant))
    assert listed["statusCode"] == 200, listed["body"]
    data: list[dict[str, Any]] = json.loads(listed["body"])["data"]
    return data


# --- ingest ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_ingest_refuses_a_body_that_is_not_utf8_and_keeps_nothing(
    ingest: Handler, stack: StackReader, raw: bytes
) -> None:
    body = _splice(carrier_event(carrier_event_id="ce-bytes"), "description", raw)
    response = ingest(binary_event("POST", "/v1/events", body, role="carrier", owner_id="correios"))
    _assert_not_utf8(response)
    assert stack.shipment_items() == []
    assert stack.messages("EVENTS_QUEUE_URL") == 0


def test_ingest_refuses_bytes_that_are_not_utf8_outside_strings_too(
    ingest: Handler, stack: StackReader
) -> None:
    body = json.dumps(carrier_event()).encode() + b"\xff"
    response = ingest(binary_event("POST", "/v1/events", body, role="carrier", owner_id="correios"))
    _assert_not_utf8(response)
    assert stack.messages("EVENTS_QUEUE_URL") == 0


def test_ingest_takes_u_fffd_sent_as_utf8_as_the_character_it_is(
    ingest: Handler, stack: StackReader
) -> None:
    event = carrier_event(description=f"entregue {REPLACEMENT_CHARACTER}")
    body = json.dumps(event, ensure_ascii=False).encode("utf-8")
    assert b"\xef\xbf\xbd" in body
    response = ingest(binary_event("POST", "/v1/events", body, role="carrier", owner_id="correios"))
    assert response["statusCode"] == 202, response["body"]
    assert json.loads(response["body"])["accepted"] == 1
    assert stack.messages("EVENTS_QUEUE_URL") == 1


def test_ingest_reads_a_base64_body_exactly_as_a_text_one(
    ingest: Handler, stack: StackReader
) -> None:
    body = json.dumps({"events": [carrier_event(), carrier_event(carrier_event_id="ce-2")]})
    response = ingest(
        binary_event("POST", "/v1/events", body.encode(), role="carrier", owner_id="correios")
    )
    assert response["statusCode"] == 202, response["body"]
    assert json.loads(response["body"])["accepted"] == 2


def test_ingest_refuses_a_body_marked_base64_that_is_not(
    ingest: Handler, stack: StackReader
) -> None:
    event = api_event("POST", "/v1/events", role="carrier", owner_id="correios", raw_body="{}!")
    event["isBase64Encoded"] = True
    response = ingest(event)
    assert response["statusCode"] == 400
    assert _error(response)["code"] == "malformed_json"
    assert stack.messages("EVENTS_QUEUE_URL") == 0


# --- admin -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_admin_refuses_a_subscription_that_is_not_utf8_and_creates_nothing(
    admin: Handler, raw: bytes
) -> None:
    body = _splice(SUBSCRIPTION, "description", raw)
    response = admin(
        binary_event("POST", "/v1/subscriptions", body, role="merchant", owner_id="m-bytes")
    )
    _assert_not_utf8(response)
    assert _subscriptions(admin, "m-bytes") == []


def test_admin_refuses_a_patch_that_is_not_utf8_and_changes_nothing(admin: Handler) -> None:
    created = admin(
        api_event("POST", "/v1/subscriptions", SUBSCRIPTION, role="merchant", owner_id="m-patch")
    )
    assert created["statusCode"] == 201, created["body"]
    before = _subscriptions(admin, "m-patch")
    path = f"/v1/subscriptions/{json.loads(created['body'])['id']}"
    body = _splice({}, "description", b"\xc0\xaf")
    response = admin(binary_event("PATCH", path, body, role="merchant", owner_id="m-patch"))
    _assert_not_utf8(response)
    assert _subscriptions(admin, "m-patch") == before


def test_admin_takes_u_fffd_sent_as_utf8_as_the_character_it_is(admin: Handler) -> None:
    document = {**SUBSCRIPTION, "description": f"ok {REPLACEMENT_CHARACTER}"}
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    response = admin(
        binary_event("POST", "/v1/subscriptions", body, role="merchant", owner_id="m-fffd")
    )
    assert response["statusCode"] == 201, response["body"]
    [stored] = _subscriptions(admin, "m-fffd")
    assert stored["description"] == f"ok {REPLACEMENT_CHARACTER}"


def test_admin_reads_base64_bodies_on_every_kind_of_route(admin: Handler) -> None:
    """The validated body (Powertools' json_body decodes base64, then UTF-8), the empty
    object a route without a body accepts, and no body at all."""
    created = admin(
        binary_event(
            "POST",
            "/v1/subscriptions",
            json.dumps(SUBSCRIPTION).encode(),
            role="merchant",
            owner_id="m-b64",
        )
    )
    assert created["statusCode"] == 201, created["body"]
    path = f"/v1/subscriptions/{json.loads(created['body'])['id']}"
    patched = admin(
        binary_event("PATCH", path, b'{"description": "d"}', role="merchant", owner_id="m-b64")
    )
    assert patched["statusCode"] == 200, patched["body"]
    assert json.loads(patched["body"])["description"] == "d"
    rotated = admin(
        binary_event("POST", f"{path}/rotate-secret", b"{}", role="merchant", owner_id="m-b64")
    )
    assert rotated["statusCode"] == 200, rotated["body"]
    extra = admin(
        binary_event(
            "POST", f"{path}/rotate-secret", b'{"x": 1}', role="merchant", owner_id="m-b64"
        )
    )
    assert extra["statusCode"] == 400 and _error(extra)["code"] == "invalid_request"
    fetched = binary_event("GET", path, b"", role="merchant", owner_id="m-b64")
    fetched["body"] = None
    assert admin(fetched)["statusCode"] == 200


# --- paths -------------------------------------------------------------------------------------


def test_a_path_ending_in_a_line_feed_is_no_route(admin: Handler) -> None:
    event = api_event("GET", "/v1/subscriptions/\n", role="merchant", owner_id="m-lf")
    response = admin(event)
    assert response["statusCode"] == 404, response["body"]
    assert _error(response)["code"] == "not_found"


def test_an_id_followed_by_a_line_feed_is_not_that_id(admin: Handler) -> None:
    created = admin(
        api_event("POST", "/v1/subscriptions", SUBSCRIPTION, role="merchant", owner_id="m-lf")
    )
    sub_id = json.loads(created["body"])["id"]
    response = admin(
        api_event("GET", f"/v1/subscriptions/{sub_id}\n", role="merchant", owner_id="m-lf")
    )
    assert response["statusCode"] == 404, response["body"]
