"""Shipment order on the moto stack: placement by ingest under concurrent requests, the
merchant reading GET /v1/shipments/{tracking_code}, which reaches every code ingest accepts.
(The state and placement against in-memory stores: tests/unit/test_shipments.py.)"""

from __future__ import annotations

import json
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from types import ModuleType
from typing import Any
from urllib.parse import quote

import boto3
import moto.dynamodb.responses
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcelhooks.aws.items import unpacked_json
from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.shipments import ShipmentKey, ShipmentState
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.events import CarrierEventIn
from parcelhooks.ingest.tracking_codes import TRACKING_CODE_RULE, s10_check_digit
from parcelhooks.merchant_api.shipments import Shipments
from parcelhooks.wiring import admin as admin_wiring
from parcelhooks.wiring import ingest as ingest_wiring
from testkit.factories import (
    HISTORY_KEY,
    HISTORY_START,
    LambdaContextStub,
    api_event,
    carrier_event,
    history_correction,
    history_event,
    load_function,
)
from tests.component.stack import StackReader

T0 = HISTORY_START
KEY = HISTORY_KEY
event = history_event
correction = history_correction


# ---------------------------------------------------------------------------------------
# Against moto, concurrently


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each request to an item atomically; moto 5.2.5 does not under threads
    (two conditional writes can both pass their check), so its requests are made one at a
    time here, as DynamoDB makes each write (docs/decisions.md)."""
    lock = threading.Lock()
    handle = moto.dynamodb.responses.DynamoHandler.call_action

    def one_at_a_time(self: Any) -> Any:
        with lock:
            return handle(self)

    monkeypatch.setattr(moto.dynamodb.responses.DynamoHandler, "call_action", one_at_a_time)


def _incoming(
    n: int, hours_ago: float, status: str, code: str = KEY.tracking_code
) -> CarrierEventIn:
    occurred = datetime.now(UTC) - timedelta(hours=hours_ago)
    return CarrierEventIn.model_validate(
        carrier_event(
            carrier_event_id=f"ce-{code}-{n}",
            tracking_code=code,
            status=status,
            occurred_at=occurred.isoformat(),
        )
    )


def _table(env: dict[str, str]) -> ShipmentsTable:
    return ShipmentsTable(
        boto3.resource("dynamodb", region_name="us-east-1").Table(env["SHIPMENTS_TABLE"])
    )


def _check_order(placed: list[ShipmentEvent]) -> None:
    """Each event was judged against exactly the events placed before it (sequence order)."""
    placed = sorted(placed, key=lambda e: e.sequence or 0)
    assert [e.sequence for e in placed] == list(range(1, len(placed) + 1))
    for index, item in enumerate(placed):
        before = placed[:index]
        latest = max(before, key=lambda e: (e.occurred_at, e.sequence or 0), default=None)
        assert item.previous_status == (latest.status if latest else None), item.sequence
        assert item.stale == (latest is not None and item.occurred_at < latest.occurred_at)


@pytest.mark.usefixtures("atomic_dynamodb")
def test_two_events_of_one_shipment_in_one_request_are_placed_in_request_order(
    moto_stack: dict[str, str],
) -> None:
    ingest_wiring.ingest().accept(
        "carrier-x", [_incoming(1, 1, "delivered"), _incoming(2, 3, "in_transit")]
    )
    stored = _table(moto_stack)
    state = stored.states("merchant-a", KEY.tracking_code, None)["carrier-x"]
    events, truncated = stored.events("merchant-a", KEY.tracking_code, "carrier-x", 10)
    assert [(e.sequence, e.status, e.stale) for e in events] == [
        (1, Status.DELIVERED, False),
        (2, Status.IN_TRANSIT, True),
    ]
    assert events[1].previous_status == Status.DELIVERED and not truncated
    assert state.latest is not None and state.latest.event_id == events[0].event_id


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_requests_for_one_shipment_never_share_a_sequence_or_lose_the_latest(
    moto_stack: dict[str, str],
) -> None:
    rng = random.Random(5)
    statuses = ["posted", "in_transit", "out_for_delivery", "delivered"]
    requests = [
        [_incoming(10 * r + n, rng.uniform(1, 48), rng.choice(statuses)) for n in range(3)]
        + [_incoming(10 * r, rng.uniform(1, 48), "posted", code=f"TRK-OTHER-{r}")]
        for r in range(8)
    ]
    ingest = ingest_wiring.ingest()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda batch: ingest.accept("carrier-x", batch), requests))
    assert all(a.accepted == 4 for a in answers)
    events, _ = _table(moto_stack).events("merchant-a", KEY.tracking_code, "carrier-x", 100)
    assert len(events) == 24
    _check_order(events)
    state = _table(moto_stack).states("merchant-a", KEY.tracking_code, "carrier-x")["carrier-x"]
    newest = max(events, key=lambda e: (e.occurred_at, e.sequence or 0))
    assert state.latest is not None and state.latest.event_id == newest.event_id
    assert state.last_sequence == 24
    for r in range(8):  # the other shipments of each request went their own way
        [own], _ = _table(moto_stack).events("merchant-a", f"TRK-OTHER-{r}", "carrier-x", 5)
        assert (own.sequence, own.previous_status) == (1, None)


# ---------------------------------------------------------------------------------------
# Through the handlers: ingest places, the merchant reads


def _post_events(events: list[dict[str, Any]], carrier: str = "correios") -> dict[str, Any]:
    request = api_event("POST", "/v1/events", {"events": events}, role="carrier", owner_id=carrier)
    response: dict[str, Any] = load_function("ingest").handler(request, LambdaContextStub())
    assert response["statusCode"] == 202, response["body"]
    return dict(json.loads(response["body"]))


def _get(
    path: str, merchant: str = "merchant-a", query: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = api_event("GET", path, role="merchant", owner_id=merchant, query=query)
    response = load_function("admin").handler(request, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"])


def _sent(hours_ago: float, status: str, n: int, **extra: Any) -> dict[str, Any]:
    occurred = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    return carrier_event(
        carrier_event_id=f"sro-{n}",
        tracking_code="TRK-0001",
        status=status,
        occurred_at=occurred,
        **extra,
    )


@pytest.fixture
def history(moto_stack: dict[str, str]) -> list[str]:
    """Posted, delivered, then a late in_transit scan — in three requests."""
    ids = []
    for n, (hours_ago, status) in enumerate([(30, "posted"), (2, "delivered"), (10, "in_transit")]):
        ids.append(_post_events([_sent(hours_ago, status, n)])["events"][0]["event_id"])
    return ids


def test_a_merchant_reads_its_shipment_with_the_history_in_sequence_order(
    history: list[str],
) -> None:
    status, body = _get("/v1/shipments/TRK-0001")
    assert status == 200, body
    [shipment] = body["data"]
    assert (shipment["carrier"], shipment["status"], shipment["last_sequence"]) == (
        "correios",
        "delivered",
        3,
    )
    assert [e["data"]["event_id"] for e in shipment["events"]] == history
    assert [e["data"]["sequence"] for e in shipment["events"]] == [1, 2, 3]
    assert [e["data"]["stale"] for e in shipment["events"]] == [False, False, True]
    assert shipment["events"][2]["data"]["previous_status"] == "delivered"
    assert shipment["latest"]["data"]["event_id"] == history[1]
    assert shipment["latest"]["type"] == "shipment.delivered"
    assert not shipment["events_truncated"]
    # Each event with the buyer's sentence, as a template would tell it.
    assert shipment["latest"]["message"]["pt_BR"].startswith("Seu pedido")
    assert "entregue" in shipment["latest"]["message"]["pt_BR"]
    assert "delivered" in shipment["latest"]["message"]["en"]


def test_another_merchant_and_an_unknown_code_get_404(history: list[str]) -> None:
    assert _get("/v1/shipments/TRK-0001", merchant="merchant-b")[0] == 404
    assert _get("/v1/shipments/TRK-9999")[0] == 404
    assert _get("/v1/shipments/TRK-0001", query={"carrier": "another"})[0] == 404


@pytest.mark.usefixtures("moto_stack")
def test_one_code_at_two_carriers_is_two_shipments_and_carrier_picks_one() -> None:
    _post_events([_sent(5, "posted", 1)], carrier="correios")
    _post_events([_sent(4, "in_transit", 1)], carrier="jadlog")
    _, both = _get("/v1/shipments/TRK-0001")
    assert [(s["carrier"], s["status"]) for s in both["data"]] == [
        ("correios", "posted"),
        ("jadlog", "in_transit"),
    ]
    _, one = _get("/v1/shipments/TRK-0001", query={"carrier": "jadlog"})
    assert [s["carrier"] for s in one["data"]] == ["jadlog"]


def test_a_correction_is_queued_naming_what_it_withdrew_and_the_history_shows_it(
    history: list[str], moto_stack: dict[str, str]
) -> None:
    fix = _sent(1, "in_transit", 9, carrier_status={"type": "EST", "code": "01"})
    fix_id = _post_events([fix])["events"][0]["event_id"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    queued = []
    while got := sqs.receive_message(
        QueueUrl=moto_stack["EVENTS_QUEUE_URL"], MaxNumberOfMessages=10
    ).get("Messages"):
        queued += [ShipmentEvent.model_validate_json(m["Body"]) for m in got]
    [sent] = [e for e in queued if e.event_id == fix_id]
    assert sent.type == "shipment.correction"
    assert sent.corrects is not None and sent.corrects.event_id == history[1]  # the delivery
    assert (sent.status, sent.previous_status) == (Status.IN_TRANSIT, Status.DELIVERED)
    _, body = _get("/v1/shipments/TRK-0001")
    [shipment] = body["data"]
    # Rolled back to the latest event still standing: the late in_transit scan.
    assert (
        shipment["status"] == "in_transit" and shipment["latest"]["data"]["event_id"] == history[2]
    )
    withdrawn = {e["data"]["event_id"]: e["withdrawn_by"] for e in shipment["events"]}
    assert withdrawn == {history[0]: None, history[1]: fix_id, history[2]: None, fix_id: None}
    assert shipment["events"][-1]["type"] == "shipment.correction"


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The merchant API as built, listing at most two events per shipment."""
    monkeypatch.setattr(admin_wiring, "Shipments", partial(Shipments, max_events=2))


