"""Hostile input, generated: no request body, however odd, gets a 5xx or leaves a trace.

Property tests (hypothesis) over the strict JSON reader, the ingest body parser and the
real ingest and admin handlers on the moto stack. Bodies are drawn from: any JSON value
(non-finite and huge numbers, odd unicode, lone surrogates, control characters), deep
nesting, near-valid events and subscriptions with one field replaced, and raw text
spliced into a valid body (repeated keys, `NaN`, `1e999`, deep fragments) — the
defect classes A and C of the hostile-input review. Examples are few enough for the unit
tier; `HYPOTHESIS_PROFILE`-style tuning is left to whoever needs more.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from parcelhooks.api.edge import answer_for
from parcelhooks.core.errors import MalformedJsonError, ParcelhooksError, PayloadTooLargeError
from parcelhooks.core.ids import OWNER_ID_PATTERN
from parcelhooks.core.json_input import MAX_DEPTH, nesting_depth, read_json
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.accept import to_shipment_event
from parcelhooks.ingest.events import MAX_BODY_BYTES, parse_events
from tests.factories import (
    LambdaContextStub,
    StackReader,
    api_event,
    carrier_event,
    load_function,
)

FAST = settings(max_examples=200, deadline=None, database=None)
# The moto stack is one per test, shared by its examples: each example checks what it changed.
ON_MOTO = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- strategies -----------------------------------------------------------------------------

_NOW = datetime.now(UTC)
_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1764321300",
    (_NOW - timedelta(days=366)).isoformat(),
    (_NOW + timedelta(days=2)).isoformat(),
    (_NOW - timedelta(minutes=5)).isoformat(),
]

ODD_CHARACTERS = st.sampled_from(
    [
        *("\x00", "\n", "\t", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff", "\u2028"),
        *("\u202e", "\ufeff", "\U0010ffff", "é", "😀", '"', "\\", "[", "{", "#", ",", " "),
    ]
)
TEXT = st.text(max_size=12) | st.text(st.characters() | ODD_CHARACTERS, max_size=12)
NUMBERS = st.integers() | st.integers(-(10**400), 10**400) | st.floats()
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=16,
)
# Raw JSON text no Python value dumps to: numbers out of range, constants JSON lacks.
HOSTILE_TOKENS = st.sampled_from(
    [
        *("NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E400", "1e-999", "-0", "9" * 400),
        *("9" * 5000, "1.7976931348623159e308", '"\\ud800"', '"\\u0000"', '"\\udc00\\ud800"'),
    ]
)


@st.composite
def deep_nesting(draw: st.DrawFn) -> str:
    levels = draw(st.integers(1, 3000) | st.sampled_from([MAX_DEPTH, MAX_DEPTH + 1, 300]))
    opener, leaf, closer = draw(
        st.sampled_from([("[", "", "]"), ('{"a":', "1", "}"), ('{"a":[', "0", "]}")])
    )
    return opener * levels + leaf + closer * levels


def _dumps(value: Any, ascii_only: bool = True) -> str:
    # allow_nan (the default) writes NaN and Infinity, as a careless client would.
    return json.dumps(value, ensure_ascii=ascii_only)


def _near_or_any(near: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Two times in three a value near what the field takes, else any JSON value."""
    return st.sampled_from([near, near, JSON_VALUES]).flatmap(lambda chosen: chosen)


