"""The cost model: AWS usage measured in the run, priced per million events.

Usage comes from the run: every AWS call the functions made (the counting proxy), each
invocation's duration and memory (MiniStack's REPORT lines) and the bytes each function
logged. What the Lambda and SQS services do on their own (the event source's ReceiveMessage
and DeleteMessageBatch, API Gateway's access log) is not a call of our code: it is modelled
from the invocations counted, and labelled so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chaos.deployed import Invocations
from chaos.proxy import CallCount, Counts
from devstack.template import parameter_default, resources

MILLION = 1_000_000
GB = 1024**3
# us-east-1 list prices, USD (docs/cost.md cites the pages and says when they were taken).
PRICES: dict[str, float] = {
    "rest_api_per_million": 3.50,
    "http_api_per_million": 1.00,
    "lambda_requests_per_million": 0.20,
    "lambda_arm64_gb_s": 0.0000133334,
    "sqs_per_million": 0.40,
    "dynamodb_write_per_million": 0.625,
    "dynamodb_read_per_million": 0.125,
    "logs_ingest_per_gb": 0.50,
    "dynamodb_storage_gb_month": 0.25,
    "dynamodb_pitr_gb_month": 0.20,
    "sns_publish_per_million": 0.50,
    "sns_http_per_million": 0.60,
    "eventbridge_events_per_million": 1.00,
    "eventbridge_api_destination_per_million": 0.20,
}
# The access-log line API Gateway writes per request (the template's format, filled in).
ACCESS_LOG_BYTES = 260
# Lambda's event source: one ReceiveMessage and one DeleteMessageBatch per batch it hands over.
ESM_REQUESTS_PER_INVOCATION = 2
# Tables with a global secondary index, and what it projects: "all" copies every item (its
# write units and its storage again), "keys" only each item's keys (a write unit per entry,
# and about KEYS_INDEX_ITEM_BYTES stored). The delivery log's two indexes hold keys and are
# sparse: an entry only for a line that holds its key (capacity.INDEX_KEYS).
INDEXES = {"DeliveriesTable": "keys"}
KEYS_INDEX_ITEM_BYTES = 150
# How long each table keeps the items one event adds (the template's defaults): the delivery
# log `DeliveryLogRetentionDays`, the shipment history (each item also the event's dedupe
# claim) `ShipmentQuietDays`. Items only updated in place (endpoint health, a shipment's state,
# subscriptions) grow with subscriptions and shipments, not events: not counted.
RETENTION_DAYS = {
    "DeliveriesTable": int(parameter_default("DeliveryLogRetentionDays")),
    "ShipmentsTable": int(parameter_default("ShipmentQuietDays")),
}
# The tables with point-in-time recovery on, as the template says.
PITR_TABLES = frozenset(
    name
    for name, table in resources("AWS::DynamoDB::Table").items()
    if (table.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
)
# DynamoDB bills storage per GB-month, with 100 bytes of overhead for each item.
ITEM_OVERHEAD_BYTES = 100
DAYS_PER_MONTH = 30.4
NEW_ITEM_OPERATIONS = ("PutItem", "BatchWriteItem", "TransactWriteItems")


@dataclass(frozen=True)
class Usage:
    """What one stretch of the run used, and how many events and deliveries it carried."""

    events: int
    deliveries: int
    calls: dict[str, dict[str, float]] = field(default_factory=dict)
    functions: dict[str, dict[str, float]] = field(default_factory=dict)


def usage_of(
    before: Counts, after: Counts, runs: Mapping[str, Invocations], events: int, deliveries: int
) -> Usage:
    """The calls made between two proxy snapshots, and the functions' invocations."""
    calls: dict[str, dict[str, float]] = {}
    for key, count in after.by_key.items():
        if key.split("|")[0] not in runs:
            continue  # setup calls (subscriptions made by the admin function) are no event's
        earlier = before.by_key.get(key, CallCount())
        diff = {name: getattr(count, name) - getattr(earlier, name) for name in vars(count)}
        if diff["calls"]:
            calls[key] = diff
    functions = {
        name: {
            "invocations": len(run.durations_ms),
            "duration_ms": sum(run.durations_ms),
            "memory_mb": run.memory_mb,
            "log_bytes": run.log_bytes,
        }
        for name, run in runs.items()
    }
    return Usage(events, deliveries, calls, functions)