@pytest.mark.usefixtures("small_pages")
def test_only_the_newest_events_are_listed_when_there_are_too_many(history: list[str]) -> None:
    _, body = _get("/v1/shipments/TRK-0001")
    [shipment] = body["data"]
    assert [e["data"]["event_id"] for e in shipment["events"]] == history[1:]
    assert shipment["events_truncated"]


# ---------------------------------------------------------------------------------------
# Every code ingest accepts is reachable at GET /v1/shipments/{tracking_code}

# The documented alphabet, written out here rather than read from the code under test.
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


OTHER_CODES = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(ALNUM),
    st.text(ALNUM + "._-", min_size=3, max_size=63),
).filter(lambda code: not _s10_shaped(code))


S10_CODES = st.builds(
    lambda prefix, serial, country: f"{prefix}{serial}{s10_check_digit(serial)}{country}",
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text("0123456789", min_size=8, max_size=8),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
)


SPELLINGS = {
    "original": lambda code: code,
    "lower": str.lower,
    "upper": str.upper,
    "swapped": str.swapcase,
}


def _s10_shaped(code: str) -> bool:
    upper = code.upper()
    return (
        len(upper) == 13 and upper[:2].isalpha() and upper[2:11].isdigit() and upper[11:].isalpha()
    )


def _path(code: str, escape_all: bool = False) -> str:
    """The route for `code` as a client writes it: escaped where needed (never, for a code
    ingest accepts), or every byte escaped, which RFC 3986 makes the same path."""
    segment = "".join(f"%{b:02X}" for b in code.encode()) if escape_all else quote(code, safe="")
    return f"/v1/shipments/{segment}"


