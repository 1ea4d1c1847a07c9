import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parcelhooks.core.errors import (
    InvalidRequestError,
    MalformedJsonError,
    ParcelhooksError,
    PayloadTooLargeError,
    ValidationFailedError,
)
from parcelhooks.core.ids import OWNER_ID_RULE
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.events import (
    MAX_BODY_BYTES,
    MAX_METADATA_DEPTH,
    CarrierEventIn,
    parse_events,
)
from parcelhooks.ingest.timing import DEFAULT_EVENT_WINDOW, MAX_CLOCK_SKEW, MAX_EVENT_AGE
from parcelhooks_cli.send import read_event_file
from testkit.factories import EVENTS_DIR, NOW, carrier_event, nested

# Every event here is built, and every body parsed, at the fixed clock's time.


def _event(**overrides: Any) -> dict[str, Any]:
    return carrier_event(now=NOW, **overrides)


def _parse(body: str | bytes) -> list[CarrierEventIn]:
    return parse_events(body, now=NOW)


def _problems(body: str | bytes) -> ParcelhooksError:
    with pytest.raises(ParcelhooksError) as caught:
        _parse(body)
    return caught.value


def _with_metadata(raw: str) -> str:
    """An event whose metadata is `raw` JSON text, as sent (NaN, repeats and all)."""
    return json.dumps(_event())[:-1] + f', "metadata": {raw}}}'


def test_a_single_event_is_accepted() -> None:
    events = _parse(json.dumps(_event()))
    assert [e.carrier_event_id for e in events] == ["ce-1"]
    assert events[0].status is Status.DELIVERED


def test_a_batch_keeps_its_order() -> None:
    body = {"events": [_event(carrier_event_id=f"ce-{i}") for i in range(3)]}
    assert [e.carrier_event_id for e in _parse(json.dumps(body))] == ["ce-0", "ce-1", "ce-2"]


# No fixed time is accepted both now and three years on: every sample time is relative.
@pytest.mark.parametrize("later", [timedelta(0), timedelta(days=3 * 365)], ids=["now", "3y-on"])
@pytest.mark.parametrize("sample", sorted(EVENTS_DIR.glob("carrier/*.json")), ids=lambda p: p.name)
def test_every_sample_is_valid_whenever_parcelhooks_send_sends_it(
    sample: Path, later: timedelta, now: datetime
) -> None:
    sent_at = now + later
    assert parse_events(read_event_file(str(sample), now=sent_at), now=sent_at)


def test_every_problem_is_listed_with_its_location() -> None:
    bad = _event(tracking_code="QB", occurred_at="yesterday", status="lost")
    body = {"events": [_event(), bad, _event(merchant_id=None)]}
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
    error = _problems(json.dumps(_event(occurred_at="2026-11-28T09:15:00")))
    assert error.details[0]["loc"] == "occurred_at"


def test_a_unix_timestamp_is_refused() -> None:
    error = _problems(json.dumps(_event(occurred_at=1764321300)))
    assert error.details[0]["loc"] == "occurred_at"


def test_unknown_fields_are_refused_so_typos_surface() -> None:
    error = _problems(json.dumps(_event(tracking_cod="x")))
    assert error.details[0]["loc"] == "tracking_cod"


def test_a_carrier_code_stands_in_for_a_missing_status() -> None:
    event = _event(status=None, carrier_status={"type": "BDE", "code": "01"})
    assert _parse(json.dumps(event))[0].status is Status.DELIVERED


def test_an_unknown_carrier_code_without_status_is_accepted_as_unknown() -> None:
    raw = {"type": "XYZ", "code": "99", "description": "Objeto em rota de parceiro"}
    [event] = _parse(json.dumps(_event(status=None, carrier_status=raw)))
    assert (event.status, event.status_detail) == (Status.UNKNOWN, None)
    assert event.carrier_status is not None
    assert event.carrier_status.model_dump() == raw  # kept as sent, for the table to grow


@pytest.mark.parametrize(
    "carrier_status",
    [None, {}, {"description": "only words"}, {"code": ""}, {"type": " ", "code": ""}],
    ids=["none", "empty", "description-only", "empty-code", "blank-parts"],
)
def test_an_event_saying_nothing_of_what_happened_is_still_refused(
    carrier_status: dict[str, str] | None,
) -> None:
    error = _problems(json.dumps(_event(status=None, carrier_status=carrier_status)))
    assert type(error) is ValidationFailedError
    assert "status is required" in error.details[0]["message"]


