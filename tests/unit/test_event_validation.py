import json

import pytest

from parcelhooks.core.errors import (
    InvalidRequestError,
    MalformedJsonError,
    ParcelhooksError,
    PayloadTooLargeError,
    ValidationFailedError,
)
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.events import MAX_BODY_BYTES, parse_events
from tests.factories import EVENTS_DIR, carrier_event


def _problems(body: str | bytes) -> ParcelhooksError:
    with pytest.raises(ParcelhooksError) as caught:
        parse_events(body)
    return caught.value


def test_a_single_event_is_accepted() -> None:
    events = parse_events(json.dumps(carrier_event()))
    assert [e.carrier_event_id for e in events] == ["ce-1"]
    assert events[0].status is Status.DELIVERED


def test_a_batch_keeps_its_order() -> None:
    body = {"events": [carrier_event(carrier_event_id=f"ce-{i}") for i in range(3)]}
    assert [e.carrier_event_id for e in parse_events(json.dumps(body))] == ["ce-0", "ce-1", "ce-2"]


@pytest.mark.parametrize("sample", sorted(EVENTS_DIR.glob("carrier/*.json")), ids=lambda p: p.name)
def test_every_sample_payload_is_valid(sample) -> None:
    assert parse_events(sample.read_bytes())


def test_every_problem_is_listed_with_its_location() -> None:
    bad = carrier_event(tracking_code="QB", occurred_at="yesterday", status="lost")
    body = {"events": [carrier_event(), bad, carrier_event(merchant_id=None)]}
    error = _problems(json.dumps(body))
    assert type(error) is ValidationFailedError
    locations = {d["loc"] for d in error.details}
    assert {
        "events[1].tracking_code",
        "events[1].occurred_at",
        "events[1].status",
        "events[2].merchant_id",
    } <= locations


def test_malformed_json_is_a_400() -> None:
    error = _problems(b'{"carrier_event_id": ')
    assert type(error) is MalformedJsonError


def test_a_time_without_offset_is_refused() -> None:
    error = _problems(json.dumps(carrier_event(occurred_at="2026-11-28T09:15:00")))
    assert error.details[0]["loc"] == "occurred_at"


def test_a_unix_timestamp_is_refused() -> None:
    error = _problems(json.dumps(carrier_event(occurred_at=1764321300)))
    assert error.details[0]["loc"] == "occurred_at"


def test_unknown_fields_are_refused_so_typos_surface() -> None:
    error = _problems(json.dumps(carrier_event(tracking_cod="x")))
    assert error.details[0]["loc"] == "tracking_cod"


def test_a_carrier_code_stands_in_for_a_missing_status() -> None:
    event = carrier_event(status=None, carrier_status={"type": "BDE", "code": "01"})
    assert parse_events(json.dumps(event))[0].status is Status.DELIVERED


def test_an_unknown_carrier_code_without_status_is_refused() -> None:
    event = carrier_event(status=None, carrier_status={"type": "XYZ", "code": "99"})
    assert "status is required" in _problems(json.dumps(event)).details[0]["message"]


def test_more_than_100_events_are_refused() -> None:
    body = {"events": [carrier_event(carrier_event_id=f"ce-{i}") for i in range(101)]}
    assert _problems(json.dumps(body)).details[0]["loc"] == "events"


def test_an_empty_batch_is_refused() -> None:
    assert type(_problems(json.dumps({"events": []}))) is ValidationFailedError


def test_metadata_over_4_kib_is_refused() -> None:
    error = _problems(json.dumps(carrier_event(metadata={"blob": "x" * 5000})))
    assert error.details[0]["loc"] == "metadata"


def test_a_body_over_the_limit_is_a_413() -> None:
    assert type(_problems(b" " * (MAX_BODY_BYTES + 1))) is PayloadTooLargeError


@pytest.mark.parametrize("body", ["[]", "42", '"text"', ""])
def test_a_body_that_is_not_an_object_is_a_400(body: str) -> None:
    assert type(_problems(body)) is InvalidRequestError
