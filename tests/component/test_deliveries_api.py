"""Deliveries through the admin handler: listing and its filters, one delivery in detail,
retry, recover, test events, isolation."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.pages import CursorSigner
from parcelhooks.core.deliveries import AttemptRecord, DeliveryJob, delivery_id_of
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.delivery.webhook import webhook_body
from testkit.factories import (
    LambdaContextStub,
    api_event,
    attempt_record,
    carrier_event,
    load_function,
    shipment_event,
)

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["*"]}


def _call(
    method: str,
    path: str,
    body: Any = None,
    merchant: str = "merchant-a",
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    app = load_function("admin")
    event = api_event(method, path, body, role="merchant", owner_id=merchant, query=query)
    response = app.handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


@pytest.fixture
def sub(moto_stack: dict[str, str]) -> dict[str, Any]:
    status, created = _call("POST", "/v1/subscriptions", NEW)
    assert status == 201
    return created


@pytest.fixture
def log(moto_stack: dict[str, str]) -> DeliveryLogTable:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["DELIVERIES_TABLE"]
    )
    return DeliveryLogTable(table, timedelta(days=30), CursorSigner(lambda: b"k" * 32))


def _attempts(
    sub_id: str, event_id: str, outcomes: list[str], start: datetime
) -> list[AttemptRecord]:
    event = shipment_event(event_id=event_id)
    return [
        attempt_record(
            delivery_id=delivery_id_of(event, sub_id),
            event_id=event_id,
            subscription_id=sub_id,
            attempt=n,
            attempted_at=start + timedelta(minutes=n),
            outcome=outcome,
            event=event,
        )
        for n, outcome in enumerate(outcomes, start=1)
    ]


def _retry_jobs(env: dict[str, str]) -> list[DeliveryJob]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=env["RETRY_QUEUE_URL"], MaxNumberOfMessages=10)
    return [DeliveryJob.model_validate_json(m["Body"]) for m in got.get("Messages", [])]


def test_attempts_are_listed_newest_first_and_filtered(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    log.record(_attempts(sub["id"], "evt_a", ["retry", "retry", "delivered"], now))
    status, page = _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries")
    assert status == 200
    assert [a["attempt"] for a in page["data"]] == [3, 2, 1]
    assert set(page["data"][0]) >= {"status_code", "latency_ms", "error", "next_attempt_at"}
    assert "event" not in page["data"][0]
    _, failures = _call(
        "GET", f"/v1/subscriptions/{sub['id']}/deliveries", query={"outcome": "failure"}
    )
    assert [a["outcome"] for a in failures["data"]] == ["retry", "retry"]
    assert (
        _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries", query={"outcome": "maybe"})[0]
        == 400
    )


def test_the_last_failure_of_a_dead_lettered_delivery_is_listed_as_exhausted(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    log.record(_attempts(sub["id"], "evt_dead", ["retry", "retry", "exhausted"], start))
    log.record(_attempts(sub["id"], "evt_ok", ["retry", "delivered"], start))
    path = f"/v1/subscriptions/{sub['id']}/deliveries"
    status, page = _call("GET", path, query={"outcome": "exhausted"})
    assert status == 200
    [last] = page["data"]
    assert (last["event_id"], last["attempt"], last["outcome"]) == ("evt_dead", 3, "exhausted")
    assert (last["status_code"], last["next_attempt_at"]) == (500, None)
    _, failures = _call("GET", path, query={"outcome": "failure"})
    outcomes = sorted(a["outcome"] for a in failures["data"])
    assert outcomes == ["exhausted", "retry", "retry", "retry"]  # a failure too


def test_a_delivery_is_retried_now_with_a_fresh_schedule(
    sub: dict[str, Any], log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    outcomes = ["retry"] * 7 + ["exhausted"]
    records = _attempts(sub["id"], "evt_a", outcomes, datetime.now(UTC) - timedelta(days=1))
    log.record(records)
    status, sent = _call("POST", f"/v1/deliveries/{records[0].delivery_id}/retry")
    assert status == 202 and sent["attempt"] == 9
    [job] = _retry_jobs(moto_stack)
    assert (job.attempt, job.schedule_from, job.force) == (9, 9, True)
    assert job.event.event_id == "evt_a" and job.subscription_id == sub["id"]


def test_recover_resends_only_failed_deliveries_not_already_waiting(
    sub: dict[str, Any], log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)
    log.record(_attempts(sub["id"], "evt_dead", ["retry", "exhausted"], start))
    log.record(_attempts(sub["id"], "evt_ok", ["retry", "delivered"], start))
    waiting = _attempts(sub["id"], "evt_waiting", ["retry"], start)
    waiting[0] = waiting[0].model_copy(
        update={"next_attempt_at": datetime.now(UTC) + timedelta(hours=1)}
    )
    log.record(waiting)
    log.record(_attempts(sub["id"], "evt_old", ["retry"], start - timedelta(days=2)))
    since = (start - timedelta(minutes=1)).isoformat()
    status, done = _call("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since})
    assert status == 202 and done["recovered"] == 1 and not done["truncated"]
    assert [d["event_id"] for d in done["deliveries"]] == ["evt_dead"]
    assert [j.event.event_id for j in _retry_jobs(moto_stack)] == ["evt_dead"]


def test_recover_refuses_a_since_outside_the_log_window(sub: dict[str, Any]) -> None:
    since = (datetime.now(UTC) - timedelta(days=45)).isoformat()
    status, body = _call("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since})
    assert status == 400 and body["error"]["details"][0]["loc"] == "since"
    assert _call("POST", f"/v1/subscriptions/{sub['id']}/recover", {})[0] == 400


_AN_HOUR_AGO = int(datetime.now(UTC).timestamp()) - 3600


@pytest.mark.parametrize(
    "body",
    [
        {"since": _AN_HOUR_AGO},
        {"since": _AN_HOUR_AGO + 0.5},
        {"since": str(_AN_HOUR_AGO)},
        {"since": True},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"since": "9999-12-31T23:59:59-14:00"},
        {"since": datetime.now(UTC).isoformat(), "until": datetime.now(UTC).isoformat()},
    ],
    ids=["number", "float", "digit-string", "bool", "year-1", "year-9999", "unknown-field"],
)
def test_recover_takes_since_only_as_an_rfc_3339_string(
    sub: dict[str, Any], moto_stack: dict[str, str], body: dict[str, Any]
) -> None:
    # Class C: a recent unix time used to be read as one, though occurred_at refuses numbers.
    status, answer = _call("POST", f"/v1/subscriptions/{sub['id']}/recover", body)
    assert status == 400
    assert [d["loc"] for d in answer["error"]["details"]] == [next(reversed(body))]
    assert _retry_jobs(moto_stack) == []


def test_a_test_event_is_queued_as_webhook_test(
    sub: dict[str, Any], moto_stack: dict[str, str]
) -> None:
    status, sent = _call("POST", f"/v1/subscriptions/{sub['id']}/test")
    assert status == 202 and sent["delivery_id"].startswith("dlv_")
    [job] = _retry_jobs(moto_stack)
    assert job.event.type == "webhook.test" and job.delivery_id == sent["delivery_id"]
    assert job.event.merchant_id == "merchant-a"


def test_a_disabled_subscription_gets_a_409_for_test_retry_and_recover(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    records = _attempts(sub["id"], "evt_a", ["retry"], datetime.now(UTC) - timedelta(hours=1))
    log.record(records)
    _call("PATCH", f"/v1/subscriptions/{sub['id']}", {"enabled": False})
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for method, path, body in [
        ("POST", f"/v1/subscriptions/{sub['id']}/test", None),
        ("POST", f"/v1/deliveries/{records[0].delivery_id}/retry", None),
        ("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since}),
    ]:
        status, answer = _call(method, path, body)
        assert status == 409 and answer["error"]["code"] == "subscription_disabled"


def test_unknown_deliveries_are_404(sub: dict[str, Any]) -> None:
    assert _call("POST", "/v1/deliveries/dlv_nope/retry")[0] == 404
    assert _call("GET", "/v1/subscriptions/sub_nope/deliveries")[0] == 404


def test_another_merchant_gets_404_on_every_delivery_route_and_nothing_is_queued(
    sub: dict[str, Any], log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    records = _attempts(sub["id"], "evt_a", ["retry"], datetime.now(UTC) - timedelta(hours=1))
    log.record(records)
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for method, path, body in [
        ("GET", f"/v1/subscriptions/{sub['id']}/deliveries", None),
        ("POST", f"/v1/deliveries/{records[0].delivery_id}/retry", None),
        ("POST", f"/v1/subscriptions/{sub['id']}/recover", {"since": since}),
        ("POST", f"/v1/subscriptions/{sub['id']}/test", None),
    ]:
        status, answer = _call(method, path, body, merchant="merchant-b")
        assert status == 404, (method, path)
        assert answer["error"]["code"] == "not_found"
    assert _retry_jobs(moto_stack) == []


# --- the delivery log's filters --------------------------------------------------------------


def _line(
    sub_id: str,
    event: ShipmentEvent,
    at: datetime,
    outcome: str = "retry",
    attempt: int = 1,
) -> AttemptRecord:
    return attempt_record(
        delivery_id=delivery_id_of(event, sub_id),
        event_id=event.event_id,
        event_type=event.type,
        subscription_id=sub_id,
        attempt=attempt,
        attempted_at=at,
        outcome=outcome,
        event=event,
    )


_HOUR_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def mixed(sub: dict[str, Any], log: DeliveryLogTable) -> dict[str, datetime]:
    """Four lines a minute apart, of two types and two tracking codes: the events taken in at
    `a` (in transit) and `b` (delivered), their second attempts at `c` and `d`; returns the
    times."""
    at = {name: _HOUR_AGO + timedelta(minutes=n) for n, name in enumerate("abcd")}
    delivered = shipment_event(event_id="evt_d", tracking_code="QB123456785BR", now=at["b"])
    moving = shipment_event(
        event_id="evt_m", tracking_code="JT-0001", status="in_transit", now=at["a"]
    )
    log.record(
        [
            _line(sub["id"], moving, at["a"]),
            _line(sub["id"], delivered, at["b"]),
            _line(sub["id"], moving, at["c"], outcome="delivered", attempt=2),
            _line(sub["id"], delivered, at["d"], outcome="delivered", attempt=2),
        ]
    )
    return at


def _listed(sub_id: str, **query: str) -> list[tuple[str, int]]:
    status, page = _call("GET", f"/v1/subscriptions/{sub_id}/deliveries", query=query)
    assert status == 200, page
    return [(a["event_id"], a["attempt"]) for a in page["data"]]


def test_the_log_is_filtered_by_event_type(sub: dict[str, Any], mixed: dict[str, Any]) -> None:
    assert _listed(sub["id"], event_type="shipment.in_transit") == [("evt_m", 2), ("evt_m", 1)]
    assert _listed(sub["id"], event_type="delivery.exhausted") == []


def test_the_log_is_filtered_by_tracking_code_in_the_spelling_ingest_stores(
    sub: dict[str, Any], mixed: dict[str, Any], log: DeliveryLogTable
) -> None:
    assert _listed(sub["id"], tracking_code="JT-0001") == [("evt_m", 2), ("evt_m", 1)]
    # An S10 code is one shipment however it is spelled.
    assert _listed(sub["id"], tracking_code="qb123456785br") == [("evt_d", 2), ("evt_d", 1)]
    assert _listed(sub["id"], tracking_code="jt-0001") == []  # other codes as they are


def test_a_line_written_before_the_log_kept_tracking_codes_never_matches_one(
    sub: dict[str, Any], log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    old = _line(sub["id"], shipment_event(event_id="evt_old"), _HOUR_AGO)
    log.record([old])
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["DELIVERIES_TABLE"]
    )
    [item] = table.scan()["Items"]
    assert item["tracking_code"] == "QB123456785BR"
    del item["tracking_code"]
    table.put_item(Item=item)  # as the fan-out wrote it before
    assert _listed(sub["id"], tracking_code="QB123456785BR") == []
    assert _listed(sub["id"]) == [("evt_old", 1)]


def test_the_log_lists_newest_event_first_with_a_delivery_s_attempts_together(
    sub: dict[str, Any], mixed: dict[str, datetime]
) -> None:
    assert _listed(sub["id"]) == [("evt_d", 2), ("evt_d", 1), ("evt_m", 2), ("evt_m", 1)]


def test_the_log_is_filtered_by_event_time_both_ends_included(
    sub: dict[str, Any], mixed: dict[str, datetime]
) -> None:
    a, b, c = mixed["a"].isoformat(), mixed["b"].isoformat(), mixed["c"].isoformat()
    # A delivery's lines go with its event's time: evt_m's second attempt, made at `c`, too.
    assert _listed(sub["id"], since=b) == [("evt_d", 2), ("evt_d", 1)]
    assert _listed(sub["id"], until=a) == [("evt_m", 2), ("evt_m", 1)]
    assert _listed(sub["id"], since=a, until=a) == [("evt_m", 2), ("evt_m", 1)]
    assert _listed(sub["id"], since=c) == []
    # Any offset names the same instant; `Z` too.
    in_sao_paulo = mixed["b"].astimezone(timezone(timedelta(hours=-3))).isoformat()
    zulu = mixed["b"].isoformat().replace("+00:00", "Z")
    assert _listed(sub["id"], since=zulu, until=in_sao_paulo) == [("evt_d", 2), ("evt_d", 1)]


def test_every_filter_combines_with_the_others(
    sub: dict[str, Any], mixed: dict[str, datetime]
) -> None:
    since, until = mixed["a"].isoformat(), mixed["c"].isoformat()
    assert _listed(sub["id"], outcome="failure", event_type="shipment.delivered") == [("evt_d", 1)]
    assert _listed(sub["id"], outcome="success", tracking_code="JT-0001", since=since) == [
        ("evt_m", 2)
    ]
    everything = {
        "outcome": "failure",
        "event_type": "shipment.in_transit",
        "tracking_code": "JT-0001",
        "since": since,
        "until": until,
    }
    assert _listed(sub["id"], **everything) == [("evt_m", 1)]
    assert _listed(sub["id"], **{**everything, "outcome": "success"}) == [("evt_m", 2)]
    assert _listed(sub["id"], **{**everything, "until": since}) == [("evt_m", 1)]


def test_every_unknown_filter_value_is_listed_in_one_400(
    sub: dict[str, Any], mixed: dict[str, datetime]
) -> None:
    query = {
        "outcome": "maybe",
        "event_type": "shipment.teleported",
        "tracking_code": "../etc",
        "since": "yesterday",
        "until": str(int(_HOUR_AGO.timestamp())),  # a unix time: refused, as in occurred_at
    }
    status, answer = _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries", query=query)
    assert (status, answer["error"]["code"]) == (400, "validation_failed")
    locs = sorted(d["loc"] for d in answer["error"]["details"])
    assert locs == sorted(f"query.{name}" for name in query)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("event_type", "*"),
        ("event_type", "Shipment.Delivered"),
        ("tracking_code", "QB123456784BR"),  # an S10 code with a wrong check digit
        ("tracking_code", "a"),
        ("since", "2026-11-28T09:58:00"),  # no offset
        ("since", "2026-11-28"),
        ("until", "0001-01-01T00:00:00+14:00"),  # before year 1 in UTC
    ],
)
def test_a_value_no_log_line_can_have_is_a_400_at_its_parameter(
    sub: dict[str, Any], name: str, value: str
) -> None:
    status, answer = _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries", query={name: value})
    assert (status, answer["error"]["code"]) == (400, "validation_failed"), answer
    assert [d["loc"] for d in answer["error"]["details"]] == [f"query.{name}"]


def test_a_since_after_until_is_a_400(sub: dict[str, Any]) -> None:
    query = {"since": _HOUR_AGO.isoformat(), "until": (_HOUR_AGO - timedelta(1)).isoformat()}
    status, answer = _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries", query=query)
    assert (status, answer["error"]["code"]) == (400, "validation_failed")
    assert answer["error"]["details"] == [
        {"loc": "query.since", "message": "is after until", "type": "value_error"}
    ]


def test_a_filtered_list_pages_on_with_its_cursor_and_another_filters_cursor_is_refused(
    sub: dict[str, Any], mixed: dict[str, datetime]
) -> None:
    path = f"/v1/subscriptions/{sub['id']}/deliveries"
    in_transit = {"event_type": "shipment.in_transit", "since": mixed["a"].isoformat()}
    seen: list[tuple[str, int]] = []
    cursor: str | None = None
    for _ in range(10):  # pages may come up short: follow the cursor until it ends
        status, page = _call("GET", path, query={**in_transit, "limit": "1", **cursor_of(cursor)})
        assert status == 200, page
        seen += [(a["event_id"], a["attempt"]) for a in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [("evt_m", 2), ("evt_m", 1)]
    _, first = _call("GET", path, query={**in_transit, "limit": "1"})
    handed_out = first["next_cursor"]
    assert handed_out
    for other in (
        {},
        {"event_type": "shipment.in_transit"},
        {**in_transit, "event_type": "shipment.delivered"},
        {**in_transit, "tracking_code": "JT-0001"},
        {**in_transit, "outcome": "failure"},
        {**in_transit, "until": mixed["d"].isoformat()},
        {**in_transit, "since": mixed["b"].isoformat()},
    ):
        status, answer = _call("GET", path, query={**other, "cursor": handed_out})
        assert (status, answer["error"]["code"]) == (400, "invalid_cursor"), other
    # The unfiltered list's cursor is good for the unfiltered list only.
    _, plain = _call("GET", path, query={"limit": "1"})
    assert _call("GET", path, query={"cursor": plain["next_cursor"]})[0] == 200
    status, answer = _call("GET", path, query={**in_transit, "cursor": plain["next_cursor"]})
    assert (status, answer["error"]["code"]) == (400, "invalid_cursor")


def cursor_of(cursor: str | None) -> dict[str, str]:
    return {"cursor": cursor} if cursor else {}


# --- one delivery in detail ------------------------------------------------------------------


def _detail(dlv_id: str, merchant: str = "merchant-a") -> tuple[int, Any]:
    return _call("GET", f"/v1/deliveries/{dlv_id}", merchant=merchant)


def test_a_delivery_is_shown_with_its_body_its_request_and_its_attempts_newest_first(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    records = _attempts(sub["id"], "evt_a", ["retry", "retry", "delivered"], _HOUR_AGO)
    log.record(records)
    log.record(_attempts(sub["id"], "evt_b", ["retry"], _HOUR_AGO))  # another delivery
    status, shown = _detail(records[0].delivery_id)
    assert status == 200, shown
    event = records[0].event
    assert event is not None
    assert (shown["delivery_id"], shown["subscription_id"]) == (records[0].delivery_id, sub["id"])
    assert (shown["event_id"], shown["event_type"]) == ("evt_a", "shipment.delivered")
    assert shown["body"] == json.loads(webhook_body(event))
    request = shown["request"]
    assert (request["method"], request["url"]) == ("POST", NEW["url"])
    assert json.loads(request["body"]) == shown["body"]
    assert request["headers"]["webhook-id"] == "evt_a"
    assert request["headers"]["webhook-signature"] == "(made at each attempt)"
    assert (shown["email"], shown["render_error"], shown["attempts_truncated"]) == (
        None,
        None,
        False,
    )
    assert [a["attempt"] for a in shown["attempts"]] == [3, 2, 1]
    # Each attempt as the subscription's list shows it.
    _, listed = _call("GET", f"/v1/subscriptions/{sub['id']}/deliveries")
    assert shown["attempts"] == [a for a in listed["data"] if a["event_id"] == "evt_a"]


SECRET = "erp-token-never-shown-5b1c"
TEMPLATED = {
    "url": "https://erp.example.com/orders/{{ data.order_id }}",
    "event_types": ["*"],
    "method": "PUT",
    "headers": [
        {"name": "Authorization", "value": f"Bearer {SECRET}", "secret": True},
        {"name": "X-Shop", "value": "loja-1"},
    ],
    "template": '{"code": "{{ data.tracking_code }}", "msg": "{{ message.pt_BR }}"}',
}


def _delivered_to(sub_id: str, log: DeliveryLogTable, **event: Any) -> str:
    line = _line(sub_id, shipment_event(event_id="evt_t", **event), _HOUR_AGO, "delivered")
    log.record([line])
    return line.delivery_id


def test_a_templated_delivery_is_rendered_now_with_its_secret_header_masked(
    log: DeliveryLogTable, moto_stack: dict[str, str]
) -> None:
    status, created = _call("POST", "/v1/subscriptions", TEMPLATED)
    assert status == 201, created
    dlv_id = _delivered_to(created["id"], log, order_id="A-1001")
    status, shown = _detail(dlv_id)
    assert status == 200, shown
    request = shown["request"]
    assert (request["method"], request["url"]) == ("PUT", "https://erp.example.com/orders/A-1001")
    assert request["headers"]["Authorization"] == "********"
    assert request["headers"]["X-Shop"] == "loja-1"
    assert SECRET not in json.dumps(shown)
    assert json.loads(request["body"]) == {
        "code": "QB123456785BR",
        "msg": "Seu pedido A-1001 foi entregue.",
    }
    assert shown["body"]["data"]["order_id"] == "A-1001"  # the body is our own JSON still
    # Rendered when read: the subscription as it is now, not as it was.
    _call("PATCH", f"/v1/subscriptions/{created['id']}", {"template": '{"v": 2}'})
    _, again = _detail(dlv_id)
    assert json.loads(again["request"]["body"]) == {"v": 2}


def test_a_delivery_the_templates_cannot_render_says_why(log: DeliveryLogTable) -> None:
    needs_phone = {**TEMPLATED, "template": '{"to": "{{ data.metadata.buyer_phone }}"}'}
    status, created = _call("POST", "/v1/subscriptions", needs_phone)
    assert status == 201, created
    dlv_id = _delivered_to(created["id"], log, metadata={"other": "x"})
    status, shown = _detail(dlv_id)
    assert status == 200 and shown["request"] is None and shown["email"] is None
    assert "buyer_phone" in shown["render_error"]
    assert [a["outcome"] for a in shown["attempts"]] == ["delivered"]


def test_an_email_delivery_is_shown_as_the_mail_it_sends(log: DeliveryLogTable) -> None:
    thanks = {
        "kind": "email",
        "event_types": ["shipment.delivered"],
        "email": {
            "to": "{{ data.metadata.buyer_email }}",
            "subject": "Seu pedido {{ data.order_id }} chegou",
            "text": "{{ message.pt_BR }} Obrigado!",
        },
    }
    status, created = _call("POST", "/v1/subscriptions", thanks)
    assert status == 201, created
    dlv_id = _delivered_to(
        created["id"], log, order_id="A-1", metadata={"buyer_email": "ana@example.com"}
    )
    status, shown = _detail(dlv_id)
    assert status == 200, shown
    assert shown["request"] is None and shown["render_error"] is None
    assert shown["email"] == {
        "to": ["ana@example.com"],
        "subject": "Seu pedido A-1 chegou",
        "text": "Seu pedido A-1 foi entregue. Obrigado!",
        "html": None,
    }


def test_another_merchants_or_an_unknown_delivery_is_404(
    sub: dict[str, Any], log: DeliveryLogTable
) -> None:
    records = _attempts(sub["id"], "evt_a", ["retry"], _HOUR_AGO)
    log.record(records)
    for dlv_id, merchant in [
        (records[0].delivery_id, "merchant-b"),
        ("dlv_unknown", "merchant-a"),
    ]:
        status, answer = _detail(dlv_id, merchant=merchant)
        assert (status, answer["error"]["code"]) == (404, "not_found")
        assert "evt_a" not in json.dumps(answer)
    assert _detail(records[0].delivery_id)[0] == 200
    _call("DELETE", f"/v1/subscriptions/{sub['id']}")  # its lines stay until they expire
    assert _detail(records[0].delivery_id)[0] == 404


def test_a_line_that_points_to_its_event_s_history_is_retried_and_shown_with_it(
    sub: dict[str, Any], moto_stack: dict[str, str]
) -> None:
    # As the fan-out writes it: the event ingest recorded is read from the shipment history.
    posted = load_function("ingest").handler(
        api_event("POST", "/v1/events", carrier_event(), role="carrier", owner_id="correios"),
        LambdaContextStub(),
    )
    event_id = json.loads(posted["body"])["events"][0]["event_id"]
    [queued] = _queued_events(moto_stack)
    assert queued.event_id == event_id
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["DELIVERIES_TABLE"]
    )
    writer = DeliveryLogTable(table, timedelta(days=30), history_kept=timedelta(days=90))
    writer.record(
        [
            attempt_record(
                delivery_id=delivery_id_of(queued, sub["id"]),
                event_id=event_id,
                subscription_id=sub["id"],
                outcome="exhausted",
                event=queued,
            )
        ]
    )
    [line] = [i for i in table.scan()["Items"] if i["event_id"] == event_id]
    assert "event" not in line
    dlv = delivery_id_of(queued, sub["id"])
    status, shown = _call("GET", f"/v1/deliveries/{dlv}")
    assert status == 200 and shown["event_id"] == event_id
    assert shown["body"]["data"]["tracking_code"] == queued.tracking_code
    status, _ = _call("POST", f"/v1/deliveries/{dlv}/retry")
    assert status == 202
    [job] = _retry_jobs(moto_stack)
    assert job.event == queued


def _queued_events(env: dict[str, str]) -> list[ShipmentEvent]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=env["EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
    return [ShipmentEvent.model_validate_json(m["Body"]) for m in got.get("Messages", [])]
