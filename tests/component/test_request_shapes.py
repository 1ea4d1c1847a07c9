"""Every route, every shape of body: a legal request gets a 2xx or a 4xx, never a 5xx, and a
body of the wrong shape is refused whole, never read in part.

The routes are taken from the OpenAPI document the code generates, so a route added later
is in these tests without anyone listing it. Media types are case-insensitive (RFC 9110,
8.3.1): `Application/JSON` must be answered as `application/json` is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from parcelhooks.api.errors import STATUS_OF, ErrorCode, route_errors
from parcelhooks.merchant_api.models import SubscriptionIn, SubscriptionPatch
from testkit.factories import LambdaContextStub, api_event, carrier_event, load_function
from tests.component.stack import StackReader

Handler = Callable[[dict[str, Any]], dict[str, Any]]
SUBSCRIPTION = {"url": "https://hooks.example.com/parcel", "event_types": ["*"]}


def _routes() -> list[tuple[str, str, bool]]:
    """(method, path template, takes a body) of every operation in the OpenAPI document."""
    document = load_function("admin").public_document()
    return [
        (method.upper(), path, "requestBody" in operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


ROUTES = _routes()
BODY_ROUTES = [(m, p) for m, p, body in ROUTES if body]
BODYLESS_ROUTES = [(m, p) for m, p, body in ROUTES if not body]
# The query parameters a route cannot do without.
REQUIRED_QUERY: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/shipments"): {"order_id": "order-1"},
}


def _valid_body(method: str, path: str) -> dict[str, Any]:
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/v1/events"): carrier_event(),
        ("POST", "/v1/subscriptions"): SUBSCRIPTION,
        ("PATCH", "/v1/subscriptions/{subscription_id}"): {"description": "ERP"},
        ("POST", "/v1/subscriptions/{subscription_id}/recover"): {"since": recent},
        ("POST", "/v1/subscriptions/preview"): {"subscription": SUBSCRIPTION},
        ("POST", "/v1/portal/links"): {"ttl_s": 600},
        ("POST", "/v1/subscriptions/{subscription_id}/preview"): {"event_type": "webhook.test"},
    }
    return bodies[(method, path)]


@pytest.fixture
def handlers(moto_stack: dict[str, str]) -> dict[str, ModuleType]:
    return {"admin": load_function("admin"), "ingest": load_function("ingest")}


@pytest.fixture
def subscription_id(handlers: dict[str, ModuleType]) -> str:
    created = _send(handlers, "POST", "/v1/subscriptions", json.dumps(SUBSCRIPTION))
    return str(json.loads(created["body"])["id"])


def _send(
    handlers: dict[str, ModuleType],
    method: str,
    path: str,
    body: str | None,
    *,
    content_type: str = "application/json",
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    ingest = path == "/v1/events"
    event = api_event(
        method,
        path,
        role="carrier" if ingest else "merchant",
        owner_id="correios" if ingest else "merchant-a",
        raw_body=body,
        query=query,
    )
    event["headers"] = {"Content-Type": content_type}
    event["multiValueHeaders"] = {"Content-Type": [content_type]}
    handler = handlers["ingest" if ingest else "admin"].handler
    response: dict[str, Any] = handler(event, LambdaContextStub())
    return response


def _assert_declared(response: dict[str, Any], method: str, path: str) -> None:
    """An error answer carries one of the codes the route declares, with that code's status."""
    if response["statusCode"] >= 400:
        code = ErrorCode(_error_code(response))
        assert code in route_errors(method, path), (method, path, code)
        assert STATUS_OF[code] == response["statusCode"]


def _concrete(path: str, subscription_id: str) -> str:
    ids = {"subscription_id": subscription_id, "delivery_id": "dlv_unknown"}
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "QB123456785BR"), path)


def _error_code(response: dict[str, Any]) -> str:
    return str(json.loads(response["body"])["error"]["code"])