@dataclass(frozen=True)
class Line:
    """One term of the bill per million events: per event, and per delivery on top."""

    service: str
    what: str
    per_event_usd: float
    per_delivery_usd: float

    def for_subscriptions(self, subscriptions: int) -> float:
        return self.per_event_usd + subscriptions * self.per_delivery_usd


def bill(usage: Usage, prices: Mapping[str, float] = PRICES) -> list[Line]:
    """Each priced term, in USD per million events."""
    per_event = MILLION / max(1, usage.events)
    per_delivery = MILLION / max(1, usage.deliveries)
    lines = [_api_line(usage, prices, per_event)]
    lines += _lambda_lines(usage, prices, per_event, per_delivery)
    lines += _sqs_lines(usage, prices, per_event, per_delivery)
    lines += _dynamodb_lines(usage, prices, per_event, per_delivery)
    lines += _storage_lines(usage, prices, per_event, per_delivery)
    lines.append(_logs_line(usage, prices, per_event, per_delivery))
    return lines


def _api_line(usage: Usage, prices: Mapping[str, float], per_event: float) -> Line:
    requests = usage.functions.get("IngestFunction", {}).get("invocations", 0)
    return Line(
        "API Gateway (REST)",
        "carrier requests",
        requests * per_event * prices["rest_api_per_million"] / MILLION,
        0.0,
    )


def _lambda_lines(
    usage: Usage, prices: Mapping[str, float], per_event: float, per_delivery: float
) -> list[Line]:
    lines = []
    for name, run in sorted(usage.functions.items()):
        gb_s = run["duration_ms"] / 1000 * run["memory_mb"] / 1024
        usd = gb_s * prices["lambda_arm64_gb_s"] + (
            run["invocations"] * prices["lambda_requests_per_million"] / MILLION
        )
        # The fan-out's time grows with its deliveries; the others' with the events.
        if name == "FanoutFunction":
            lines.append(
                Line("Lambda", f"{name} ({run['memory_mb']:.0f} MB)", 0.0, usd * per_delivery)
            )
        else:
            lines.append(
                Line("Lambda", f"{name} ({run['memory_mb']:.0f} MB)", usd * per_event, 0.0)
            )
    return lines


def _sqs_lines(
    usage: Usage, prices: Mapping[str, float], per_event: float, per_delivery: float
) -> list[Line]:
    sent = sum(
        c["calls"] for key, c in usage.calls.items() if "|SQS." in key and "EventsQueue" in key
    )
    retries = sum(
        c["calls"] for key, c in usage.calls.items() if "|SQS." in key and "EventsQueue" not in key
    )
    polled = (
        usage.functions.get("FanoutFunction", {}).get("invocations", 0)
        * ESM_REQUESTS_PER_INVOCATION
    )
    price = prices["sqs_per_million"] / MILLION
    return [
        Line("SQS", "EventsQueue sends (code)", sent * per_event * price, 0.0),
        Line("SQS", "event source receive + delete (modelled)", polled * per_event * price, 0.0),
        Line("SQS", "RetryQueue and DLQ sends (code)", 0.0, retries * per_delivery * price),
    ]


def _dynamodb_lines(
    usage: Usage, prices: Mapping[str, float], per_event: float, per_delivery: float
) -> list[Line]:
    """One line per table and function: the fan-out's writes grow with the deliveries,
    ingest's (shipments) and the authorizer's with the events."""
    lines = []
    for table, function in sorted({(_table_of(key), key.split("|")[0]) for key in usage.calls}):
        if not table:
            continue
        rows = _calls_of(usage, table, function)
        writes = sum(c["write_units"] for c in rows)
        if INDEXES.get(table) == "all":
            writes *= 2
        elif INDEXES.get(table) == "keys":
            writes += sum(c.get("index_entries_written", 0) for c in rows)
        reads = sum(c["read_units"] for c in rows)
        usd = (
            writes * prices["dynamodb_write_per_million"]
            + reads * prices["dynamodb_read_per_million"]
        ) / MILLION
        what = f"{table} ({function.removesuffix('Function').lower()})"
        if function == "FanoutFunction":
            lines.append(Line("DynamoDB", what, 0.0, usd * per_delivery))
        else:
            lines.append(Line("DynamoDB", what, usd * per_event, 0.0))
    return lines