class Handlers:
    """Ingest and the merchant API, imported once for a test's many examples."""

    def __init__(self) -> None:
        self._ingest: ModuleType = load_function("ingest")
        self._admin: ModuleType = load_function("admin")

    def post(self, event: dict[str, Any], carrier: str) -> dict[str, Any]:
        request = api_event("POST", "/v1/events", event, role="carrier", owner_id=carrier)
        response: dict[str, Any] = self._ingest.handler(request, LambdaContextStub())
        return response

    def get(self, path: str, carrier: str) -> tuple[int, Any]:
        request = api_event("GET", path, role="merchant", query={"carrier": carrier})
        response = self._admin.handler(request, LambdaContextStub())
        return response["statusCode"], json.loads(response["body"])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    code=S10_CODES | OTHER_CODES,
    sent_as=st.sampled_from(sorted(SPELLINGS)),
    padded=st.booleans(),
)
def test_every_code_ingest_accepts_is_found_by_the_shipments_route(
    moto_stack: dict[str, str], code: str, sent_as: str, padded: bool
) -> None:
    handlers = Handlers()
    # Each example is its own carrier's shipment: examples never see each other's.
    carrier = f"carrier-{uuid.uuid4().hex[:12]}"
    sent = SPELLINGS[sent_as](code)
    event = carrier_event(
        carrier_event_id=f"ce-{uuid.uuid4()}", tracking_code=f" {sent} " if padded else sent
    )
    response = handlers.post(event, carrier)
    assert response["statusCode"] == 202, response["body"]
    s10 = _s10_shaped(code)
    stored = sent.upper() if s10 else sent
    for spelling in {sent, stored, stored.lower(), stored.upper()}:
        for escape_all in (False, True):
            status, body = handlers.get(_path(spelling, escape_all), carrier)
            # S10 codes are one shipment in any case; other carriers' codes are as sent.
            if s10 or spelling == stored:
                assert status == 200, (spelling, body)
                assert body["tracking_code"] == stored
                assert [s["carrier"] for s in body["data"]] == [carrier]
            else:
                assert status == 404, (spelling, body)


