"""The chaos run's pure parts: capacity units, drain, settled pairs, cost, worker choice."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chaos import cost
from chaos.capacity import capacity_of, item_size, number_size
from chaos.cost import (
    PRICES,
    RETENTION_DAYS,
    Usage,
    alternatives,
    bill,
    ingest_calls_floor,
    total,
)
from chaos.drain import (
    Depth,
    LoggedAttempt,
    held_pairs,
    scheduled_pairs,
    settled_pairs,
    wait_for_drain,
    wait_for_settled,
)
from chaos.fleet import Fleet, Member, taken_pairs
from chaos.latency import percentile
from chaos.ledger import Pair
from chaos.proxy import count_call
from chaos.receivers import Request
from chaos.scenario import (
    EVERYTHING,
    Chaos,
    Role,
    SubscriptionPlan,
    plan_events,
    plan_subscriptions,
    tracking_code,
)
from chaos.workers import busy_among, choose_victim, warm_only, worker_pids
from parcelhooks.ingest.tracking_codes import check_tracking_code

T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)
EMPTY = {"EventsQueue": Depth(0, 0, 0), "RetryQueue": Depth(0, 0, 0)}
BUSY = {"EventsQueue": Depth(0, 3, 0), "RetryQueue": Depth(0, 0, 1)}


def line(event: str, attempt: int, outcome: str, next_in_s: float | None = 1.0) -> LoggedAttempt:
    at = T0 + timedelta(seconds=attempt)
    nxt = None if next_in_s is None else at + timedelta(seconds=next_in_s)
    return LoggedAttempt(event, "sub_a", attempt, at, outcome, nxt)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


# Capacity units, by AWS's item-size rules


def test_an_item_is_its_names_and_values() -> None:
    item = {"id": {"S": "abc"}, "n": {"N": "12345"}, "ok": {"BOOL": True}}
    assert item_size(item) == (2 + 3) + (1 + number_size("12345")) + (2 + 1)


def test_a_map_costs_three_bytes_and_one_per_element() -> None:
    item = {"m": {"M": {"a": {"S": "xy"}}}}
    assert item_size(item) == 1 + 3 + (1 + 2 + 1)


def test_a_put_of_a_1500_byte_item_takes_two_write_units() -> None:
    request = {"TableName": "t", "Item": {"k": {"S": "x" * 1499}}}
    units = capacity_of("DynamoDB.PutItem", request, {}, ok=True)
    assert (units.write, units.items_written) == (2, 1)


def test_a_refused_conditional_write_still_takes_a_write_unit() -> None:
    assert capacity_of("DynamoDB.UpdateItem", {}, {}, ok=False).write == 1


def test_an_eventually_consistent_read_takes_half_a_unit_per_4_kb() -> None:
    response = {"Item": {"k": {"S": "x" * 5000}}}
    assert capacity_of("DynamoDB.GetItem", {}, response, ok=True).read == 1.0  # 2 units / 2


def test_a_query_is_rounded_up_once_over_all_its_items() -> None:
    items = [{"k": {"S": "x" * 999}}] * 3
    assert capacity_of("DynamoDB.Query", {}, {"Items": items}, ok=True).read == 0.5


def test_a_batch_write_counts_each_put_and_leaves_out_unprocessed_items() -> None:
    puts = [{"PutRequest": {"Item": {"k": {"S": str(i)}}}} for i in range(4)]
    request = {"RequestItems": {"t": puts}}
    response = {"UnprocessedItems": {"t": puts[:1]}}
    units = capacity_of("DynamoDB.BatchWriteItem", request, response, ok=True)
    assert (units.write, units.items_written) == (3, 4)


def test_only_items_holding_a_sparse_index_key_write_an_index_entry() -> None:
    lines = [
        {"sk": {"S": "2026-12-05T10:00:00.000000Z#dlv_x#...#001"}},  # filed by its id
        {"sk": {"S": "t#dlv_y#001"}, "delivery_id": {"S": "dlv_y"}},  # a legacy id's line
        {"sk": {"S": "t#dlv_z#...#004"}, "late_at": {"S": "t"}},  # attempted late
    ]
    request = {"RequestItems": {"t": [{"PutRequest": {"Item": item}} for item in lines]}}
    units = capacity_of("DynamoDB.BatchWriteItem", request, {}, ok=True)
    assert (units.items_written, units.index_entries_written) == (3, 2)
    put = capacity_of("DynamoDB.PutItem", {"Item": lines[0]}, {}, ok=True)
    assert put.index_entries_written == 0


def test_sqs_calls_take_no_capacity_units_but_are_counted_by_queue() -> None:
    body = json.dumps({"QueueUrl": "http://h/000/RetryQ", "Entries": []}).encode()
    operation, resource, call = count_call("AmazonSQS.SendMessageBatch", body, 200, b"{}")
    assert (operation, resource, call.calls, call.write_units) == (
        "SQS.SendMessageBatch",
        "RetryQ",
        1,
        0,
    )


# Drain and what is still waiting


def test_the_queues_must_read_empty_twice_in_a_row() -> None:
    reads = iter([EMPTY, BUSY, EMPTY, EMPTY])
    clock = FakeClock()
    drain = wait_for_drain(lambda: next(reads), 60, clock=clock, sleep=clock.sleep)
    assert drain.drained and clock.now == 3


def test_a_queue_that_never_empties_times_out_with_its_last_depths() -> None:
    clock = FakeClock()
    drain = wait_for_drain(lambda: BUSY, 5, clock=clock, sleep=clock.sleep)
    assert not drain.drained and drain.last == BUSY


def test_settling_waits_until_no_pair_is_left() -> None:
    left = iter([3, 1, 0])
    clock = FakeClock()
    assert wait_for_settled(lambda: next(left), 60, clock=clock, sleep=clock.sleep).drained


def test_a_pair_whose_latest_attempt_failed_with_a_next_one_is_scheduled() -> None:
    lines = [line("e1", 1, "retry"), line("e2", 1, "retry"), line("e2", 2, "delivered", None)]
    assert scheduled_pairs(lines) == {Pair("e1", "sub_a")}


def test_a_pair_put_off_by_its_endpoint_s_limits_is_scheduled() -> None:
    lines = [line("e1", 1, "deferred"), line("e2", 1, "deferred"), line("e2", 2, "delivered", None)]
    assert scheduled_pairs(lines) == {Pair("e1", "sub_a")}


def test_exhausted_gone_and_held_pairs_are_settled_a_pending_retry_is_not() -> None:
    lines = [
        line("dead", 4, "retry", None),
        line("gone", 1, "disable", None),
        line("held", 1, "held", None),
        line("later", 1, "retry", 2.0),
    ]
    assert settled_pairs(lines) == {Pair(e, "sub_a") for e in ("dead", "gone", "held")}
    assert held_pairs(lines) == {Pair("held", "sub_a")}


# Cost arithmetic


def usage(events: int = 1000, deliveries: int = 3000) -> Usage:
    calls = {
        "FanoutFunction|DynamoDB.BatchWriteItem|s-DeliveriesTable-X": {
            "calls": 300,
            "write_units": 3000,
            "read_units": 0,
            "items_written": 3000,
            # Late or legacy lines: they hold a sparse index's key.
            "index_entries_written": 300,
        },
        "IngestFunction|DynamoDB.PutItem|s-ShipmentsTable-Y": {
            "calls": 1000,
            "write_units": 1000,
            "read_units": 0,
        },
        "IngestFunction|SQS.SendMessageBatch|s-EventsQueue-Z": {
            "calls": 100,
            "write_units": 0,
            "read_units": 0,
        },
    }
    functions = {
        "IngestFunction": {
            "invocations": 50,
            "duration_ms": 5000,
            "memory_mb": 512,
            "log_bytes": 0,
        },
        "FanoutFunction": {
            "invocations": 100,
            "duration_ms": 20000,
            "memory_mb": 1024,
            "log_bytes": 0,
        },
    }
    return Usage(events, deliveries, calls, functions)


def test_the_delivery_log_is_paid_per_delivery_and_a_unit_per_index_entry() -> None:
    lines = {line.what: line for line in bill(usage())}
    log = lines["DeliveriesTable (fanout)"]
    # A line of 1 KB or less: a write unit; one more for each of the 300 index entries.
    per_delivery = (3000 + 300) / 3000 * PRICES["dynamodb_write_per_million"]
    assert log.per_event_usd == 0 and log.per_delivery_usd == pytest.approx(per_delivery)


def test_storage_is_paid_for_the_retention_with_pitr_and_the_index_entries() -> None:
    calls = {
        "FanoutFunction|DynamoDB.BatchWriteItem|s-DeliveriesTable-X": {
            "calls": 1,
            "write_units": 3000,
            "read_units": 0,
            "items_written": 3000,
            "item_bytes_written": 3000 * 924,  # + 100 bytes of overhead: 1 KiB an item
            "index_entries_written": 3000,  # as if every line were late
        },
        # Updated in place: the endpoint's one item, not a new one per delivery.
        "FanoutFunction|DynamoDB.UpdateItem|s-EndpointHealthTable-X": {
            "calls": 3000,
            "write_units": 3000,
            "read_units": 0,
            "items_written": 3000,
            "item_bytes_written": 3000 * 200,
        },
    }
    lines = {line.what: line for line in bill(Usage(1000, 3000, calls, {}))}
    log = lines["DeliveriesTable storage + PITR, 30 days (fanout)"]
    gb_per_delivery = (1024 + 150 + 100) / 1024**3  # the line, and its index's keys
    per_month = PRICES["dynamodb_storage_gb_month"] + PRICES["dynamodb_pitr_gb_month"]
    expected = gb_per_delivery * per_month * 30 / 30.4 * 1_000_000
    assert log.per_delivery_usd == pytest.approx(expected)
    assert not any("EndpointHealthTable storage" in what for what in lines)


def test_ingest_s_floor_in_calls_is_two_writes_and_its_queue_sends_per_event() -> None:
    # 100 sends for 1,000 events; the writes in the usage do not move the floor.
    assert ingest_calls_floor(usage()) == pytest.approx(2.1)
    assert ingest_calls_floor(usage(events=500)) == pytest.approx(2.2)


def test_api_gateway_is_paid_per_request_not_per_event() -> None:
    api = bill(usage())[0]
    assert api.per_event_usd == pytest.approx(50 / 1000 * PRICES["rest_api_per_million"])


def test_fanout_gigabyte_seconds_grow_with_the_subscriptions() -> None:
    lines = bill(usage())
    fanout = next(line for line in lines if line.what.startswith("FanoutFunction"))
    gb_s = 20 * 1.0 / 3000 * 1_000_000
    expected = (
        gb_s * PRICES["lambda_arm64_gb_s"] + 100 / 3000 * PRICES["lambda_requests_per_million"]
    )
    assert fanout.per_delivery_usd == pytest.approx(expected)
    assert total(lines, 3) > total(lines, 1)


def test_sns_and_eventbridge_are_priced_per_event_and_per_endpoint() -> None:
    assert alternatives(3)["SNS topic, HTTP subscriptions"] == pytest.approx(0.50 + 3 * 0.60)
    assert alternatives(1)["EventBridge bus, API destinations"] == pytest.approx(1.00 + 0.20)


# Latency, scenario and worker choice


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50,
        99,
        100,
    )


def test_a_chaos_plan_has_one_of_each_misbehaviour_on_subscriptions_taking_everything() -> None:
    plans = plan_subscriptions(10, random.Random(1), chaos=Chaos())
    roles = [p.role for p in plans]
    assert len(plans) == 30 and roles.count(Role.GONE) == roles.count(Role.DOWN) == 1
    assert all(p.event_types == EVERYTHING for p in plans if p.role is not Role.FLAKY)


def test_a_plain_run_is_only_flaky() -> None:
    plans = plan_subscriptions(4, random.Random(1), chaos=Chaos(misbehaving=False))
    assert {p.role for p in plans} == {Role.FLAKY}


def test_planned_events_carry_valid_tracking_codes_and_unique_carrier_ids() -> None:
    events = plan_events(50, ["m0", "m1"], random.Random(3), run_tag="t")
    assert len({e.body["carrier_event_id"] for e in events}) == 50
    assert all(check_tracking_code(e.body["tracking_code"]) for e in events)
    assert check_tracking_code(tracking_code(12345678)) == tracking_code(12345678)


def test_only_warm_busy_workers_are_chosen_first() -> None:
    ages = {1: 30.0, 2: 1.0, 3: 20.0}
    warm = warm_only([1, 2, 3], ages)
    busy = busy_among({1: 10, 3: 5}, {1: 10, 3: 9})
    assert warm == [1, 3] and busy == [3]
    assert choose_victim(warm, busy, random.Random(0)) == 3
    assert choose_victim([], [], random.Random(0)) is None


def test_workers_are_found_by_their_function_name(tmp_path: Path) -> None:
    for pid, name in ((11, "fanout-x"), (12, "ingest-y"), (13, "fanout-x-other")):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "environ").write_bytes(
            b"A=1\0AWS_LAMBDA_FUNCTION_NAME=" + name.encode() + b"\0"
        )
    (tmp_path / "self").mkdir()
    assert worker_pids("fanout-x", proc=tmp_path) == [11]


class _Observed:
    """A receiver that already saw these (webhook-id, status) requests."""

    def __init__(self, seen: list[tuple[str, int]]) -> None:
        self._seen = seen

    def observations(self) -> list[Request]:
        return [
            Request(i, "POST", "/hook", {"webhook-id": wid}, b"{}", 0.0, 0.0, status)
            for i, (wid, status) in enumerate(self._seen)
        ]


def test_a_pair_is_taken_only_once_its_receiver_answered_2xx() -> None:
    member = Member(
        plan=SubscriptionPlan(0, 0, Role.FLAKY, EVERYTHING),
        subscription_id="sub_a",
        secret="whsec_x",
        receiver=_Observed([("evt_failed", 500), ("evt_ok", 500), ("evt_ok", 204)]),  # type: ignore[arg-type]
        merchant=None,  # type: ignore[arg-type]
    )
    fleet = Fleet(merchant_ids=["m0"], members=[member])
    assert taken_pairs(fleet) == {("evt_ok", "sub_a")}


def test_storage_of_a_table_without_pitr_is_paid_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every table whose items grow with events has PITR in the template: one taken out here.
    monkeypatch.setattr(cost, "PITR_TABLES", cost.PITR_TABLES - {"ShipmentsTable"})
    calls = {
        "IngestFunction|DynamoDB.PutItem|s-ShipmentsTable-X": {
            "calls": 1000,
            "write_units": 1000,
            "read_units": 0,
            "items_written": 1000,
            "item_bytes_written": 1000 * 924,
        },
    }
    lines = {line.what: line for line in bill(Usage(1000, 1000, calls, {}))}
    days = RETENTION_DAYS["ShipmentsTable"]  # the template's ShipmentQuietDays
    history = lines[f"ShipmentsTable storage, {days} days (ingest)"]
    expected = 1024 / 1024**3 * PRICES["dynamodb_storage_gb_month"] * days / 30.4 * 1_000_000
    assert history.per_event_usd == pytest.approx(expected)


@pytest.mark.parametrize(("consistent", "units"), [(True, 3.0), (False, 1.5)])
def test_a_batch_get_costs_each_key_it_read_at_its_kind_of_read(
    consistent: bool, units: float
) -> None:
    item = {"pk": {"S": "a"}}
    request = {
        "RequestItems": {
            "T": {"Keys": [item, {"pk": {"S": "b"}}, {"pk": {"S": "c"}}, {"pk": {"S": "d"}}]}
            | ({"ConsistentRead": True} if consistent else {})
        }
    }
    # One found, two not found (each the minimum), one left unprocessed (not read).
    response = {
        "Responses": {"T": [item]},
        "UnprocessedKeys": {"T": {"Keys": [{"pk": {"S": "d"}}]}},
    }
    assert capacity_of("DynamoDB.BatchGetItem", request, response, ok=True).read == units