def _storage_lines(
    usage: Usage, prices: Mapping[str, float], per_event: float, per_delivery: float
) -> list[Line]:
    """What storing the items one event adds costs, kept for their table's retention, with
    point-in-time recovery where the template turns it on: bytes written by new-item calls,
    plus DynamoDB's per-item overhead, and their index's copy (whole, or keys)."""
    lines = []
    for table, function in sorted({(_table_of(key), key.split("|")[0]) for key in usage.calls}):
        days = RETENTION_DAYS.get(table)
        if days is None:
            continue
        rows = _calls_of(usage, table, function, NEW_ITEM_OPERATIONS)
        items = sum(c.get("items_written", 0) for c in rows)
        stored = sum(c.get("item_bytes_written", 0) for c in rows) + items * ITEM_OVERHEAD_BYTES
        if INDEXES.get(table) == "all":
            stored *= 2
        elif INDEXES.get(table) == "keys":
            entries = sum(c.get("index_entries_written", 0) for c in rows)
            stored += entries * (KEYS_INDEX_ITEM_BYTES + ITEM_OVERHEAD_BYTES)
        recovered = table in PITR_TABLES
        per_gb_month = prices["dynamodb_storage_gb_month"] + (
            prices["dynamodb_pitr_gb_month"] if recovered else 0.0
        )
        usd = stored / GB * per_gb_month * days / DAYS_PER_MONTH
        kept = "storage + PITR" if recovered else "storage"
        what = f"{table} {kept}, {days} days ({function.removesuffix('Function').lower()})"
        if function == "FanoutFunction":
            lines.append(Line("DynamoDB", what, 0.0, usd * per_delivery))
        else:
            lines.append(Line("DynamoDB", what, usd * per_event, 0.0))
    return lines


def _calls_of(
    usage: Usage, table: str, function: str, operations: tuple[str, ...] | None = None
) -> list[dict[str, float]]:
    """The counted calls of one function on one table (of these DynamoDB operations only)."""
    return [
        counts
        for key, counts in usage.calls.items()
        if _table_of(key) == table
        and key.split("|")[0] == function
        and (operations is None or key.split("|")[1].removeprefix("DynamoDB.") in operations)
    ]


def _logs_line(
    usage: Usage, prices: Mapping[str, float], per_event: float, per_delivery: float
) -> Line:
    fanout = usage.functions.get("FanoutFunction", {}).get("log_bytes", 0)
    others = sum(f["log_bytes"] for name, f in usage.functions.items() if name != "FanoutFunction")
    requests = usage.functions.get("IngestFunction", {}).get("invocations", 0)
    others += requests * ACCESS_LOG_BYTES
    price = prices["logs_ingest_per_gb"] / GB
    return Line(
        "CloudWatch Logs",
        "ingestion (functions, API access log)",
        others * per_event * price,
        fanout * per_delivery * price,
    )


def _table_of(key: str) -> str:
    """The logical table a `function|operation|physical name` key is about."""
    resource = key.split("|")[2]
    for table in (
        "DeliveriesTable",
        "EndpointHealthTable",
        "SubscriptionsTable",
        "ShipmentsTable",
        "ApiKeysTable",
    ):
        if f"-{table}-" in resource:
            return table
    return ""


def total(lines: list[Line], subscriptions: int) -> float:
    return sum(line.for_subscriptions(subscriptions) for line in lines)


def alternatives(subscriptions: int, prices: Mapping[str, float] = PRICES) -> dict[str, float]:
    """The fan-out part alone, per million events, done by SNS or EventBridge instead."""
    return {
        "SNS topic, HTTP subscriptions": prices["sns_publish_per_million"]
        + subscriptions * prices["sns_http_per_million"],
        "EventBridge bus, API destinations": prices["eventbridge_events_per_million"]
        + subscriptions * prices["eventbridge_api_destination_per_million"],
    }