@pytest.mark.parametrize(
    "code",
    ["QB12/3456", "QB1234?5678", "QB12#3456", "QB12%2F3456", "QB 123456785BR", "QB1234ção"],
)
def test_a_code_no_url_reaches_is_a_400_naming_tracking_code_and_nothing_is_queued(
    moto_stack: dict[str, str], code: str
) -> None:
    response = Handlers().post(carrier_event(tracking_code=code), "correios")
    assert response["statusCode"] == 400, response["body"]
    error = json.loads(response["body"])["error"]
    assert error["code"] == "validation_failed"
    [problem] = error["details"]
    assert problem["loc"] == "tracking_code"
    assert TRACKING_CODE_RULE in problem["message"]
    stack = StackReader(moto_stack)
    assert stack.messages("EVENTS_QUEUE_URL") == 0 and stack.shipment_items() == []


@pytest.mark.parametrize("path", ["/v1/shipments/QB12%2F3456", "/v1/shipments/QB12%3F3456"])
def test_an_escaped_character_no_code_holds_is_a_404(history: list[str], path: str) -> None:
    status, body = _get(path)
    assert status == 404 and body["error"]["code"] == "not_found"


def test_history_items_keep_the_event_packed_and_read_items_written_before_packing(
    moto_stack: dict[str, str], history: list[str]
) -> None:
    table = _table(moto_stack)
    raw = table._table
    items = [i for i in raw.scan()["Items"] if str(i["sk"]).startswith("event#")]
    assert items and all(isinstance(i["event"].value, bytes) for i in items)
    # An item written before packing holds the JSON text: the history reads it the same.
    first = min(items, key=lambda i: str(i["sk"]))
    before, _ = table.events(*_shipment_of(first), limit=10)
    text = unpacked_json(first["event"])
    raw.put_item(Item={**first, "event": text})
    after, _ = table.events(*_shipment_of(first), limit=10)
    assert after == before and [e.event_id for e in after] == history


