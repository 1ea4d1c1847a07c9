"""The DynamoDB and SQS adapters against moto."""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from parcelhooks.aws.delivery_log_table import (
    BY_DELIVERY_INDEX,
    DONE_LOOKUP_LINES,
    DeliveryLogTable,
)
from parcelhooks.aws.pages import CursorSigner
from parcelhooks.aws.queues import EventsQueue
from parcelhooks.aws.secret_box import KmsOpener, KmsSealer
from parcelhooks.aws.shipments_table import ShipmentsTable
from parcelhooks.aws.subscriptions_table import SubscriptionsTable
from parcelhooks.core.deliveries import AttemptRecord, LogFilter, delivery_id_of
from parcelhooks.core.errors import InvalidCursorError, SecretsUnreadableError
from parcelhooks.core.ids import event_id_of, legacy_delivery_id
from parcelhooks.core.models import ShipmentEvent, StoredHeader
from testkit.factories import NOW, attempt_record, shipment_event, subscription
from tests.component.stack import create_template_table

CURSORS = CursorSigner(lambda: b"k" * 32)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _queue() -> tuple[Any, str]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    return sqs, sqs.create_queue(QueueName="events")["QueueUrl"]


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _table(name: str, *keys: str) -> Any:
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    schema = [{"AttributeName": keys[0], "KeyType": "HASH"}]
    if len(keys) > 1:
        schema.append({"AttributeName": keys[1], "KeyType": "RANGE"})
    return dynamodb.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.mark.usefixtures("aws")