@pytest.fixture
def state(
    moto_stack: dict[str, str], handlers: dict[str, ModuleType]
) -> Callable[[], tuple[Any, ...]]:
    """What a refused request must leave as it was: subscriptions, claims, queued messages."""
    stack = StackReader(moto_stack)

    def read() -> tuple[Any, ...]:
        listed = _send(handlers, "GET", "/v1/subscriptions", None)
        return (
            json.loads(listed["body"])["data"],
            len(stack.shipment_items()),
            stack.messages("EVENTS_QUEUE_URL"),
            stack.messages("RETRY_QUEUE_URL"),
        )

    return read


def test_the_routes_come_from_the_document() -> None:
    # The lists below must not be vacuous: every route the API documents is here.
    assert ("POST", "/v1/subscriptions") in BODY_ROUTES
    assert ("POST", "/v1/events") in BODY_ROUTES
    assert ("POST", "/v1/subscriptions/{subscription_id}/rotate-secret") in BODYLESS_ROUTES
    assert len(ROUTES) >= 12


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(
    "content_type",
    ["Application/JSON", "APPLICATION/JSON; Charset=UTF-8", "application/vnd.api+JSON"],
)
def test_a_media_type_in_any_case_is_answered_as_in_lower_case(
    handlers: dict[str, ModuleType],
    subscription_id: str,
    method: str,
    path: str,
    content_type: str,
) -> None:
    concrete = _concrete(path, subscription_id)
    body = json.dumps(_valid_body(method, path))
    if method == "POST" and path == "/v1/events":
        lower = _send(handlers, method, concrete, json.dumps(carrier_event(carrier_event_id="l")))
    else:
        lower = _send(handlers, method, concrete, body)
    mixed = _send(handlers, method, concrete, body, content_type=content_type)
    assert mixed["statusCode"] == lower["statusCode"] < 300, mixed["body"]


@pytest.mark.parametrize(
    "path", ["/v1/sub\x01scriptions", "/v1/subscriptions/x/\x7f", "/v1/nothing", "/"]
)
def test_a_route_that_does_not_exist_is_a_404_whatever_its_path_holds(
    handlers: dict[str, ModuleType], path: str
) -> None:
    response = _send(handlers, "GET", path, None)
    assert (response["statusCode"], _error_code(response)) == (404, "not_found")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES + BODYLESS_ROUTES)
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("not json", "application/json", 400, "malformed_json"),
        ("<a/>", "text/xml", 415, "unsupported_media_type"),
        ('{"a": 1}', "application/json; charset=latin-1", 415, "unsupported_media_type"),
        ("[]", "application/json", 400, None),
        ('[{"a": 1}, {"b": 2}]', "application/json", 400, None),
        ("5", "application/json", 400, None),
        ('"text"', "application/json", 400, None),
        ("null", "application/json", 400, None),
        ("true", "Application/Json", 400, None),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_4xx_on_every_route_and_changes_nothing(
    handlers: dict[str, ModuleType],
    subscription_id: str,
    state: Callable[[], tuple[Any, ...]],
    method: str,
    path: str,
    body: str,
    content_type: str,
    status: int,
    code: str | None,
) -> None:
    before = state()
    response = _send(
        handlers, method, _concrete(path, subscription_id), body, content_type=content_type
    )
    assert response["statusCode"] == status, response["body"]
    if code is not None:
        assert _error_code(response) == code
    _assert_declared(response, method, path)
    assert state() == before


def test_an_array_of_subscriptions_creates_none(
    handlers: dict[str, ModuleType], state: Callable[[], tuple[Any, ...]]
) -> None:
    before = state()
    two = json.dumps([SUBSCRIPTION, {**SUBSCRIPTION, "description": "second"}])
    response = _send(handlers, "POST", "/v1/subscriptions", two)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["details"][0]["message"] == "got an array"
    assert state() == before


@pytest.mark.parametrize(("method", "path"), BODYLESS_ROUTES)
def test_a_route_that_takes_no_body_refuses_one_and_takes_an_empty_object(
    handlers: dict[str, ModuleType],
    subscription_id: str,
    state: Callable[[], tuple[Any, ...]],
    method: str,
    path: str,
) -> None:
    concrete = _concrete(path, subscription_id)
    query = REQUIRED_QUERY.get((method, path))
    before = state()
    body = '{"event_types": ["shipment.delivered"]}'
    refused = _send(handlers, method, concrete, body, query=query)
    assert refused["statusCode"] == 400, refused["body"]
    _assert_declared(refused, method, path)
    assert json.loads(refused["body"])["error"]["details"][0]["loc"] == "body"
    assert state() == before
    empty = _send(handlers, method, concrete, "{}", query=query)
    assert empty["statusCode"] != 400, empty["body"]