def _shipment_of(item: dict[str, Any]) -> tuple[str, str, str]:
    merchant_id, tracking_code = str(item["merchant_tracking"]).split("#", 1)
    return merchant_id, tracking_code, str(item["sk"]).split("#")[1]


def test_the_states_of_a_requests_shipments_are_read_together(
    moto_stack: dict[str, str], history: list[str]
) -> None:
    table = _table(moto_stack)
    [state] = [i for i in table._table.scan()["Items"] if str(i["sk"]).startswith("state#")]
    seen = ShipmentKey(str(state["merchant_id"]), str(state["carrier"]), "TRK-0001")
    unseen = ShipmentKey(str(state["merchant_id"]), str(state["carrier"]), "TRK-9999")
    states = table.load_many([seen, unseen])
    assert states[seen] == table.load(seen) and states[seen].last_sequence == 3
    assert states[unseen] == ShipmentState()


@pytest.mark.usefixtures("moto_stack")
def test_an_orders_shipments_are_found_by_its_order_id_and_only_the_merchants_own() -> None:
    def sent(n: int, code: str, order_id: str | None, merchant: str = "merchant-a") -> Any:
        event = _sent(5 - n, "posted", n, order_id=order_id, merchant_id=merchant)
        return {**event, "tracking_code": code, "carrier_event_id": f"ord-{n}"}

    _post_events([sent(1, "TRK-0002", "order-7"), sent(2, "TRK-0001", "order-7")])
    _post_events([sent(3, "TRK-0003", None), sent(4, "TRK-0004", "order-8")], carrier="jadlog")
    _post_events([sent(5, "TRK-0005", "order-7", merchant="merchant-b")])
    # A later event without the order keeps the shipment filed under it.
    _post_events([{**sent(6, "TRK-0001", None), "status": "in_transit"}])
    status, body = _get("/v1/shipments", query={"order_id": "order-7"})
    assert status == 200, body
    assert body["order_id"] == "order-7"
    assert [(s["tracking_code"], s["carrier"], s["status"]) for s in body["data"]] == [
        ("TRK-0001", "correios", "in_transit"),
        ("TRK-0002", "correios", "posted"),
    ]
    # Each shipment as GET /v1/shipments/{tracking_code} gives it.
    _, one = _get("/v1/shipments/TRK-0002")
    assert body["data"][1] == one["data"][0]
    assert _get("/v1/shipments", query={"order_id": "order-9"}) == (
        200,
        {"order_id": "order-9", "data": []},
    )
    status, refused = _get("/v1/shipments")
    assert status == 400 and refused["error"]["details"][0]["loc"] == "query.order_id"


def test_a_history_item_is_written_once_and_its_stored_copy_answers_every_later_write(
    moto_stack: dict[str, str],
) -> None:
    table = _table(moto_stack)
    expires = datetime.now(UTC) + timedelta(days=1)
    first = event("rec-1", Status.POSTED, 1, tracking_code="REC1").model_copy(
        update={"sequence": 2}
    )
    later = first.model_copy(update={"description": "edited", "sequence": 7})
    assert table.record(first, expires) is None
    assert table.record(later, expires) == first  # refused: the first copy comes back
    # Keyed by event id, listed by sequence, with an item keyed by sequence (written
    # before the history was the claim) read the same.
    older = event("rec-0", Status.POSTED, 0, tracking_code="REC1").model_copy(
        update={"sequence": 1}
    )
    table._table.put_item(
        Item={
            "merchant_tracking": f"{older.merchant_id}#REC1",
            "sk": f"event#{older.carrier}#{1:012d}",
            "event": older.model_dump_json(),
        }
    )
    events, truncated = table.events(older.merchant_id, "REC1", older.carrier, 10)
    assert [e.event_id for e in events] == ["rec-0", "rec-1"] and not truncated
    newest, truncated = table.events(older.merchant_id, "REC1", older.carrier, 1)
    assert [e.event_id for e in newest] == ["rec-1"] and truncated