def test_25_events_go_out_in_batches_of_ten_and_all_arrive() -> None:
    sqs, url = _queue()
    calls: list[int] = []
    original = sqs.send_message_batch

    def counting(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Entries"]))
        return original(**kwargs)

    sqs.send_message_batch = counting
    events = [shipment_event(event_id=f"evt_{i}") for i in range(25)]
    assert EventsQueue(sqs, url).publish(events) == []
    assert calls == [10, 10, 5]
    assert sorted(b["event_id"] for b in _drain(sqs, url)) == sorted(e.event_id for e in events)


@pytest.mark.usefixtures("aws")
def test_subscriptions_page_in_order_and_stay_with_their_merchant() -> None:
    table = SubscriptionsTable(_table("subs", "merchant_id", "subscription_id"), CURSORS)
    for index in range(5):
        table.put(subscription(id=f"sub_{index}", merchant_id="merchant-a"))
    table.put(subscription(id="sub_other", merchant_id="merchant-b"))
    first, cursor = table.page("merchant-a", 3, None)
    second, end = table.page("merchant-a", 3, cursor)
    assert [s.id for s in first + second] == [f"sub_{i}" for i in range(5)]
    assert end is None
    with pytest.raises(InvalidCursorError):
        table.page("merchant-b", 3, cursor)
    assert table.get("merchant-b", "sub_0") is None
    assert table.delete("merchant-b", "sub_0") is False
    assert table.delete("merchant-a", "sub_0") is True


# A delivery of the factories' event (received at NOW) to sub_1.
DLV = delivery_id_of(shipment_event(), "sub_1")


def _attempt(n: int, at_minute: int, outcome: str = "retry") -> AttemptRecord:
    retrying = outcome == "retry"
    return attempt_record(
        delivery_id=DLV,
        attempt=n,
        attempted_at=NOW + timedelta(minutes=at_minute),
        outcome=outcome,
        latency_ms=12.5,
        response_excerpt="oops",
        next_attempt_at=NOW + timedelta(minutes=at_minute + 5) if retrying else None,
    )


@pytest.mark.usefixtures("aws")
def test_the_delivery_log_keeps_every_field_newest_first_with_a_30_day_ttl() -> None:
    log = DeliveryLogTable(_log_table(), timedelta(days=30), CURSORS)
    log.record([_attempt(1, 0), _attempt(2, 5)])
    log.record([_attempt(3, 10, outcome="delivered")])
    newest, cursor = log.page("sub_1", 10, None)
    assert cursor is None
    assert [a.attempt for a in newest] == [3, 2, 1]
    first = newest[-1]
    assert first == _attempt(1, 0)
    assert newest[0].next_attempt_at is None
    raw = log._table.scan()["Items"]
    assert {int(i["expires_at"]) for i in raw if i["attempt"] == 1} == {
        int((NOW + timedelta(days=30)).timestamp())
    }


@pytest.mark.usefixtures("aws")
def test_the_delivery_log_pages_filters_and_finds_by_delivery() -> None:
    table = _log_table()
    log = DeliveryLogTable(table, timedelta(days=30), CURSORS)
    event = shipment_event()
    log.record([_attempt(1, 0).model_copy(update={"event": event}), _attempt(2, 5)])
    log.record([_attempt(3, 10, outcome="delivered")])
    first, cursor = log.page("sub_1", 2, None)
    second, end = log.page("sub_1", 2, cursor)
    assert [a.attempt for a in first + second] == [3, 2, 1] and end is None
    failures, _ = log.page("sub_1", 10, None, LogFilter(outcome="failure"))
    assert [a.attempt for a in failures] == [2, 1]
    successes, _ = log.page("sub_1", 10, None, LogFilter(outcome="success"))
    assert [a.attempt for a in successes] == [3]
    later, more = log.since("sub_1", NOW + timedelta(minutes=4), 10)
    assert [a.attempt for a in later] == [2, 3] and not more
    everything, _ = log.since("sub_1", NOW, 10)
    assert everything[0].event == event
    first_two, more = log.since("sub_1", NOW, 2)
    assert [a.attempt for a in first_two] == [1, 2] and more
    with pytest.raises(InvalidCursorError):
        log.page("sub_other", 2, cursor)


def _line_of(event: ShipmentEvent, n: int, at_minute: int, outcome: str = "retry") -> AttemptRecord:
    """Attempt `n` of the event's delivery to sub_1, made `at_minute` after NOW."""
    return _attempt(n, at_minute, outcome).model_copy(
        update={
            "delivery_id": delivery_id_of(event, "sub_1"),
            "event_id": event.event_id,
            "event_type": event.type,
            "event": event,
        }
    )


@pytest.mark.usefixtures("aws")
def test_the_delivery_log_filters_by_type_tracking_code_and_event_time_on_dynamodb() -> None:
    log = DeliveryLogTable(_log_table(), timedelta(days=30), CURSORS)
    at = NOW.replace(microsecond=0)  # the events' times: whole seconds, as the filters read
    delivered = shipment_event(event_id="evt_d", tracking_code="QB123456785BR", now=at)
    moving = shipment_event(
        event_id="evt_m", tracking_code="JT0001", status="in_transit", now=at + timedelta(minutes=5)
    )
    unkept = shipment_event(event_id="evt_x", now=at + timedelta(minutes=15))
    log.record(
        [
            _line_of(delivered, 1, 0),
            _line_of(moving, 1, 5),
            _line_of(delivered, 2, 10, outcome="delivered"),
            # No event kept: no tracking code either.
            _line_of(unkept, 1, 15).model_copy(update={"event": None}),
        ]
    )

    def lines(only: LogFilter) -> list[tuple[str, int]]:
        records, _ = log.page("sub_1", 10, None, only)
        return [(a.event_id, a.attempt) for a in records]

    # Newest event first, a delivery's lines together, newest attempt first.
    assert lines(LogFilter()) == [("evt_x", 1), ("evt_m", 1), ("evt_d", 2), ("evt_d", 1)]
    assert lines(LogFilter(event_type="shipment.in_transit")) == [("evt_m", 1)]
    assert lines(LogFilter(tracking_code="QB123456785BR")) == [("evt_d", 2), ("evt_d", 1)]
    # since and until read the event's time (when parcelhooks took it in), both included.
    assert lines(LogFilter(since=at + timedelta(minutes=5))) == [("evt_x", 1), ("evt_m", 1)]
    until = lines(LogFilter(until=at + timedelta(minutes=5)))
    assert until == [("evt_m", 1), ("evt_d", 2), ("evt_d", 1)]
    between = LogFilter(since=at + timedelta(minutes=5), until=at + timedelta(minutes=10))
    assert lines(between) == [("evt_m", 1)]
    combined = LogFilter(
        outcome="failure", tracking_code="QB123456785BR", since=at, until=at + timedelta(1)
    )
    assert lines(combined) == [("evt_d", 1)]


@pytest.mark.usefixtures("aws")
def test_a_line_is_one_item_found_by_its_delivery_id_without_an_index() -> None:
    table = _log_table()
    log = DeliveryLogTable(table, timedelta(days=30), CURSORS)
    log.record([_attempt(n, n) for n in (1, 2, 3)])
    other = shipment_event(event_id="evt_other")
    log.record([_line_of(other, 1, 4)])
    # No line holds an index's key: each is one write, and nothing else is written.
    assert all({"delivery_id", "late_at"}.isdisjoint(i) for i in table.scan()["Items"])
    every, more = log.attempts_of(DLV, ["sub_0", "sub_1"], limit=10)
    assert [(a.delivery_id, a.attempt) for a in every] == [(DLV, 3), (DLV, 2), (DLV, 1)]
    assert not more
    newest, more = log.attempts_of(DLV, ["sub_1"], limit=2)
    assert [a.attempt for a in newest] == [3, 2] and more
    latest = log.latest(DLV, ["sub_1"])
    assert latest is not None and latest.attempt == 3
    # Only the merchant's own subscriptions are looked in.
    assert log.attempts_of(DLV, ["sub_2"], limit=10) == ([], False)
    unknown = delivery_id_of(shipment_event(event_id="evt_none"), "sub_1")
    assert log.attempts_of(unknown, ["sub_1"], limit=10) == ([], False)


@pytest.mark.usefixtures("aws")
def test_recover_s_read_finds_every_line_attempted_since_however_old_its_event() -> None:
    table = _log_table()
    log = DeliveryLogTable(table, timedelta(days=30), CURSORS)
    old = shipment_event(event_id="evt_old", now=NOW - timedelta(days=3))
    recent = shipment_event(event_id="evt_recent", now=NOW - timedelta(minutes=10))
    log.record(
        [
            _line_of(old, 1, -3 * 24 * 60),
            _line_of(old, 2, 1),  # a merchant's retry three days on: late
            _line_of(recent, 1, -10),
            _line_of(recent, 2, 2),  # the schedule's retry, 12 minutes on: not late
            *(_line_of(shipment_event(event_id=f"evt_{i}", now=NOW), 1, 3) for i in range(3)),
        ]
    )
    late = [i for i in table.scan()["Items"] if "late_at" in i]
    assert [(i["event_id"], int(i["attempt"])) for i in late] == [("evt_old", 2)]
    lines, more = log.since("sub_1", NOW, limit=10)
    assert [(a.event_id, a.attempt) for a in lines[:2]] == [("evt_old", 2), ("evt_recent", 2)]
    assert sorted(a.event_id for a in lines[2:]) == ["evt_0", "evt_1", "evt_2"] and not more
    assert [a.attempted_at for a in lines] == sorted(a.attempted_at for a in lines)
    assert lines[0].event == old


@pytest.mark.usefixtures("aws")
def test_a_legacy_delivery_id_s_lines_are_filed_and_found_as_before() -> None:
    # Lines written before delivery ids held their event's time: by attempt time, in the
    # by-delivery index; retry, the detail and the fan-out still find them.
    table = _log_table()
    log = DeliveryLogTable(table, timedelta(days=30), CURSORS)
    event = shipment_event()
    legacy = legacy_delivery_id(event.event_id, "sub_1")
    log.record([_attempt(n, n).model_copy(update={"delivery_id": legacy}) for n in (1, 2, 3)])
    log.record([_attempt(1, 4).model_copy(update={"delivery_id": "dlv_other"})])
    assert all(i["delivery_id"] == i["sk"].split("#")[1] for i in table.scan()["Items"])
    every, more = log.attempts_of(legacy, [], limit=10)
    assert [a.attempt for a in every] == [3, 2, 1] and not more
    newest, more = log.attempts_of(legacy, [], limit=2)
    assert [a.attempt for a in newest] == [3, 2] and more
    latest = log.latest(legacy, [])
    assert latest is not None and latest.attempt == 3
    assert log.attempts_of("dlv_none", [], limit=10) == ([], False)


def _log_table() -> Any:
    """The deliveries table with its indexes, as template.yaml makes it."""
    return create_template_table("DeliveriesTable", "deliveries")


@pytest.mark.usefixtures("aws")
def test_the_log_tells_which_deliveries_ended_from_their_lines() -> None:
    log = DeliveryLogTable(_log_table(), timedelta(days=30))
    event = shipment_event()

    def line(subscription_id: str, n: int, outcome: str, *, legacy: bool = False) -> AttemptRecord:
        dlv = (
            legacy_delivery_id(event.event_id, subscription_id)
            if legacy
            else delivery_id_of(event, subscription_id)
        )
        return _attempt(n, n, outcome).model_copy(
            update={"delivery_id": dlv, "subscription_id": subscription_id}
        )

    log.record(
        [
            line("sub_ok", 1, "retry"),
            line("sub_ok", 2, "delivered"),
            line("sub_ok", 3, "deferred"),  # a redelivery's line after the success
            line("sub_stale", 1, "skipped_stale"),
            line("sub_failing", 1, "retry"),
            line("sub_held", 1, "held"),
            line("sub_long", 1, "delivered"),
            # More lines after the success than one page of the legacy index holds.
            *(line("sub_long", n, "deferred") for n in range(2, 3 + 2 * DONE_LOOKUP_LINES)),
            # Written before delivery ids held their event's time.
            line("sub_legacy", 1, "delivered", legacy=True),
            line("sub_legacy_failing", 1, "retry", legacy=True),
            *(line("sub_legacy_long", n, "deferred", legacy=True) for n in range(2, 45)),
            line("sub_legacy_long", 1, "delivered", legacy=True),
        ]
    )
    subscriptions = ["sub_ok", "sub_stale", "sub_failing", "sub_held", "sub_long"]
    subscriptions += ["sub_legacy", "sub_legacy_failing", "sub_legacy_long"]
    subscriptions += [f"sub_{i}" for i in range(20)]
    ended = {"sub_ok", "sub_stale", "sub_long", "sub_legacy", "sub_legacy_long"}
    assert log.delivered(event, subscriptions) == ended
    # Another event's deliveries to the same subscriptions are their own.
    assert log.delivered(shipment_event(event_id="evt_2"), subscriptions) == set()


@pytest.mark.usefixtures("aws")
def test_a_log_deployed_without_the_legacy_index_never_asks_it() -> None:
    # DeliveryLogIndex=none: no by-delivery-keys index (moto refuses a query of one), and
    # a delivery with no line yet, or an id of before, is answered from the table alone.
    table = _log_table()
    table.update(GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": BY_DELIVERY_INDEX}}])
    log = DeliveryLogTable(table, timedelta(days=30), legacy_ids=False)
    event = shipment_event()
    log.record([_line_of(event, 1, 1, "delivered")])
    assert log.delivered(event, ["sub_1", "sub_2"]) == {"sub_1"}
    legacy = legacy_delivery_id(event.event_id, "sub_2")
    assert log.attempts_of(legacy, ["sub_2"], limit=10) == ([], False)
    assert log.latest(legacy, ["sub_2"]) is None
    with pytest.raises(ClientError):  # a log that may have legacy lines asks the index
        DeliveryLogTable(table, timedelta(days=30)).delivered(event, ["sub_2"])


@pytest.mark.usefixtures("aws")
def test_disabling_records_why_and_when() -> None:
    table = SubscriptionsTable(_table("subs", "merchant_id", "subscription_id"))
    table.put(subscription(id="sub_1"))
    table.disable("merchant-a", "sub_1", "endpoint answered 410 Gone", NOW)
    stored = table.get("merchant-a", "sub_1")
    assert stored is not None and not stored.enabled
    assert (stored.disabled_reason, stored.disabled_at) == ("endpoint answered 410 Gone", NOW)
    table.disable("merchant-a", "sub_gone", "x", NOW)  # a deleted one is no error


@pytest.mark.usefixtures("aws")
def test_replace_refuses_to_overwrite_a_change_made_meanwhile() -> None:
    table = SubscriptionsTable(_table("subs", "merchant_id", "subscription_id"))
    original = subscription(id="sub_1")
    table.put(original)
    read = table.get("merchant-a", "sub_1")
    assert read is not None
    table.disable("merchant-a", "sub_1", "endpoint answered 410 Gone", NOW)  # fan-out, meanwhile
    edited = read.model_copy(update={"description": "edited", "updated_at": NOW})
    assert table.replace(edited, read) is False
    stored = table.get("merchant-a", "sub_1")
    assert stored is not None and not stored.enabled
    assert table.replace(stored.model_copy(update={"description": "x"}), stored) is True
    table.delete("merchant-a", "sub_1")
    assert table.replace(stored, stored) is False  # deleted: not brought back
    assert table.get("merchant-a", "sub_1") is None


@pytest.mark.usefixtures("aws")
def test_a_line_stored_with_an_impossible_status_reads_back_without_one() -> None:
    table = _log_table()
    log = DeliveryLogTable(table, timedelta(days=30), CURSORS)
    log.record([_attempt(1, 0)])
    [item] = table.scan()["Items"]
    table.put_item(Item={**item, "status_code": 999})  # as lines written before the bound
    [line], _ = log.page("sub_1", 10, None)
    assert line.status_code is None and line.attempt == 1


@pytest.mark.usefixtures("aws")
def test_a_line_keeps_its_event_packed_and_reads_lines_written_before_packing() -> None:
    table = _log_table()
    log = DeliveryLogTable(table, timedelta(days=30), CURSORS)
    event = shipment_event()
    packed = _attempt(1, 0).model_copy(update={"event": event})
    log.record([packed])
    [item] = table.scan()["Items"]
    text = event.model_dump_json()
    stored = item["event"].value  # a binary attribute, smaller than the JSON
    assert isinstance(stored, bytes) and len(stored) < len(text)
    # A line written before packing holds the JSON text: it reads back the same.
    old = {**item, "sk": item["sk"].replace("#001", "#002"), "attempt": 2, "event": text}
    table.put_item(Item=old)
    lines, _ = log.page("sub_1", 10, None)
    assert [line.event for line in lines] == [event, event]


@pytest.mark.usefixtures("aws")
def test_the_fan_out_lists_a_merchant_s_subscriptions_with_a_consistent_read() -> None:
    # A retry whose subscription is not listed is dropped as deleted: a subscription made a
    # moment ago must be in the list, which an eventually consistent read does not promise.
    raw = _table("subs", "merchant_id", "subscription_id")
    table = SubscriptionsTable(raw)
    table.put(subscription(id="sub_1"))
    queries: list[dict[str, Any]] = []
    raw.meta.client.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: queries.append(dict(params))
    )
    assert [s.id for s in table.list_for_merchant("merchant-a")] == ["sub_1"]
    assert queries and all(q.get("ConsistentRead") is True for q in queries)


@pytest.mark.usefixtures("aws")
def test_sealed_values_open_and_a_key_that_will_not_open_them_says_so() -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key(Description="headers")["KeyMetadata"]["KeyId"]
    sealed = KmsSealer(kms, key_id).seal("merchant-a", "sub_1", "Bearer erp-token")
    sub = subscription(id="sub_1", headers=[StoredHeader(name="Authorization", sealed=sealed)])
    assert KmsOpener(kms).open(sub) == {sealed: "Bearer erp-token"}
    # Another subscription's item holding the same sealed value does not open it.
    copied = sub.model_copy(update={"id": "sub_2"})
    with pytest.raises(SecretsUnreadableError):
        KmsOpener(kms).open(copied)
    damaged = subscription(id="sub_1", headers=[StoredHeader(name="A", sealed="not base64!")])
    with pytest.raises(SecretsUnreadableError, match="damaged"):
        KmsOpener(kms).open(damaged)
    # (A disabled key: moto 5.2.5 still decrypts with it, so that case is not checked here.)


@pytest.mark.usefixtures("aws")
def test_a_line_of_a_recorded_event_points_to_its_history_and_is_read_with_it() -> None:
    shipments = ShipmentsTable(_table("shipments", "merchant_tracking", "sk"))
    recorded = shipment_event(received_at=NOW, sequence=1)
    recorded = recorded.model_copy(
        update={
            "event_id": event_id_of(
                recorded.carrier,
                recorded.merchant_id,
                recorded.tracking_code,
                recorded.carrier_event_id,
            )
        }
    )
    assert shipments.record(recorded, NOW + timedelta(days=90)) is None
    table = _log_table()
    month = timedelta(days=30)
    writer = DeliveryLogTable(table, month, history_kept=timedelta(days=90))
    reader = DeliveryLogTable(table, month, CURSORS, history=shipments)
    test_event = shipment_event(event_id="evt_01TESTEVENTULID")  # a test: not recorded
    dlv_1, dlv_2 = delivery_id_of(recorded, "sub_1"), delivery_id_of(test_event, "sub_1")
    writer.record(
        [
            attempt_record(
                delivery_id=dlv_1, event_id=recorded.event_id, event=recorded, outcome="retry"
            ),
            attempt_record(
                delivery_id=dlv_2, event_id=test_event.event_id, event=test_event, outcome="retry"
            ),
        ]
    )
    raw = {i["event_id"]: i for i in table.scan()["Items"]}
    pointing = raw[recorded.event_id]
    assert "event" not in pointing and pointing["carrier"] == recorded.carrier
    assert "event" in raw[test_event.event_id]  # kept: no history item has it
    latest = reader.latest(dlv_1, ["sub_1"])
    assert latest is not None and latest.event == recorded
    lines, _ = reader.since("sub_1", NOW - timedelta(minutes=1), limit=10)
    assert {line.delivery_id: line.event for line in lines} == {
        dlv_1: recorded,
        dlv_2: test_event,
    }
    # A history kept no longer than the line: the line keeps its own copy.
    short = DeliveryLogTable(
        create_template_table("DeliveriesTable", "short"), month, history_kept=month
    )
    short.record([attempt_record(event_id=recorded.event_id, event=recorded)])
    assert "event" in short._table.scan()["Items"][0]