FRAGMENTS = HOSTILE_TOKENS | deep_nesting() | JSON_VALUES.map(_dumps)
RECENT = (_NOW - timedelta(minutes=5)).isoformat()
# Within the last 29 days, in any offset: inside ingest's window and recover's.
RECENT_TIMES = st.builds(
    lambda seconds, hours: (
        (_NOW - timedelta(seconds=seconds)).astimezone(timezone(timedelta(hours=hours))).isoformat()
    ),
    st.integers(60, 29 * 86_400),
    st.integers(-12, 14),
)
# Per field, values near what it takes, so that many examples get past validation.
EVENT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "carrier_event_id": TEXT,
    "merchant_id": TEXT | st.from_regex(OWNER_ID_PATTERN, fullmatch=True),
    "tracking_code": TEXT.map(lambda t: f"QB12{t}"),
    "status": st.sampled_from([s.value for s in Status]) | TEXT,
    "occurred_at": st.sampled_from(_TIMES) | RECENT_TIMES,
    "description": TEXT,
    "location": st.fixed_dictionaries({}, optional={"city": TEXT, "postal_code": TEXT}),
    "order_id": TEXT,
    "carrier_status": st.fixed_dictionaries({}, optional={"code": TEXT, "type": TEXT}),
    "metadata": st.dictionaries(TEXT, JSON_VALUES, max_size=4),
    "location.city": TEXT,
    "carrier_status.description": TEXT,
}


@st.composite
def near_valid_events(draw: st.DrawFn) -> str:
    """A valid event (or batch) with one field replaced by a near value or any value."""
    event = carrier_event(
        carrier_event_id=f"hyp-{draw(st.uuids())}",
        occurred_at=RECENT,
        location={"city": "Recife"},
        carrier_status={"code": "01", "type": "BDE"},
    )
    field = draw(st.sampled_from(sorted(EVENT_FIELDS)))
    value = draw(_near_or_any(EVENT_FIELDS[field]))
    target, _, inner = field.partition(".")
    if inner:
        event[target][inner] = value
    else:
        event[field] = value
    body: Any = draw(
        st.sampled_from([event, {"events": [event]}, {"events": [carrier_event(), event]}])
    )
    return _dumps(body, ascii_only=draw(st.booleans()))


@st.composite
def spliced_events(draw: st.DrawFn) -> str:
    """Raw text spliced into a valid event: a repeated key, a hostile number, deep nesting."""
    event = _dumps(carrier_event(carrier_event_id=f"hyp-{draw(st.uuids())}", occurred_at=RECENT))
    key = draw(st.sampled_from([*EVENT_FIELDS, "x"]))
    fragment = draw(FRAGMENTS)
    wrapped = draw(st.sampled_from(["{}", '{"m": {}}', "[{}]"])).replace("{}", fragment, 1)
    return event[:-1] + f', "{key}": {wrapped if key == "metadata" else fragment}}}'


ANYTHING = JSON_VALUES.map(_dumps) | deep_nesting() | st.text(max_size=40)


@st.composite
def ingest_bodies(draw: st.DrawFn) -> str:
    """Half near-valid events (so that many reach the queue), a quarter spliced, a quarter
    anything at all."""
    kind = draw(st.sampled_from(["near", "near", "spliced", "anything"]))
    strategy = {"near": near_valid_events(), "spliced": spliced_events(), "anything": ANYTHING}
    return draw(strategy[kind])


INGEST_BODIES = ingest_bodies()

SUBSCRIPTION = {"url": "https://erp.example.com/hooks", "event_types": ["*"]}
ADMIN_BASES = {"create": SUBSCRIPTION, "patch": {}, "recover": {"since": RECENT}}
ROUTE_FIELDS = {
    "create": ["url", "event_types", "description"],
    "patch": ["url", "event_types", "description", "enabled"],
    "recover": ["since"],
}
ADMIN_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "url": TEXT.map(lambda t: f"https://erp.example.com/{t}") | TEXT,
    "event_types": st.lists(st.sampled_from(["*", "shipment.posted"]) | TEXT, max_size=3),
    "description": TEXT | st.none(),
    "enabled": st.booleans() | st.none(),
    "since": st.sampled_from(_TIMES) | RECENT_TIMES,
    "x": JSON_VALUES,
}