# The floor (docs/cost.md "Targets and floor"): the bytes each delivery's outcome adds to the
# one record of an event's deliveries (its status, answer excerpt kept short, times, ids).
FLOOR_OUTCOME_BYTES = 200
# The event's size when the run wrote no history item to measure it by.
WRITE_UNIT_GUESS = 1000.0


def calls_per(usage: Usage, function: str) -> float:
    """The AWS calls `function`'s code made, in all."""
    return sum(c["calls"] for key, c in usage.calls.items() if key.split("|")[0] == function)


def ingest_calls_floor(usage: Usage) -> float:
    """Ingest's fewest AWS calls per event that keep its guarantees: two conditional writes
    (the history item that is the event's dedupe claim, and its shipment's state: no batch
    call takes a condition, and a transaction doubles what each write costs) and its sends
    to the events queue as measured (one per request's ten events at most)."""
    sends = sum(
        c["calls"]
        for key, c in usage.calls.items()
        if key.split("|")[0] == "IngestFunction" and key.split("|")[1] == "SQS.SendMessageBatch"
    )
    return 2 + sends / max(1, usage.events)


def mean_item_bytes(usage: Usage, table: str, function: str) -> float:
    """The mean size of the items `function` wrote new to `table` (0 if none)."""
    rows = _calls_of(usage, table, function, NEW_ITEM_OPERATIONS)
    items = sum(c.get("items_written", 0) for c in rows)
    return sum(c.get("item_bytes_written", 0) for c in rows) / items if items else 0.0


def floor_total(
    lines: list[Line], usage: Usage, subscriptions: int, prices: Mapping[str, float] = PRICES
) -> float:
    """The whole pipeline per million events with DynamoDB at what the guarantees need and
    every other term as measured: at ingest one conditional write per event (its dedupe
    claim and its place in the shipment's history as one item of the event's size) and the
    shipment's state read and written as measured; one write per event for the record of
    its deliveries (an event's subscriptions are one merchant's, so one item holds every
    delivery's outcome); the reads of the fan-out as measured; both new items stored for
    their retention with point-in-time recovery."""
    event_bytes = mean_item_bytes(usage, "ShipmentsTable", "IngestFunction") or WRITE_UNIT_GUESS
    record_bytes = event_bytes + FLOOR_OUTCOME_BYTES * subscriptions
    write = prices["dynamodb_write_per_million"]
    writes = _units(event_bytes) + _units(record_bytes)
    state = [
        line.for_subscriptions(subscriptions)
        for line in lines
        if line.service == "DynamoDB"
        and not line.what.startswith(("DeliveriesTable", "ShipmentsTable"))
    ]
    per_gb_month = prices["dynamodb_storage_gb_month"] + prices["dynamodb_pitr_gb_month"]
    kept = [
        (event_bytes, RETENTION_DAYS["ShipmentsTable"]),
        (record_bytes, RETENTION_DAYS["DeliveriesTable"]),
    ]
    storage = sum(
        (size + ITEM_OVERHEAD_BYTES) * MILLION / GB * per_gb_month * days / DAYS_PER_MONTH
        for size, days in kept
    )
    others = sum(
        line.for_subscriptions(subscriptions) for line in lines if line.service != "DynamoDB"
    )
    shipment_state = _state_cost(usage, prices)
    return others + sum(state) + shipment_state + writes * write + storage


def _units(item_bytes: float) -> int:
    """Write units of one item of this size (a unit per started KB)."""
    return max(1, -(-int(item_bytes + 0.999) // 1024))


def _state_cost(usage: Usage, prices: Mapping[str, float]) -> float:
    """Ingest's read and compare-and-set of each shipment's state, as measured, per million
    events."""
    rows = [
        c
        for key, c in usage.calls.items()
        if _table_of(key) == "ShipmentsTable"
        and key.split("|")[0] == "IngestFunction"
        and key.split("|")[1]
        in {"DynamoDB.GetItem", "DynamoDB.BatchGetItem", "DynamoDB.UpdateItem"}
    ]
    usd = (
        sum(c["write_units"] for c in rows) * prices["dynamodb_write_per_million"]
        + sum(c["read_units"] for c in rows) * prices["dynamodb_read_per_million"]
    ) / MILLION
    return usd * MILLION / max(1, usage.events)