@pytest.mark.parametrize(
    ("status", "carrier_status", "detail"),
    [
        ("delivered", None, "to_recipient"),
        ("delivered", None, "to_neighbour"),
        ("exception", None, "payment_required"),
        (None, {"type": "BDE", "code": "20"}, "refused"),
        (None, {"type": "XYZ", "code": "1"}, None),
    ],
)
def test_a_carrier_may_send_a_detail_of_the_events_status(
    status: str | None, carrier_status: dict[str, str] | None, detail: str | None
) -> None:
    event = _event(status=status, carrier_status=carrier_status, status_detail=detail)
    assert _parse(json.dumps(event))[0].status_detail == detail


@pytest.mark.parametrize(
    ("status", "carrier_status", "detail", "allowed"),
    [
        ("delivered", None, "lost", "to_recipient, to_neighbour"),
        ("in_transit", None, "recipient_absent", "forwarded, arrived_at_facility"),
        (None, {"type": "BDE", "code": "1"}, "payment_required", "to_recipient"),
        (None, {"type": "XYZ", "code": "1"}, "other", "allowed: none"),
        ("unknown", None, "other", "allowed: none"),
    ],
)
def test_a_detail_of_another_status_is_a_400_listing_the_allowed_ones(
    status: str | None, carrier_status: dict[str, str] | None, detail: str, allowed: str
) -> None:
    event = _event(status=status, carrier_status=carrier_status, status_detail=detail)
    error = _problems(json.dumps({"events": [_event(), event]}))
    assert type(error) is ValidationFailedError
    [problem] = error.details
    assert problem["loc"] == "events[1].status_detail"
    assert detail in problem["message"] and allowed in problem["message"]


def test_a_detail_not_in_any_vocabulary_is_refused() -> None:
    error = _problems(json.dumps(_event(status_detail="teleported")))
    assert [d["loc"] for d in error.details] == ["status_detail"]


def test_a_status_sent_wins_and_keeps_the_codes_detail_only_when_they_agree() -> None:
    agree = _event(status="delivered", carrier_status={"type": "BDE", "code": "01"})
    differ = _event(status="exception", carrier_status={"type": "BDE", "code": "01"})
    assert _parse(json.dumps(agree))[0].status_detail == "to_recipient"
    [event] = _parse(json.dumps(differ))
    assert (event.status, event.status_detail) == (Status.EXCEPTION, None)


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2026-12-01T18:00:00-03:00", datetime(2026, 12, 1, 21, 0, tzinfo=UTC)),
        ("2026-12-01T18:00:00Z", datetime(2026, 12, 1, 18, 0, tzinfo=UTC)),
    ],
)
def test_estimated_delivery_is_a_date_or_a_date_time(sent: str, read: date) -> None:
    [event] = _parse(json.dumps(_event(estimated_delivery=sent)))
    assert event.estimated_delivery == read
    assert type(event.estimated_delivery) is type(read)


@pytest.mark.parametrize(
    "sent",
    [
        1764547200,
        "1764547200",
        "2026-12-01T18:00:00",
        "01/12/2026",
        "2026-02-30",
        "2026-12",
        (NOW + timedelta(days=366)).date().isoformat(),
        (NOW - MAX_EVENT_AGE - timedelta(days=1)).date().isoformat(),
    ],
)
def test_estimated_delivery_that_is_not_a_plausible_date_is_refused(sent: object) -> None:
    error = _problems(json.dumps(_event(estimated_delivery=sent)))
    assert [d["loc"] for d in error.details] == ["estimated_delivery"]


def test_more_than_100_events_are_refused() -> None:
    body = {"events": [_event(carrier_event_id=f"ce-{i}") for i in range(101)]}
    assert _problems(json.dumps(body)).details[0]["loc"] == "events"


def test_an_empty_batch_is_refused() -> None:
    assert type(_problems(json.dumps({"events": []}))) is ValidationFailedError


def test_metadata_over_4_kib_is_refused() -> None:
    error = _problems(json.dumps(_event(metadata={"blob": "x" * 5000})))
    assert error.details[0]["loc"] == "metadata"


def test_a_body_over_the_limit_is_a_413() -> None:
    assert type(_problems(b" " * (MAX_BODY_BYTES + 1))) is PayloadTooLargeError


@pytest.mark.parametrize("body", ["[]", "42", '"text"', ""])
def test_a_body_that_is_not_an_object_is_a_400(body: str) -> None:
    error = _problems(body)
    assert type(error) is InvalidRequestError
    assert [d["loc"] for d in error.details] == ["body"]


# Class A: deep or odd JSON is refused by the strict reader, with where.


def test_deeply_nested_arrays_are_a_400_not_a_recursion_error() -> None:
    error = _problems("[" * 100_000 + "]" * 100_000)
    assert type(error) is MalformedJsonError
    assert error.details[0]["type"] == "json_too_deep"


def test_metadata_nested_hundreds_of_levels_is_refused_before_validation() -> None:
    error = _problems(json.dumps(_event(metadata=nested(300))))
    assert type(error) is MalformedJsonError
    assert error.details[0]["loc"].startswith("metadata.a.a")


