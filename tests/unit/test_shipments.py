"""Shipment order: sequence, latest, stale and corrections — the state, its placement by
ingest (concurrent requests against moto), and GET /v1/shipments/{tracking_code}, which
reaches every code ingest accepts."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Sequence
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

from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.core.errors import EnqueueFailedError, NotFoundError
from parcelhooks.core.models import CarrierStatus, ShipmentEvent
from parcelhooks.core.shipments import MAX_ENTRIES, Entry, ShipmentKey, ShipmentState
from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.accept import Ingest
from parcelhooks.ingest.events import CarrierEventIn
from parcelhooks.ingest.shipments import MAX_PLACE_ATTEMPTS, ShipmentBook
from parcelhooks.ingest.tracking_codes import TRACKING_CODE_RULE, s10_check_digit
from parcelhooks.merchant_api.shipments import Shipments
from parcelhooks.wiring import admin as admin_wiring
from parcelhooks.wiring import ingest as ingest_wiring
from tests.factories import (
    LambdaContextStub,
    StackReader,
    api_event,
    carrier_event,
    load_function,
)
from tests.factories import shipment_event as _shipment_event

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEY = ShipmentKey("merchant-a", "carrier-x", "TRK-0001")


def event(event_id: str, status: Status, hour: int, **overrides: Any) -> ShipmentEvent:
    fields: dict[str, Any] = {
        "event_id": event_id,
        "carrier_event_id": event_id,
        "tracking_code": KEY.tracking_code,
        "status": status,
        "occurred_at": T0 + timedelta(hours=hour),
    }
    return _shipment_event(**(fields | overrides))


def correction(event_id: str, hour: int) -> ShipmentEvent:
    """Correios EST: "Favor desconsiderar a informação anterior"."""
    return event(
        event_id,
        Status.IN_TRANSIT,
        hour,
        status_detail=StatusDetail.CORRECTION,
        carrier_status=CarrierStatus(type="EST", code="01"),
    )


def place_all(*events: ShipmentEvent) -> tuple[ShipmentState, list[Entry]]:
    state, entries = ShipmentState(), []
    for item in events:
        state, entry = state.place(item)
        entries.append(entry)
    return state, entries


# ---------------------------------------------------------------------------------------
# The state


def test_events_in_order_get_increasing_sequences_and_the_status_before_them() -> None:
    state, entries = place_all(
        event("e1", Status.POSTED, 0),
        event("e2", Status.IN_TRANSIT, 1),
        event("e3", Status.DELIVERED, 2),
    )
    assert [e.sequence for e in entries] == [1, 2, 3]
    assert [e.previous_status for e in entries] == [None, Status.POSTED, Status.IN_TRANSIT]
    assert not any(e.stale for e in entries)
    assert state.latest is not None and state.latest.event_id == "e3"


def test_a_late_scan_is_stale_and_leaves_the_latest_alone() -> None:
    state, [_, late, after] = place_all(
        event("e1", Status.DELIVERED, 5),
        event("e2", Status.IN_TRANSIT, 3),  # occurred before the delivery, arrived after it
        event("e3", Status.OUT_FOR_DELIVERY, 4),
    )
    assert (late.sequence, late.stale, late.previous_status) == (2, True, Status.DELIVERED)
    assert (after.stale, after.previous_status) == (True, Status.DELIVERED)
    assert state.latest is not None and state.latest.event_id == "e1"


def test_events_that_occurred_at_the_same_instant_are_not_stale_and_the_later_one_is_latest() -> (
    None
):
    state, [_, second] = place_all(
        event("e1", Status.IN_TRANSIT, 1), event("e2", Status.IN_TRANSIT, 1)
    )
    assert not second.stale
    assert state.latest is not None and state.latest.event_id == "e2"


def test_a_correction_withdraws_the_latest_and_the_shipment_rolls_back() -> None:
    state, [_, delivered, fix] = place_all(
        event("e1", Status.OUT_FOR_DELIVERY, 1),
        event("e2", Status.DELIVERED, 2),
        correction("c1", 3),
    )
    assert fix.correction and fix.corrects == "e2"
    assert (fix.status, fix.previous_status, fix.stale) == (
        Status.OUT_FOR_DELIVERY,
        Status.DELIVERED,
        False,
    )
    assert state.latest is not None and state.latest.event_id == "e1"
    withdrawn = state.withdrawn_by(fix)
    assert withdrawn is not None and withdrawn.withdrawn().event_id == delivered.event_id
    # The next event is judged against the rolled-back shipment.
    _, next_one = state.place(event("e3", Status.DELIVERED, 4))
    assert (next_one.previous_status, next_one.stale) == (Status.OUT_FOR_DELIVERY, False)


def test_a_late_correction_withdraws_the_event_before_it_not_the_latest() -> None:
    state, [_, _, _, fix] = place_all(
        event("e1", Status.POSTED, 1),
        event("e2", Status.IN_TRANSIT, 2),
        event("e3", Status.DELIVERED, 5),
        correction("c1", 3),  # "disregard the previous information", sent after e3 arrived
    )
    assert (fix.corrects, fix.stale, fix.status) == ("e2", True, Status.DELIVERED)
    assert state.latest is not None and state.latest.event_id == "e3"


def test_a_correction_with_nothing_before_it_withdraws_nothing() -> None:
    state, [fix] = place_all(correction("c1", 1))
    assert fix.correction and fix.corrects is None and fix.status == Status.IN_TRANSIT
    assert state.latest is None


def test_an_est_carrier_code_is_a_correction_whatever_status_it_came_with() -> None:
    est = event("c1", Status.EXCEPTION, 3, carrier_status=CarrierStatus(type="est", code="09"))
    _, [_, fix] = place_all(event("e1", Status.DELIVERED, 2), est)
    assert fix.correction and fix.corrects == "e1"


def test_forgetting_events_undoes_their_corrections_and_never_reuses_a_sequence() -> None:
    state, _ = place_all(event("e1", Status.IN_TRANSIT, 1), event("e2", Status.DELIVERED, 2))
    state, _ = state.place(correction("c1", 3))
    state = state.without({"c1"})
    assert state.latest is not None and state.latest.event_id == "e2"  # the withdrawal undone
    state = state.without({"e2"})
    assert state.latest is not None and state.latest.event_id == "e1"
    _, entry = state.place(event("e3", Status.DELIVERED, 4))
    assert entry.sequence == 4 and entry.previous_status == Status.IN_TRANSIT


def test_an_event_placed_again_keeps_its_entry() -> None:
    state, [first] = place_all(event("e1", Status.POSTED, 1))
    again, entry = state.place(event("e1", Status.POSTED, 1))
    assert again is state and entry == first


def test_the_state_keeps_the_newest_events_and_always_the_one_just_placed() -> None:
    state, _ = place_all(*(event(f"e{h}", Status.IN_TRANSIT, h) for h in range(1, 20)))
    assert len(state.entries) == MAX_ENTRIES
    assert {e.event_id for e in state.entries} == {f"e{h}" for h in range(12, 20)}
    state, late = state.place(event("old", Status.POSTED, 0))
    assert len(state.entries) == MAX_ENTRIES and late in state.entries and late.stale
    assert state.last_sequence == 20


# ---------------------------------------------------------------------------------------
# Placement by ingest: compare-and-set, lost races, events that were not queued


class RacingStore:
    """A store whose first `races` saves lose to a writer that placed `rival` first."""

    def __init__(self, rival: ShipmentEvent | None = None, races: int = 1) -> None:
        self.state = ShipmentState()
        self.kept: list[ShipmentEvent] = []
        self.rival = rival
        self.races = races
        self.saves = 0

    def load(self, key: ShipmentKey) -> ShipmentState:
        return self.state

    def save(
        self, key: ShipmentKey, state: ShipmentState, previous: ShipmentState, expires: datetime
    ) -> ShipmentState | None:
        self.saves += 1
        if self.races > 0:
            self.races -= 1
            if self.rival is not None:
                self.state, _ = self.state.place(self.rival)
            else:
                self.state = ShipmentState(version=self.state.version + 1)
            return self.state
        if previous.version != self.state.version:
            return self.state
        self.state = state
        return None

    def keep(self, events: Sequence[ShipmentEvent], expires: datetime) -> None:
        self.kept.extend(events)


def test_a_request_that_loses_the_race_places_its_events_after_the_winners() -> None:
    store = RacingStore(rival=event("rival", Status.DELIVERED, 5))
    placed = ShipmentBook(store, timedelta(days=30)).place([event("mine", Status.IN_TRANSIT, 3)])
    [mine] = placed.events
    assert (mine.sequence, mine.previous_status, mine.stale) == (2, Status.DELIVERED, True)
    assert store.saves == 2


def test_a_shipment_that_keeps_changing_fails_the_request_and_forgets_the_others() -> None:
    store = RacingStore(races=MAX_PLACE_ATTEMPTS)
    other = RacingStore(races=0)
    stores = {"TRK-0001": store, "TRK-0002": other}

    class Routed(RacingStore):
        def load(self, key: ShipmentKey) -> ShipmentState:
            return stores[key.tracking_code].load(key)

        def save(self, key: ShipmentKey, *args: Any) -> ShipmentState | None:
            return stores[key.tracking_code].save(key, *args)

    book = ShipmentBook(Routed(), timedelta(days=30))
    with pytest.raises(EnqueueFailedError):
        book.place(
            [event("a", Status.POSTED, 1), event("b", Status.POSTED, 1, tracking_code="TRK-0002")]
        )
    assert other.state.last_sequence == 1 and other.state.entries == ()  # placed, then forgotten


class PickyQueue:
    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.sent: list[ShipmentEvent] = []

    def publish(self, events: Sequence[ShipmentEvent]) -> list[str]:
        self.sent += [e for e in events if e.carrier_event_id not in self.refuse]
        return [e.event_id for e in events if e.carrier_event_id in self.refuse]


class MemoryClaims:
    def __init__(self) -> None:
        self.held: set[str] = set()

    def claim(self, carrier: str, ceid: str, event_id: str, now: datetime) -> None:
        self.held.add(ceid)

    def take_over(self, *args: Any) -> bool:
        return False

    def confirm(self, *args: Any) -> None:
        pass

    def release(self, carrier: str, ceids: Sequence[str]) -> None:
        self.held -= set(ceids)


def test_an_event_that_was_not_queued_is_taken_out_of_its_shipment_and_has_no_history() -> None:
    store = RacingStore(races=0)
    queue = PickyQueue(refuse={"ce-2"})
    ingest = Ingest(MemoryClaims(), queue, shipments=ShipmentBook(store, timedelta(days=30)))
    now = datetime.now(UTC)
    events = [
        CarrierEventIn.model_validate(
            carrier_event(
                carrier_event_id=f"ce-{n}",
                tracking_code=KEY.tracking_code,
                status=s,
                occurred_at=(now - timedelta(hours=5 - n)).isoformat(),
            )
        )
        for n, s in [(1, "in_transit"), (2, "delivered")]
    ]
    with pytest.raises(EnqueueFailedError):
        ingest.accept("carrier-x", events)
    assert [(e.sequence, e.status) for e in queue.sent] == [(1, Status.IN_TRANSIT)]
    assert [e.event_id for e in store.kept] == [queue.sent[0].event_id]
    assert [e.sequence for e in store.state.entries] == [1]  # the refused one is gone
    assert store.state.last_sequence == 2  # and its sequence is not given again


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


@pytest.mark.parametrize(
    "code", ["x" * 3000, "QB1\x00", "abc", "QB12/3456", "ab cd", "QB123456785ﬀ", "...."]
)
def test_a_tracking_code_ingest_could_never_store_is_a_404_not_a_500(code: str) -> None:
    class NoReader:
        def states(self, *args: object) -> dict[str, object]:
            raise AssertionError("looked up a code that cannot exist")

    with pytest.raises(NotFoundError):
        Shipments(NoReader()).get("merchant-a", code, None)  # type: ignore[arg-type]


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
    assert stack.messages("EVENTS_QUEUE_URL") == 0 and stack.claims() == []


@pytest.mark.parametrize("path", ["/v1/shipments/QB12%2F3456", "/v1/shipments/QB12%3F3456"])
def test_an_escaped_character_no_code_holds_is_a_404(history: list[str], path: str) -> None:
    status, body = _get(path)
    assert status == 404 and body["error"]["code"] == "not_found"