@st.composite
def admin_requests(draw: st.DrawFn) -> tuple[str, str]:
    """A route and a body for it: its usual body with one field set to a near value or any
    value, a raw fragment spliced in, or anything at all."""
    route = draw(st.sampled_from(sorted(ADMIN_BASES)))
    body = dict(ADMIN_BASES[route])
    # Mostly a field the route takes; sometimes one it does not.
    field = draw(st.sampled_from(ROUTE_FIELDS[route]) | st.sampled_from(sorted(ADMIN_FIELDS)))
    how = draw(st.sampled_from(["set", "set", "splice", "anything"]))
    if how == "set":
        body[field] = draw(_near_or_any(ADMIN_FIELDS[field]))
        return route, _dumps(body, ascii_only=draw(st.booleans()))
    if how == "splice":
        spliced = f'"{field}": {draw(FRAGMENTS)}'
        return route, _dumps(body)[:-1] + (", " if body else "") + spliced + "}"
    return route, draw(ANYTHING)


# --- checks ---------------------------------------------------------------------------------


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


def _assert_refusal(error: ParcelhooksError) -> None:
    """A domain error the edge answers 4xx, listing at least one problem."""
    answer = answer_for(type(error))
    assert answer is not None and 400 <= answer[0] < 500
    assert error.details


def _exactly_as_sent(value: Any, body: str) -> None:
    """What the reader returned is what the text says: finite, shallow, encodable."""
    json.dumps(value, allow_nan=False).encode("utf-8")
    assert nesting_depth(value) <= MAX_DEPTH
    assert value == json.loads(body)


# --- the strict reader and the ingest parser -----------------------------------------------


@FAST
@given(body=INGEST_BODIES | admin_requests().map(lambda request: request[1]))
@example(body="[" * 100_000 + "]" * 100_000)
@example(body='{"a": 1, "a": 2}')
@example(body='"\\"' * 2000)
def test_the_reader_returns_exactly_what_was_sent_or_refuses_it_with_where(body: str) -> None:
    try:
        value = read_json(body, max_bytes=MAX_BODY_BYTES)
    except (MalformedJsonError, PayloadTooLargeError) as error:
        _assert_refusal(error)
        return
    _exactly_as_sent(value, body)


CLEAN_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=24,
)


@FAST
@given(value=CLEAN_VALUES, ascii_only=st.booleans())
def test_the_reader_reads_every_plain_json_document(value: Any, ascii_only: bool) -> None:
    assert read_json(_dumps(value, ascii_only), max_bytes=MAX_BODY_BYTES) == value


@FAST
@given(body=INGEST_BODIES)
def test_parse_events_accepts_exactly_what_was_sent_or_refuses_it(body: str) -> None:
    try:
        events = parse_events(body)
    except ParcelhooksError as error:
        _assert_refusal(error)
        return
    sent = json.loads(body)
    for parsed, as_sent in zip(events, sent.get("events", [sent]), strict=True):
        queued = to_shipment_event(parsed, "correios", "evt_1", _NOW).model_dump_json()
        # Metadata travels untouched: no NaN turned null, no key lost.
        assert json.loads(queued)["metadata"] == as_sent.get("metadata")


# --- the real handlers ----------------------------------------------------------------------


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
    return [(len(stack.claims()), stack.messages("EVENTS_QUEUE_URL"))]


@ON_MOTO
@given(body=INGEST_BODIES)
@example(body=_dumps(carrier_event(carrier_event_id="deep", metadata={"a": [[[[[[[[[[]]]]]]]]]]})))
def test_no_ingest_body_gets_a_5xx_and_a_refused_one_leaves_no_trace(
    ingest: Handler, stack: StackReader, ingest_traces: list[tuple[int, int]], body: str
) -> None:
    request = api_event("POST", "/v1/events", role="carrier", owner_id="correios", raw_body=body)
    response = ingest(request)
    note_status(response)
    assert response["statusCode"] < 500, response["body"]
    after = len(stack.claims()), stack.messages("EVENTS_QUEUE_URL")
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
@example(request=("recover", f'{{"since": {int(_NOW.timestamp()) - 60}}}'))
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


def test_a_float_the_reader_accepts_is_finite() -> None:
    # The boundary of class A's non-finite check: the largest double is a number, one past is not.
    assert read_json("1.7976931348623157e308", max_bytes=64) == 1.7976931348623157e308
    with pytest.raises(MalformedJsonError):
        read_json("1.7976931348623159e308", max_bytes=64)
    assert math.isfinite(read_json("1e-999", max_bytes=64))
