"""Hostile input, generated: the strict JSON reader and the ingest body parser read exactly
what was sent or refuse it, saying where.

Property tests (hypothesis) over the bodies of testkit/hostile_bodies.py; the real ingest
and admin handlers get the same bodies on moto in tests/component/test_hostile_input.py.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parcelhooks.api.edge import answer_for
from parcelhooks.core.errors import MalformedJsonError, ParcelhooksError, PayloadTooLargeError
from parcelhooks.core.json_input import MAX_DEPTH, nesting_depth, read_json
from parcelhooks.ingest.accept import to_shipment_event
from parcelhooks.ingest.events import MAX_BODY_BYTES, parse_events
from testkit.hostile_bodies import IMPORTED_AT, INGEST_BODIES, admin_requests, dumps

PROPERTY = settings(database=None)

# --- checks ---------------------------------------------------------------------------------


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


@PROPERTY
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


@PROPERTY
@given(value=CLEAN_VALUES, ascii_only=st.booleans())
def test_the_reader_reads_every_plain_json_document(value: Any, ascii_only: bool) -> None:
    assert read_json(dumps(value, ascii_only), max_bytes=MAX_BODY_BYTES) == value


@PROPERTY
@given(body=INGEST_BODIES)
def test_parse_events_accepts_exactly_what_was_sent_or_refuses_it(body: str) -> None:
    try:
        events = parse_events(body)
    except ParcelhooksError as error:
        _assert_refusal(error)
        return
    sent = json.loads(body)
    for parsed, as_sent in zip(events, sent.get("events", [sent]), strict=True):
        queued = to_shipment_event(parsed, "correios", IMPORTED_AT).model_dump_json()
        # Metadata travels untouched: no NaN turned null, no key lost.
        assert json.loads(queued)["metadata"] == as_sent.get("metadata")


def test_a_float_the_reader_accepts_is_finite() -> None:
    # The boundary of class A's non-finite check: the largest double is a number, one past is not.
    assert read_json("1.7976931348623157e308", max_bytes=64) == 1.7976931348623157e308
    with pytest.raises(MalformedJsonError):
        read_json("1.7976931348623159e308", max_bytes=64)
    assert math.isfinite(read_json("1e-999", max_bytes=64))
