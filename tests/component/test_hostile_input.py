"""Hostile input, generated: no request body, however odd, gets a 5xx from the real ingest
and admin handlers on the moto stack, and a refused one leaves no trace.

Property tests (hypothesis) over the bodies of testkit/hostile_bodies.py (the reader and
the parser get them in tests/unit/test_hostile_input.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings

from testkit.factories import LambdaContextStub, api_event, carrier_event, load_function
from testkit.hostile_bodies import IMPORTED_AT, INGEST_BODIES, SUBSCRIPTION, admin_requests, dumps
from tests.component.stack import StackReader

# The moto stack is one per test, shared by its examples: each example checks what it changed.
ON_MOTO = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def note_status(response: dict[str, Any], route: str = "POST /v1/events") -> None:
    """Label the example (`--hypothesis-show-statistics` shows how many reached each answer)."""
    status = response["statusCode"]
    code = json.loads(response["body"])["error"]["code"] if status >= 400 else "ok"
    event(f"{route}: {status} {code}")


def _assert_one_error_shape(response: dict[str, Any]) -> None:
    error = json.loads(response["body"])["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["details"], error
    for detail in error["details"]:
        assert set(detail) == {"loc", "message", "type"} and detail["loc"]


Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _handler(name: str) -> Handler:
    module: ModuleType = load_function(name)
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


@pytest.fixture
def ingest_traces(stack: StackReader) -> list[tuple[int, int]]:
    """(claims, queued messages) after each example: one read per example, not two."""
    return [(len(stack.shipment_items()), stack.messages("EVENTS_QUEUE_URL"))]


@ON_MOTO
@given(body=INGEST_BODIES)
@example(body=dumps(carrier_event(carrier_event_id="deep", metadata={"a": [[[[[[[[[[]]]]]]]]]]})))
def test_no_ingest_body_gets_a_5xx_and_a_refused_one_leaves_no_trace(
    ingest: Handler, stack: StackReader, ingest_traces: list[tuple[int, int]], body: str
) -> None:
    request = api_event("POST", "/v1/events", role="carrier", owner_id="correios", raw_body=body)
    response = ingest(request)
    note_status(response)
    assert response["statusCode"] < 500, response["body"]
    after = len(stack.shipment_items()), stack.messages("EVENTS_QUEUE_URL")
    if response["statusCode"] >= 400:
        _assert_one_error_shape(response)
        assert after == ingest_traces[-1]
    else:
        assert response["statusCode"] == 202
    ingest_traces.append(after)


def _admin_state(admin: Handler, merchant: str, stack: StackReader) -> tuple[Any, int]:
    listed = admin(api_event("GET", "/v1/subscriptions", role="merchant", owner_id=merchant))
    return json.loads(listed["body"])["data"], stack.messages("RETRY_QUEUE_URL")


@ON_MOTO
@given(request=admin_requests())
@example(request=("create", "[" * 30_000 + "]" * 30_000))
@example(request=("patch", '{"url": null}'))
@example(request=("recover", f'{{"since": {int(IMPORTED_AT.timestamp()) - 60}}}'))
def test_no_admin_body_gets_a_5xx_and_a_refused_one_changes_nothing(
    admin: Handler, stack: StackReader, request: tuple[str, str]
) -> None:
    route, body = request
    merchant = f"m-{uuid.uuid4().hex}"  # a fresh merchant: no limit, no other example's state
    if route == "create":
        method, path = "POST", "/v1/subscriptions"
    else:
        create = api_event(
            "POST", "/v1/subscriptions", SUBSCRIPTION, role="merchant", owner_id=merchant
        )
        sub_id = json.loads(admin(create)["body"])["id"]
        method = "PATCH" if route == "patch" else "POST"
        path = f"/v1/subscriptions/{sub_id}" + ("/recover" if route == "recover" else "")
    before = _admin_state(admin, merchant, stack)
    response = admin(api_event(method, path, role="merchant", owner_id=merchant, raw_body=body))
    note_status(response, route)
    assert response["statusCode"] < 500, response["body"]
    if response["statusCode"] >= 400:
        _assert_one_error_shape(response)
        assert _admin_state(admin, merchant, stack) == before