def test_metadata_may_nest_8_levels_but_not_9() -> None:
    [event] = _parse(json.dumps(_event(metadata=nested(MAX_METADATA_DEPTH))))
    assert event.metadata == nested(MAX_METADATA_DEPTH)
    error = _problems(json.dumps(_event(metadata=nested(MAX_METADATA_DEPTH + 1))))
    assert type(error) is ValidationFailedError
    assert error.details[0]["loc"] == "metadata"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_a_number_without_a_finite_value_is_refused_not_delivered_as_null(number: str) -> None:
    error = _problems(_with_metadata(f'{{"weight": {number}}}'))
    assert type(error) is MalformedJsonError
    assert error.details == [
        {
            "loc": "metadata.weight",
            "message": f"{number} is not a finite number",
            "type": "json_number",
        }
    ]


def test_a_repeated_key_is_refused_rather_than_the_last_one_winning() -> None:
    body = json.dumps(_event(merchant_id="merchant-a"))[:-1] + ', "merchant_id": "merchant-b"}'
    error = _problems(body)
    assert type(error) is MalformedJsonError
    assert [(d["loc"], d["type"]) for d in error.details] == [("merchant_id", "json_duplicate_key")]


def test_a_lone_surrogate_is_refused_before_it_breaks_the_queue() -> None:
    error = _problems(_with_metadata(r'{"note": "\ud800"}'))
    assert type(error) is MalformedJsonError
    assert error.details[0]["loc"] == "metadata.note"


# Class C: text the contract does not mean to allow.

TEXT_FIELDS = {
    "carrier_event_id": ["carrier_event_id"],
    "tracking_code": ["tracking_code"],
    "merchant_id": ["merchant_id"],
    "order_id": ["order_id"],
    "description": ["description"],
    "location.city": ["location", "city"],
    "location.postal_code": ["location", "postal_code"],
    "carrier_status.code": ["carrier_status", "code"],
    "carrier_status.description": ["carrier_status", "description"],
}


def _event_with(path: list[str], value: str) -> dict[str, Any]:
    event = _event(location={"city": "Recife"}, carrier_status={"code": "01"})
    target = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize("loc", sorted(TEXT_FIELDS))
@pytest.mark.parametrize("control", ["\x00", "\n", "\t", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_refused_in_every_text_field(loc: str, control: str) -> None:
    event = _event_with(TEXT_FIELDS[loc], f"QB12{control}3456")
    error = _problems(json.dumps(event))
    assert type(error) is ValidationFailedError
    assert [d["loc"] for d in error.details] == [loc]


@pytest.mark.parametrize("loc", sorted(TEXT_FIELDS))
def test_a_trailing_newline_is_refused_not_stripped(loc: str) -> None:
    error = _problems(json.dumps(_event_with(TEXT_FIELDS[loc], "QB123456\n")))
    assert [d["loc"] for d in error.details] == [loc]


@pytest.mark.parametrize("merchant_id", ["merchant#a", "a,b", "a b", "-a", "é", "m" * 129])
def test_merchant_id_follows_the_owner_id_rule(merchant_id: str) -> None:
    error = _problems(json.dumps(_event(merchant_id=merchant_id)))
    assert [d["loc"] for d in error.details] == ["merchant_id"]
    assert OWNER_ID_RULE in error.details[0]["message"] or "128" in error.details[0]["message"]


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59Z",
        (NOW - DEFAULT_EVENT_WINDOW - timedelta(seconds=1)).isoformat(),
        (NOW + MAX_CLOCK_SKEW + timedelta(seconds=1)).isoformat(),
    ],
)
def test_occurred_at_outside_the_window_around_now_is_refused(occurred_at: str) -> None:
    error = _problems(json.dumps(_event(occurred_at=occurred_at)))
    assert type(error) is ValidationFailedError
    assert [d["loc"] for d in error.details] == ["occurred_at"]


@pytest.mark.parametrize("offset", [-DEFAULT_EVENT_WINDOW, MAX_CLOCK_SKEW, timedelta(0)])
def test_occurred_at_at_the_edges_of_the_window_is_accepted(offset: timedelta) -> None:
    body = json.dumps(_event(occurred_at=(NOW + offset).isoformat()))
    assert _parse(body)[0].occurred_at == NOW + offset


@pytest.mark.parametrize("occurred_at", ["1764321300", "1764321300.5", "2026-11-28T09:15Z"])
def test_occurred_at_strings_that_are_not_rfc_3339_are_refused(occurred_at: str) -> None:
    error = _problems(json.dumps(_event(occurred_at=occurred_at)))
    assert [d["loc"] for d in error.details] == ["occurred_at"]