@pytest.mark.parametrize(
    "query",
    [{"outcom": "failed"}, {"limit": "5", "cursur": "x"}],
)
def test_a_query_parameter_the_route_does_not_read_is_refused(
    handlers: dict[str, ModuleType], subscription_id: str, query: dict[str, str]
) -> None:
    path = f"/v1/subscriptions/{subscription_id}/deliveries"
    response = _send(handlers, "GET", path, None, query=query)
    assert response["statusCode"] == 400, response["body"]
    locs = [d["loc"] for d in json.loads(response["body"])["error"]["details"]]
    assert locs == [f"query.{name}" for name in sorted(query) if name not in {"limit"}]


def test_every_filter_of_the_delivery_log_is_a_query_parameter_it_reads(
    handlers: dict[str, ModuleType], subscription_id: str
) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    every = {
        "outcome": "failure",
        "event_type": "shipment.delivered",
        "tracking_code": "QB123456785BR",
        "since": since.isoformat(),
        "until": (since + timedelta(minutes=30)).isoformat(),
        "limit": "10",
    }
    path = f"/v1/subscriptions/{subscription_id}/deliveries"
    response = _send(handlers, "GET", path, None, query=every)
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"]) == {"data": [], "next_cursor": None}


def test_a_query_parameter_sent_twice_is_refused(
    handlers: dict[str, ModuleType], subscription_id: str
) -> None:
    event = api_event("GET", "/v1/subscriptions", role="merchant", query={"limit": "1"})
    event["multiValueQueryStringParameters"] = {"limit": ["1", "100"]}
    response = handlers["admin"].handler(event, LambdaContextStub())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["details"][0]["loc"] == "query.limit"


# --- one strict rule for every field: no JSON type is read as another -----------------------

_STRINGIFIED = {bool: ["true", "false"], int: ["16", "1e1"], float: ["2.5", "1"]}
_NUMBER_FOR_BOOL = [1, 0]


def _scalar_fields(model: type[SubscriptionIn] | type[SubscriptionPatch]) -> list[tuple[str, type]]:
    """The boolean and number fields, by the JSON type the model documents for them."""
    kinds: dict[str, type] = {"boolean": bool, "integer": int, "number": float}
    fields = []
    for name, schema in model.model_json_schema()["properties"].items():
        types = {s.get("type") for s in schema.get("anyOf", [schema])} & kinds.keys()
        fields += [(name, kinds[types.pop()])] if types else []
    return fields


@pytest.mark.parametrize("model", [SubscriptionIn, SubscriptionPatch])
def test_both_create_and_change_have_boolean_and_number_fields_to_check(
    model: type[SubscriptionIn] | type[SubscriptionPatch],
) -> None:
    assert {kind for _, kind in _scalar_fields(model)} == {bool, int, float}


@pytest.mark.parametrize(
    ("method", "model"),
    [("POST", SubscriptionIn), ("PATCH", SubscriptionPatch)],
)
def test_a_value_of_another_json_type_is_refused_in_post_and_patch(
    handlers: dict[str, ModuleType],
    subscription_id: str,
    state: Callable[[], tuple[Any, ...]],
    method: str,
    model: type[SubscriptionIn] | type[SubscriptionPatch],
) -> None:
    path = "/v1/subscriptions" + (f"/{subscription_id}" if method == "PATCH" else "")
    for field, kind in _scalar_fields(model):
        wrong: list[Any] = list(_STRINGIFIED[kind])
        wrong += _NUMBER_FOR_BOOL if kind is bool else [True]
        for value in wrong:
            body = {**(SUBSCRIPTION if method == "POST" else {}), field: value}
            before = state()
            response = _send(handlers, method, path, json.dumps(body))
            assert response["statusCode"] == 400, (field, value, response["body"])
            details = json.loads(response["body"])["error"]["details"]
            assert [d["loc"] for d in details] == [field], (field, value, details)
            assert state() == before
