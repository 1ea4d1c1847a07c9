"""shipment.stalled and shipment.late on the moto stack, with a fake clock: the shipments'
due times filed by ingest's placement, the sweep's run found by the `by-due` index, Brazil's
calendar (Carnaval 2027: 8-9 February; São Paulo's 9 July), once per episode, cleared by the
next event. The sweep runs through its handler, under its own IAM role."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.core.models import Location, ShipmentEvent
from parcelhooks.core.shipments import ShipmentKey
from parcelhooks.core.statuses import Status
from parcelhooks.ingest.shipments import ShipmentBook
from parcelhooks.wiring import ingest as ingest_wiring
from testkit.environment import reset_cached_builders
from testkit.factories import LambdaContextStub, load_function, shipment_event

BRT = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def sweep_app(moto_stack: dict[str, str]) -> ModuleType:
    return load_function("sweep")


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRT)


def place(
    code: str,
    occurred: datetime,
    state: str = "SP",
    status: Status = Status.IN_TRANSIT,
    history: bool = True,
    **fields: Any,
) -> ShipmentKey:
    """An event placed as ingest places it (its due time filed with it)."""
    event = shipment_event(
        event_id=f"evt_{code}_{occurred.timestamp():.0f}",
        carrier_event_id=f"{code}-{occurred.isoformat()}",
        tracking_code=code,
        status=status,
        occurred_at=occurred,
        received_at=occurred,
        location=Location(city="Cidade", state=state),
        **fields,
    )
    table = ShipmentsTable(ingest_wiring.clients.table(ingest_wiring.settings().shipments_table))
    rules = ingest_wiring.settings().stalled_after
    book = ShipmentBook(table, timedelta(days=90), stall_rules=rules)
    [placed] = book.place([event]).events
    if history:
        book.record([placed])
    else:
        _PENDING_HISTORY.append((book, placed))
    return ShipmentKey.of(event)


# Events placed whose history is not written yet (ingest writes it after queueing).
_PENDING_HISTORY: list[tuple[ShipmentBook, ShipmentEvent]] = []


def run(app: ModuleType, now: datetime) -> dict[str, Any]:
    scheduled = {"time": now.astimezone(UTC).isoformat(), "detail-type": "Scheduled Event"}
    result: dict[str, Any] = app.handler(scheduled, LambdaContextStub())
    return result


def queued(env: dict[str, str]) -> list[ShipmentEvent]:
    """Every event in the events queue, taken out of it."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    found: list[ShipmentEvent] = []
    while True:
        got = sqs.receive_message(QueueUrl=env["EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(ShipmentEvent.model_validate(json.loads(message["Body"])))
            sqs.delete_message(
                QueueUrl=env["EVENTS_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
            )


def test_carnaval_days_are_not_business_days_and_the_stall_is_told_once(
    moto_stack: dict[str, str], sweep_app: ModuleType
) -> None:
    # Friday before Carnaval; 4 business days: Ash Wednesday 10, 11, 12, Monday 15.
    place("CARNAVAL1", at(date(2027, 2, 5), 10))
    # Ingest filed it on weekdays alone (due Friday 12): the sweep files it again.
    assert run(sweep_app, at(date(2027, 2, 12), 1))["refiled"] == 1
    assert queued(moto_stack) == []
    assert run(sweep_app, at(date(2027, 2, 15), 23, 59))["looked_at"] == 0
    assert run(sweep_app, at(date(2027, 2, 16), 0, 5))["told"] == {"stalled": 1, "late": 0}
    [alert] = queued(moto_stack)
    assert alert.type == "shipment.stalled" and alert.status is Status.IN_TRANSIT
    assert alert.alert is not None
    assert (alert.alert.business_days, alert.alert.stalled_since) == (
        4,
        at(date(2027, 2, 5), 10),
    )
    assert alert.occurred_at == at(date(2027, 2, 16))
    assert alert.occurred_at.utcoffset() == timedelta(0)  # told in UTC
    # Once per episode: later runs find nothing (the shipment left the index).
    assert run(sweep_app, at(date(2027, 2, 20)))["looked_at"] == 0
    assert queued(moto_stack) == []


def test_the_next_event_ends_the_episode_and_the_count_starts_again(
    moto_stack: dict[str, str], sweep_app: ModuleType
) -> None:
    place("AGAIN1", at(date(2027, 3, 1), 9))  # Monday: due Saturday 6 at 00:00
    run(sweep_app, at(date(2027, 3, 6), 1))
    [first] = queued(moto_stack)
    place("AGAIN1", at(date(2027, 3, 8), 9))  # it moved: a new episode from Monday 8
    assert run(sweep_app, at(date(2027, 3, 12), 12))["looked_at"] == 0
    run(sweep_app, at(date(2027, 3, 13), 1))
    [second] = queued(moto_stack)
    assert first.event_id != second.event_id
    assert second.alert is not None
    assert second.alert.stalled_since == at(date(2027, 3, 8), 9)


def test_a_state_holiday_counts_in_that_state_only(
    moto_stack: dict[str, str], sweep_app: ModuleType
) -> None:
    # Tuesday 6 July 2027; Friday 9 is São Paulo's Revolução Constitucionalista.
    place("RIO1", at(date(2027, 7, 6), 10), state="RJ")
    place("SAMPA1", at(date(2027, 7, 6), 10), state="SP")
    run(sweep_app, at(date(2027, 7, 13), 1))
    assert [e.tracking_code for e in queued(moto_stack)] == ["RIO1"]
    run(sweep_app, at(date(2027, 7, 14), 1))
    [sp] = queued(moto_stack)
    assert sp.tracking_code == "SAMPA1"
    assert sp.alert is not None and sp.alert.business_days == 4


def test_late_is_told_once_per_promised_date(
    moto_stack: dict[str, str], sweep_app: ModuleType
) -> None:
    promised = date(2027, 4, 7)  # a Wednesday
    place("LATE1", at(date(2027, 4, 5), 9), estimated_delivery=promised)
    run(sweep_app, at(date(2027, 4, 8), 0, 1))
    [late] = queued(moto_stack)
    assert late.type == "shipment.late"
    assert late.alert is not None
    assert (late.alert.promised, late.alert.business_days) == (promised, 1)
    # Still late after a new scan with the same promise: not told again.
    place("LATE1", at(date(2027, 4, 8), 9))
    run(sweep_app, at(date(2027, 4, 9), 12))
    assert queued(moto_stack) == []
    # A new promise, passed in turn: a new episode.
    place("LATE1", at(date(2027, 4, 9), 13), estimated_delivery=date(2027, 4, 12))
    run(sweep_app, at(date(2027, 4, 13), 0, 1))
    [again] = queued(moto_stack)
    assert again.type == "shipment.late" and again.event_id != late.event_id


def test_delivered_shipments_are_never_due(
    moto_stack: dict[str, str], sweep_app: ModuleType
) -> None:
    place(
        "DONE1",
        at(date(2027, 5, 3), 9),
        status=Status.DELIVERED,
        estimated_delivery=date(2027, 5, 1),
    )
    assert run(sweep_app, at(date(2027, 6, 1)))["looked_at"] == 0


def test_a_merchant_s_own_days_count_for_its_shipments_alone(
    moto_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STALLED_AFTER", "merchant-b/in_transit=1")
    reset_cached_builders()
    app = load_function("sweep")
    place("SHOPB1", at(date(2027, 3, 1), 9), merchant_id="merchant-b")  # Monday
    place("SHOPA1", at(date(2027, 3, 1), 9))  # merchant-a: the default 4
    run(app, at(date(2027, 3, 3), 0, 1))  # after Tuesday, merchant-b's one quiet day
    [alert] = queued(moto_stack)
    assert (alert.merchant_id, alert.type) == ("merchant-b", "shipment.stalled")
    assert alert.alert is not None and alert.alert.business_days == 1


def test_an_alert_waits_for_its_latest_event_s_history_and_is_then_told(
    moto_stack: dict[str, str], sweep_app: ModuleType
) -> None:
    _PENDING_HISTORY.clear()
    place("RACE1", at(date(2027, 3, 1), 9), history=False)  # due Saturday 6 at 00:00
    result = run(sweep_app, at(date(2027, 3, 6), 0, 1))
    assert (result["told"], result["refiled"]) == ({"stalled": 0, "late": 0}, 1)
    assert queued(moto_stack) == []
    [(book, placed)] = _PENDING_HISTORY
    book.record([placed])  # ingest gets there
    assert run(sweep_app, at(date(2027, 3, 6), 0, 3))["looked_at"] == 0  # not yet looked again
    assert run(sweep_app, at(date(2027, 3, 6), 0, 7))["told"] == {"stalled": 1, "late": 0}
    [alert] = queued(moto_stack)
    assert alert.tracking_code == "RACE1"


def test_a_latest_event_recorded_before_history_was_keyed_by_event_id_is_told(
    moto_stack: dict[str, str], sweep_app: ModuleType
) -> None:
    # A stack upgraded with shipments whose history items are keyed by sequence.
    _PENDING_HISTORY.clear()
    place("OLDKEY1", at(date(2027, 3, 1), 9), history=False)  # due Saturday 6 at 00:00
    [(_, placed)] = _PENDING_HISTORY
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(moto_stack["SHIPMENTS_TABLE"])
    table.put_item(
        Item={
            "merchant_tracking": f"{placed.merchant_id}#OLDKEY1",
            "sk": f"event#{placed.carrier}#{placed.sequence:012d}",
            "event": placed.model_dump_json(),
        }
    )
    assert run(sweep_app, at(date(2027, 3, 6), 0, 1))["told"] == {"stalled": 1, "late": 0}
    [alert] = queued(moto_stack)
    assert alert.tracking_code == "OLDKEY1"
