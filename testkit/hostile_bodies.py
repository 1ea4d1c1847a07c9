"""Request bodies drawn by hypothesis to break the JSON reader, ingest and the admin API.

Bodies are drawn from: any JSON value (non-finite and huge numbers, odd unicode, lone
surrogates, control characters), deep nesting, near-valid events and subscriptions with one
field replaced, and raw text spliced into a valid body (repeated keys, `NaN`, `1e999`, deep
fragments): the defect classes A and C of the hostile-input review. The unit tier feeds them
to the reader and the parser, the component tier to the real handlers on moto.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from parcelhooks.core.ids import OWNER_ID_PATTERN
from parcelhooks.core.json_input import MAX_DEPTH
from parcelhooks.core.statuses import Status
from testkit.factories import carrier_event

# The real clock at import: ingest and recover check the times drawn here against it.
IMPORTED_AT = datetime.now(UTC)
ODD_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1764321300",
    (IMPORTED_AT - timedelta(days=366)).isoformat(),
    (IMPORTED_AT + timedelta(days=2)).isoformat(),
    (IMPORTED_AT - timedelta(minutes=5)).isoformat(),
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


def dumps(value: Any, ascii_only: bool = True) -> str:
    # allow_nan (the default) writes NaN and Infinity, as a careless client would.
    return json.dumps(value, ensure_ascii=ascii_only)


def near_or_any(near: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Two times in three a value near what the field takes, else any JSON value."""
    return st.sampled_from([near, near, JSON_VALUES]).flatmap(lambda chosen: chosen)


FRAGMENTS = HOSTILE_TOKENS | deep_nesting() | JSON_VALUES.map(dumps)
RECENT = (IMPORTED_AT - timedelta(minutes=5)).isoformat()
# Within the last 29 days, in any offset: inside ingest's window and recover's.
RECENTODD_TIMES = st.builds(
    lambda seconds, hours: (
        (IMPORTED_AT - timedelta(seconds=seconds))
        .astimezone(timezone(timedelta(hours=hours)))
        .isoformat()
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
    "occurred_at": st.sampled_from(ODD_TIMES) | RECENTODD_TIMES,
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
    value = draw(near_or_any(EVENT_FIELDS[field]))
    target, _, inner = field.partition(".")
    if inner:
        event[target][inner] = value
    else:
        event[field] = value
    body: Any = draw(
        st.sampled_from([event, {"events": [event]}, {"events": [carrier_event(), event]}])
    )
    return dumps(body, ascii_only=draw(st.booleans()))


@st.composite
def spliced_events(draw: st.DrawFn) -> str:
    """Raw text spliced into a valid event: a repeated key, a hostile number, deep nesting."""
    event = dumps(carrier_event(carrier_event_id=f"hyp-{draw(st.uuids())}", occurred_at=RECENT))
    key = draw(st.sampled_from([*EVENT_FIELDS, "x"]))
    fragment = draw(FRAGMENTS)
    wrapped = draw(st.sampled_from(["{}", '{"m": {}}', "[{}]"])).replace("{}", fragment, 1)
    return event[:-1] + f', "{key}": {wrapped if key == "metadata" else fragment}}}'


ANYTHING = JSON_VALUES.map(dumps) | deep_nesting() | st.text(max_size=40)


@st.composite
def ingest_bodies(draw: st.DrawFn) -> str:
    """Half near-valid events (so that many reach the queue), a quarter spliced, a quarter
    anything at all."""
    kind = draw(st.sampled_from(["near", "near", "spliced", "anything"]))
    strategy = {"near": near_valid_events(), "spliced": spliced_events(), "anything": ANYTHING}
    return draw(strategy[kind])


INGEST_BODIES = ingest_bodies()

SUBSCRIPTION: dict[str, Any] = {"url": "https://erp.example.com/hooks", "event_types": ["*"]}
ADMIN_BASES: dict[str, dict[str, Any]] = {
    "create": SUBSCRIPTION,
    "patch": {},
    "recover": {"since": RECENT},
}
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
    "since": st.sampled_from(ODD_TIMES) | RECENTODD_TIMES,
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
        body[field] = draw(near_or_any(ADMIN_FIELDS[field]))
        return route, dumps(body, ascii_only=draw(st.booleans()))
    if how == "splice":
        spliced = f'"{field}": {draw(FRAGMENTS)}'
        return route, dumps(body)[:-1] + (", " if body else "") + spliced + "}"
    return route, draw(ANYTHING)
