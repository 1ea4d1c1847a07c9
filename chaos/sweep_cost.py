"""What the stalled/late sweep costs, per million tracked shipments (docs/cost.md).

A model, not a measurement: the sweep's calls per shipment follow from its code (one index
entry moved per event, one consistent read of the state and one of the latest event per
alert, one marking write), priced like the rest of docs/cost.md. The share of shipments
that stall or run late, and their events, are stated assumptions.
"""

from __future__ import annotations

from collections.abc import Mapping

from chaos.cost import PRICES

MILLION = 1_000_000
# Assumptions, stated on the page.
EVENTS_PER_SHIPMENT = 5
ALERTED_SHARE = 0.10
SWEEP_RUNS_PER_MONTH = 30.4 * 24 * 4  # rate(15 minutes)
SHARDS = 4
SWEEP_RUN_S = 0.3
SWEEP_MEMORY_GB = 0.5
# A keys-only index entry: the table's keys and the index's, with DynamoDB's overhead.
INDEX_ENTRY_BYTES = 200


def sweep_lines(
    prices: Mapping[str, float] = PRICES, fanout_per_event: float = 0.0
) -> list[tuple[str, str, float]]:
    """(what, how it is counted, USD per million tracked shipments); the last line is the
    fixed cost of the schedule, per month."""
    write = prices["dynamodb_write_per_million"] / MILLION
    read = prices["dynamodb_read_per_million"] / MILLION
    alerted = MILLION * ALERTED_SHARE
    # An event that moves the due time rewrites the index entry: a delete and a put.
    index_writes = MILLION * EVENTS_PER_SHIPMENT * 2 * write
    index_storage = MILLION * INDEX_ENTRY_BYTES / 1024**3 * prices["dynamodb_storage_gb_month"]
    # Per alert: its share of a Query page (0.5 RRU), the state and the latest event read
    # consistently (1 RRU each), the marking write (1 WRU, 2 for the index entry moved or
    # removed), a tenth of an SQS batch, and the alert's own fan-out like any event.
    per_alert = 2.5 * read + 3 * write + prices["sqs_per_million"] / MILLION / 10
    schedule = SWEEP_RUNS_PER_MONTH * (
        prices["lambda_requests_per_million"] / MILLION
        + SWEEP_RUN_S * SWEEP_MEMORY_GB * prices["lambda_arm64_gb_s"]
        + SHARDS * 0.5 * read
    )
    return [
        (
            "by-due index writes",
            f"{EVENTS_PER_SHIPMENT} events a shipment, 2 write units each",
            index_writes,
        ),
        (
            "by-due index storage",
            f"{INDEX_ENTRY_BYTES} bytes a pending shipment, a month",
            index_storage,
        ),
        (
            "alerts: reads, marks, queue",
            f"{ALERTED_SHARE:.0%} of shipments alerted once",
            alerted * per_alert,
        ),
        ("alerts: delivery", "each alert fanned out like an event", alerted * fanout_per_event),
        ("the schedule itself", "per month, whatever the shipments", schedule),
    ]


def render(prices: Mapping[str, float] = PRICES, fanout_per_event: float = 0.0) -> str:
    lines = sweep_lines(prices, fanout_per_event)
    rows = [f"| {what} | {how} | {usd:.2f} |" for what, how, usd in lines]
    per_shipments = sum(usd for *_, usd in lines[:-1])
    return "\n".join(
        [
            "## The stalled/late sweep, per million tracked shipments",
            "",
            "A model from the sweep's calls (chaos/sweep_cost.py), not a measurement. Assumed: "
            f"{EVENTS_PER_SHIPMENT} events a shipment, {ALERTED_SHARE:.0%} of shipments told "
            "one alert, the sweep every 15 minutes (`SweepSchedule`). The sweep reads only the "
            "shipments due (the sparse `by-due` index: 4 `Query` pages a run when nothing is "
            "due), never the table; ingest pays for filing each shipment's due time as its "
            "state changes.",
            "",
            "| what | counted as | USD |",
            "|---|---|---:|",
            *rows,
            "",
            f"**${per_shipments:.2f} per million tracked shipments**, plus "
            f"${lines[-1][2]:.2f} a month for the schedule.",
            "",
        ]
    )
