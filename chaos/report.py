"""docs/reliability.md, docs/cost.md and the latency chart, from one run's result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chaos import sweep_cost
from chaos.baseline import MAX_CONCURRENCY
from chaos.cost import (
    FLOOR_OUTCOME_BYTES,
    PRICES,
    RETENTION_DAYS,
    Line,
    Usage,
    alternatives,
    bill,
    calls_per,
    floor_total,
    ingest_calls_floor,
    total,
)
from chaos.latency import Figures

CHART = "reliability-latency.png"
PRICES_TAKEN = "2026-11-28"
PRICE_PAGES = {
    "API Gateway": "https://aws.amazon.com/api-gateway/pricing/",
    "Lambda": "https://aws.amazon.com/lambda/pricing/",
    "SQS": "https://aws.amazon.com/sqs/pricing/",
    "DynamoDB": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "CloudWatch": "https://aws.amazon.com/cloudwatch/pricing/",
    "SNS": "https://aws.amazon.com/sns/pricing/",
    "EventBridge": "https://aws.amazon.com/eventbridge/pricing/",
}


def figures_json(figures: Figures) -> dict[str, Any]:
    return {
        "pipeline": figures.pipeline,
        "load": figures.load,
        "events": figures.events,
        "deliveries": figures.deliveries,
        "arrived": figures.arrived,
        "span_s": round(figures.span_s, 2),
        "events_per_s": round(figures.events_per_s, 1),
        "deliveries_per_s": round(figures.deliveries_per_s, 1),
        "p50_ms": round(figures.percentile_ms(50), 1),
        "p95_ms": round(figures.percentile_ms(95), 1),
        "p99_ms": round(figures.percentile_ms(99), 1),
        "p50_from_sent_ms": round(figures.percentile_ms(50, from_sent=True), 1),
        "samples": [[round(s.at_s, 3), round(s.latency_s, 4)] for s in figures.samples],
    }


def write_docs(result: Mapping[str, Any], docs: Path) -> None:
    draw_chart(result["latency"], docs / CHART)
    (docs / "reliability.md").write_text(reliability_md(result))
    (docs / "cost.md").write_text(cost_md(result))


def draw_chart(latency: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Latency of every pair over the run, both pipelines, one panel per load."""
    import matplotlib  # noqa: PLC0415 (a dev dependency, only for the report)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    loads = sorted({f["load"] for f in latency}, key=lambda name: name != "burst")[::-1]
    fig, axes = plt.subplots(1, len(loads), figsize=(12, 4.5), squeeze=False)
    for axis, load in zip(axes[0], loads, strict=True):
        for f in (f for f in latency if f["load"] == load):
            xs = [s[0] for s in f["samples"]]
            ys = [max(s[1] * 1000, 0.5) for s in f["samples"]]
            axis.scatter(
                xs, ys, s=4, alpha=0.5, label=f"{f['pipeline']} (p50 {f['p50_ms']:.0f} ms)"
            )
        axis.set_yscale("log")
        axis.set_title(load)
        axis.set_xlabel("carrier acknowledgement, s since the load began")
        axis.set_ylabel("ack -> first arrival at the receiver, ms")
        axis.legend(loc="upper left", markerscale=3)
        axis.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency_table(latency: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        "| load | pipeline | events | deliveries arrived | events/s | deliveries/s "
        "| p50 | p95 | p99 | p50 from the request sent |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in latency:
        rows.append(
            f"| {f['load']} | {f['pipeline']} | {f['events']} | {f['arrived']}/{f['deliveries']} "
            f"| {f['events_per_s']:.1f} | {f['deliveries_per_s']:.1f} | {f['p50_ms']:.0f} ms "
            f"| {f['p95_ms']:.0f} ms | {f['p99_ms']:.0f} ms | {_from_sent(f)} |"
        )
    for load in sorted({f["load"] for f in latency}):
        ours = next(f for f in latency if f["load"] == load and f["pipeline"] == "parcelhooks")
        base = next(f for f in latency if f["load"] == load and f["pipeline"] == "baseline")
        rows.append(
            f"| {load} | **ratio parcelhooks / baseline** | | | "
            f"{_ratio(ours['events_per_s'], base['events_per_s'])} | "
            f"{_ratio(ours['deliveries_per_s'], base['deliveries_per_s'])} | "
            f"{_ratio(ours['p50_ms'], base['p50_ms'])} | "
            f"{_ratio(ours['p95_ms'], base['p95_ms'])} | "
            f"{_ratio(ours['p99_ms'], base['p99_ms'])} | "
            f"{_ratio(ours.get('p50_from_sent_ms', 0), base.get('p50_from_sent_ms', 0))} |"
        )
    return "\n".join(rows)


def _from_sent(figures: Mapping[str, Any]) -> str:
    """Runs before this figure was kept have none."""
    value = figures.get("p50_from_sent_ms")
    return "" if value is None else f"{value:.0f} ms"


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"


def reliability_md(result: Mapping[str, Any]) -> str:
    chaos = result["chaos"]
    kills = chaos["kills"]
    injected = "\n".join(f"  - {line}" for line in chaos["injected"]) or "  - (none)"
    return _RELIABILITY.format(
        started=result["started"],
        machine=result["machine"],
        command=result["command"],
        events=result["events"],
        ledger=result["ledger_text"],
        ok="yes" if result["ledger_ok"] else "NO",
        latency=latency_table(result["latency"]),
        chart=CHART,
        kills=len(kills),
        kills_busy=chaos["kills_busy"],
        injected=injected,
        disabled=", ".join(chaos["disabled"]) or "none",
        baseline_concurrency=MAX_CONCURRENCY,
        **{k: chaos[k] for k in _CHAOS_FIELDS},
    )


_CHAOS_FIELDS = (
    "merchants",
    "subscriptions",
    "carriers",
    "batch_size",
    "accepted",
    "requests",
    "retried_requests",
    "resent_events",
    "duplicates_answered",
    "load_s",
    "drained",
    "drain_s",
    "run_s",
)

_RELIABILITY = """# Reliability under fire: a chaos run's ledger, and latency beside a bare pipeline

Figures from `{command}` started {started} on {machine}, with
MiniStack and every function, receiver and carrier client on the same machine. Reproduce
with `make chaos` (default 2,000 events; `make chaos EVENTS=10000` or
`.venvs/dev/bin/python -m chaos.run --events 10000`); `tests/e2e/test_chaos.py` runs a
smaller one (300 events, at least one worker kill) inside `make test`.

## The ledger

Every (event, subscription that wants it) pair ends in exactly one category, the first
that applies: **delivered** (the receiver answered 2xx to a request whose Standard Webhooks
signature verifies with the subscription's secret at the time it arrived, with the event's
`webhook-id`), **dead_lettered** (in DeliveriesDLQ, or in EventsDLQ as an event whose
message SQS gave up on), **held** (logged `held`, or its subscription was disabled by a
`410` or by the breaker: `recover` sends those), **scheduled** (a retry still due when the
drain deadline passed), else **missing**. A pair the receiver took (2xx) more than once is a
duplicate (a killed worker's batch is POSTed again where no success line was logged yet; a
restarted receiver's answer never got back); every copy, failed ones too, must carry the same
`webhook-id` and body, and verify. `operational_notices` are the verified
`subscription.disabled` and `delivery.exhausted` webhooks the platform sent the merchants'
other subscriptions.

```
{ledger}
```

Verdict (no missing pair, no mismatched duplicate, nothing unverifiable, every duplicate
ingest answer naming the first event): **{ok}**.

## What was injected

- {events} events planned for {merchants} merchants with 3 subscriptions each ({subscriptions}
  receivers), sent by {carriers} concurrent carrier clients in batches of {batch_size}:
  {accepted} accepted in {requests} requests over {load_s} s ({retried_requests} requests
  sent again after a 429/5xx); {resent_events} events re-sent in later batches as
  duplicates, {duplicates_answered} answered as duplicates with their first `event_id`.
- Receivers: most answer 500 to 30 % of requests at random; three also hang for 11 s (past
  the 10 s delivery timeout) on every 40th request; one answers `429` with
  `Retry-After: 2` every 5th request; one answers `410 Gone` after its first 25 requests
  (later events are held); one refuses connections for 25 s and comes back; one answers
  after 2 s and is restarted with a request in flight (its connection reset).
- Timeline:
{injected}
- Fan-out workers SIGKILLed: {kills} ({kills_busy} of them busy on a batch at that moment),
  every 4 to 9 s at random from the start of the load to its end. Only workers past their
  start-up are killed: MiniStack 1.5.33 answers a worker that dies before its init answer by
  killing every worker of the function and deleting their code folders, which fails the
  workers starting beside it: a cascade of MiniStack's, not a crash Lambda would have.
- Subscriptions disabled by the end (410 or breaker): {disabled}.
- Drained (EventsQueue and RetryQueue empty, in flight and delayed included, twice in a row):
  {drained} after {drain_s} s; the whole chaos phase took {run_s} s.

## Latency and throughput beside a bare pipeline

The baseline is one SQS queue and one python3.13 function (1,024 MB, the fan-out's size)
that POSTs each message's body to the URL in it with `http.client` on a kept-alive
connection, and nothing else: no signature, no log, no retry bookkeeping, no endpoint
health. Its event source has the fan-out's batch size (10) and MaximumConcurrency
({baseline_concurrency}). It is created with boto3 on the same MiniStack (chaos/baseline.py
says why not a second template). Both pipelines get the same loads from 4 client threads, to
receivers that answer 200 at once (failures would only measure the retry schedule), one
after the other on the same machine, each after a warm-up burst of 150 events whose figures
are dropped (the proxy's configuration change restarts every worker): *paced* (300 events at
20 events/s, batches of 5) for latency, *burst* (600 events, batches of 20, as fast as
accepted) for throughput. parcelhooks' clock starts at the carrier's `202` from `POST
/v1/events` (API Gateway, authorizer, ingest already done); the baseline's at SQS's answer
to `SendMessageBatch` (one message per event and subscription that wants it, so both do the
same deliveries). Latency is to the first arrival of each pair; events/s and deliveries/s
are over first send → last arrival. parcelhooks' functions reach MiniStack through the
counting proxy (one loopback hop more per AWS call; the baseline makes none).

Ingest answers `202` only after its events' shipment history is written and they are
queued, so the fan-out often delivers before the carrier holds its `202`: a
p50 from the `202` near zero, or below it, says that, not that a delivery took no time.
The last column starts both clocks when the request leaves (the carrier's `POST`, the
baseline's `SendMessageBatch`): parcelhooks' then includes API Gateway, the authorizer
and all of ingest, which the baseline does not do at all.

{latency}

![latency over the run]({chart})

The ratios are what parcelhooks' work costs over a bare POST on this machine, where MiniStack
(pure Python) serves every DynamoDB and SQS call on the same 2 cores as the functions: each
delivery to a healthy endpoint here reads its endpoint health once per invocation and
writes a log item, each a MiniStack request. On AWS those calls take
milliseconds on other machines, so the gap there is smaller; docs/benchmarks.md measures
the delivery path alone.
"""


def cost_md(result: Mapping[str, Any]) -> str:
    clean = _usage(result["usage_clean"])
    rough = _usage(result["usage_chaos"])
    clean_lines, rough_lines = bill(clean), bill(rough)
    return _COST.format(
        taken=PRICES_TAKEN,
        started=result["started"],
        pages="\n".join(f"- {name}: {url}" for name, url in PRICE_PAGES.items()),
        prices="\n".join(f"| `{name}` | {value:g} |" for name, value in PRICES.items()),
        clean_events=clean.events,
        clean_deliveries=clean.deliveries,
        rough_events=rough.events,
        rough_deliveries=rough.deliveries,
        usage=_usage_table(clean, rough),
        bill=_bill_table(clean_lines, rough_lines),
        alternatives=_alternatives_table(clean_lines),
        dominant=_dominant(clean_lines),
        targets=_targets_table(result, clean, clean_lines),
        floor_bytes=FLOOR_OUTCOME_BYTES,
        log_days=RETENTION_DAYS["DeliveriesTable"],
        history_days=RETENTION_DAYS["ShipmentsTable"],
        sweep=sweep_cost.render(fanout_per_event=total(clean_lines, 1) / 1_000_000),
    )


def _usage(document: Mapping[str, Any]) -> Usage:
    return Usage(
        int(document["events"]),
        int(document["deliveries"]),
        dict(document["calls"]),
        dict(document["functions"]),
    )


def _usage_table(clean: Usage, rough: Usage) -> str:
    rows = [
        "| function | call | per event (clean) | per event (chaos) "
        "| capacity units per event (clean) |",
        "|---|---|---:|---:|---:|",
    ]
    keys = sorted(set(clean.calls) | set(rough.calls))
    for key in keys:
        function, operation, resource = key.split("|")
        table = resource.rsplit("-", 1)[0].split("-", 2)[-1] if resource else ""
        c, r = clean.calls.get(key, {}), rough.calls.get(key, {})
        units = c.get("write_units", 0) + c.get("read_units", 0)
        kind = "WRU" if c.get("write_units") else "RRU" if c.get("read_units") else ""
        rows.append(
            f"| {function} | {operation} {table} | {c.get('calls', 0) / max(1, clean.events):.2f} "
            f"| {r.get('calls', 0) / max(1, rough.events):.2f} "
            f"| {units / max(1, clean.events):.2f} {kind} |"
        )
    for name in sorted(clean.functions):
        c, r = clean.functions[name], rough.functions.get(name, {})
        rows.append(
            f"| {name} | invocations; ms each; log bytes per event "
            f"| {c['invocations'] / max(1, clean.events):.3f}; "
            f"{c['duration_ms'] / max(1, c['invocations']):.0f} ms; "
            f"{c['log_bytes'] / max(1, clean.events):.0f} B "
            f"| {r.get('invocations', 0) / max(1, rough.events):.3f}; "
            f"{r.get('duration_ms', 0) / max(1, r.get('invocations', 1)):.0f} ms; "
            f"{r.get('log_bytes', 0) / max(1, rough.events):.0f} B | {c['memory_mb']:.0f} MB |"
        )
    return "\n".join(rows)


def _bill_table(clean: list[Line], rough: list[Line]) -> str:
    rows = [
        "| service | term | 1 subscription | 3 subscriptions | 3 subscriptions, chaos mix |",
        "|---|---|---:|---:|---:|",
    ]
    for line, chaotic in zip(clean, _aligned(clean, rough), strict=True):
        rows.append(
            f"| {line.service} | {line.what} | ${line.for_subscriptions(1):.2f} "
            f"| ${line.for_subscriptions(3):.2f} | ${chaotic:.2f} |"
        )
    rows.append(
        f"| **total** | | **${total(clean, 1):.2f}** | **${total(clean, 3):.2f}** "
        f"| **${total(rough, 3):.2f}** |"
    )
    http = _http_api_saving(clean)
    rows.append(
        f"| *lever* | HTTP API instead of REST | ${total(clean, 1) - http:.2f} "
        f"| ${total(clean, 3) - http:.2f} | |"
    )
    return "\n".join(rows)


def _aligned(clean: list[Line], rough: list[Line]) -> list[float]:
    by_term = {(line.service, line.what): line.for_subscriptions(3) for line in rough}
    return [by_term.get((line.service, line.what), 0.0) for line in clean]


def _http_api_saving(lines: list[Line]) -> float:
    rest = next((line for line in lines if line.service.startswith("API Gateway")), None)
    if rest is None:
        return 0.0
    return rest.per_event_usd * (
        1 - PRICES["http_api_per_million"] / PRICES["rest_api_per_million"]
    )


def _alternatives_table(lines: list[Line]) -> str:
    fanout = [
        line
        for line in lines
        if line.per_delivery_usd or "EventsQueue" in line.what or "event source" in line.what
    ]
    rows = ["| fan-out done by | 1 subscription | 3 subscriptions |", "|---|---:|---:|"]
    rows.append(
        f"| parcelhooks (fan-out Lambda, SQS, its tables, its logs) "
        f"| ${total(fanout, 1):.2f} | ${total(fanout, 3):.2f} |"
    )
    one, three = alternatives(1), alternatives(3)
    for name in one:
        rows.append(f"| {name} | ${one[name]:.2f} | ${three[name]:.2f} |")
    return "\n".join(rows)


def _targets_table(result: Mapping[str, Any], clean: Usage, lines: list[Line]) -> str:
    """The cost work's targets beside this run's figures, and the floor of the cost."""
    fanout_calls = calls_per(clean, "FanoutFunction") / max(1, clean.deliveries)
    ingest_calls = calls_per(clean, "IngestFunction") / max(1, clean.events)
    ratios = {}
    for load in ("burst", "paced 20 events/s"):
        figures = [f for f in result["latency"] if f["load"] == load]
        ours = next((f for f in figures if f["pipeline"] == "parcelhooks"), None)
        base = next((f for f in figures if f["pipeline"] == "baseline"), None)
        if ours and base:
            ratios[load] = (ours, base)
    rows = [
        "| target | goal | this run | floor |",
        "|---|---:|---:|---:|",
        f"| whole pipeline, 3 subscriptions | ≤ $3.00 | ${total(lines, 3):.2f} "
        f"| ${floor_total(lines, clean, 3):.2f} |",
        f"| whole pipeline, 1 subscription | ≤ $2.50 | ${total(lines, 1):.2f} "
        f"| ${floor_total(lines, clean, 1):.2f} |",
        f"| AWS calls of the fan-out's code per delivery (clean phase) | ≤ 1.0 "
        f"| {fanout_calls:.2f} | |",
        f"| AWS calls of ingest's code per event (clean phase) | ≤ 2 | {ingest_calls:.2f} "
        f"| {ingest_calls_floor(clean):.2f} |",
    ]
    if "burst" in ratios:
        ours, base = ratios["burst"]
        rows.append(
            f"| burst throughput, parcelhooks / bare pipeline | ≥ 0.3x "
            f"| {_ratio(ours['events_per_s'], base['events_per_s'])} | |"
        )
    if "paced 20 events/s" in ratios:
        ours, base = ratios["paced 20 events/s"]
        sent = _ratio(ours.get("p50_from_sent_ms", 0), base.get("p50_from_sent_ms", 0))
        rows.append(
            f"| paced p50 latency, parcelhooks / bare pipeline | ≤ 5x "
            f"| {_ratio(ours['p50_ms'], base['p50_ms'])} from the `202`; {sent} from the "
            f"request sent | |"
        )
    return "\n".join(rows)


def _dominant(lines: list[Line]) -> str:
    ranked = sorted(lines, key=lambda line: line.for_subscriptions(3), reverse=True)
    return ", ".join(
        f"{line.service} {line.what} (${line.for_subscriptions(3):.2f})" for line in ranked[:3]
    )


_COST = """# What it costs on AWS, per million events

Every figure below is computed by `chaos/cost.py` from what `make chaos` measured on
{started} (its clean phase: {clean_events} events, {clean_deliveries} deliveries to
receivers answering at once; and its chaos phase: {rough_events} events,
{rough_deliveries} pairs, 30 % failures, kills, a 410, a down endpoint), priced with
`us-east-1` list prices. `make chaos` rewrites this page.

## Prices used

Taken on {taken}, **from memory of the AWS pricing pages below, without internet access on
this machine**: check them against the pages before relying on a figure. Each is one entry of
`PRICES` in `chaos/cost.py`; change it there and run `make chaos` (or re-render from
`.parcelhooks/chaos/result.json`) to update this page.

{pages}

| price | USD |
|---|---:|
{prices}

Units: `*_per_million` per million requests (SQS and SNS per 64 KB chunk, API Gateway per
request, DynamoDB on-demand per million write/read request units), `lambda_arm64_gb_s` per
GB-second on arm64 (the template's default architecture; the local stack runs x86_64, the
durations are taken as they are), `logs_ingest_per_gb` per GB ingested. Free tiers are left
out.

## What one event costs in calls (measured)

How the figures were measured:
- **AWS calls of our code**: every function's `AWS_ENDPOINT_URL` points at a counting HTTP
  proxy on 127.0.0.1 (`chaos/proxy.py`, one port per function, in its own process), set with
  `update_function_configuration` after the deploy; MiniStack's worker takes a function's own
  `AWS_ENDPOINT_URL` over its default, so every boto3 call of every function passes the proxy,
  which counts it by `X-Amz-Target` (DynamoDB and SQS both use the JSON protocol) and by the
  table or queue named in the request. Verified: the counts show every call the code makes
  (e.g. one `BatchGetItem` of EndpointHealth for the records an invocation's deliveries
  ask for at once, one `Query` of subscriptions per merchant per invocation, the log's
  `BatchWriteItem`s per invocation, not per message).
- **DynamoDB capacity units**: from the items in each request and response, by AWS's item-size
  rules (`chaos/capacity.py`): a write unit per started KB written (a failed conditional write
  still takes one), a read unit per started 4 KB read (half for an eventually consistent
  read). A delivery-log line that holds a sparse index's key (attempted 15 minutes or more
  after its event: `by-late-attempt`; of a delivery id from before ids held their time:
  `by-delivery-keys`) also writes that index's entry (keys only: a write unit, about 150
  bytes); the others are found by their delivery id in the table and write nothing more.
- **Lambda durations and log bytes**: MiniStack writes a `REPORT RequestId … Duration … Memory
  Size` line per invocation to the function's CloudWatch Logs group, like Lambda; the run reads
  them (and sums the bytes of every log line) with `filter_log_events` over each phase. The
  durations are MiniStack's wall time of the invocation on this 2-core machine, cold starts
  included, so they are an upper bound for Lambda's.
- **Not calls of our code, modelled**: the SQS event source's ReceiveMessage and
  DeleteMessageBatch (2 per fan-out invocation) and API Gateway's access log line
  (≈ 260 bytes per request).
- **Storage and point-in-time recovery, modelled** from the bytes each new item holds
  (measured as they are written, plus DynamoDB's 100 bytes of overhead per item, and the
  delivery log's index entries), kept for its table's retention (the
  template's defaults: {log_days} days for the delivery log, {history_days} for the
  shipment history, whose items are also the events' dedupe claims), at
  `dynamodb_storage_gb_month`, plus `dynamodb_pitr_gb_month` where the template turns
  point-in-time recovery on (both tables).
  Items updated in place (endpoint
  health, a shipment's state, subscriptions) grow with subscriptions and shipments, not with
  events: not counted.
- **Not counted, per shipment**: ShipmentsTable's `by-order` index (keys only, for
  `GET /v1/shipments?order_id=`) is written when a shipment is first filed under an order,
  not at each event (an update that leaves `merchant_order` as it was does not write the
  index): one write unit and about 250 bytes per shipment, $0.625 per million shipments
  (about $0.13 per million events at five events per shipment), and its lookups one `Query`
  each.

{usage}

## Per million events

In USD. Per-event terms (API Gateway, ingest, authorizer, EventsQueue, the shipment's
state and history) are paid once per event; per-delivery terms (the fan-out's time, the
delivery log, endpoint health, retries, its logs) once per subscription the
event reaches. The carriers' batch size (20 events per request in the chaos phase, 5 and 20
in the clean phase) divides the per-request terms.

{bill}

The dominant terms (3 subscriptions): {dominant}.

Levers, each with the term it moves:
- **API Gateway REST → HTTP API** (the row above): $1.00 instead of $3.50 per million
  requests. The HTTP API has Lambda authorizers with caching too; what would be lost is the
  REST API's per-method throttling settings and request validation, which ingest does itself.
- **Carrier batch size**: API Gateway, the authorizer and ingest are per request, so a carrier
  sending 100 events per request pays a fifth of what one sending 20 does, and one sending
  single events pays twenty times as much.
- **Fan-out duration** (Lambda GB-seconds): the fan-out waits on DynamoDB and the receivers;
  1,024 MB is chosen for CPU. Receivers that answer slowly cost directly here. At 512 MB the
  GB-seconds halve if the duration does not grow by as much.
- **Delivery-log item size**: a line of an event ingest recorded points to the event's
  shipment-history item (where retry, recover and the delivery detail read it) while that
  item outlives the line; other lines (tests, alerts, operational events) carry the event
  deflated. A line holds up to 4 KB of the receiver's answer and is kept 30 days with
  PITR. A line over 1 KB costs two write units; a late line's index entry one more.
- **Endpoint health**: one read of the records an invocation needs while it sends
  on its own share of a healthy endpoint's lanes (twice `FanoutMaxConcurrency` below the
  endpoint's `max_in_flight`); two conditional `UpdateItem`s per attempt for endpoints
  without a share (rate-limited, paused, held, or a `max_in_flight` not over that), and a
  write for each failure and for a success a minute after the last one written.
- **Log volume**: Powertools' EMF metrics per attempt, and a structured line for each failed
  attempt (a successful one logs at `DEBUG`).
- **CloudWatch metrics**: EMF costs only its log bytes here; the custom metrics themselves are
  billed per metric per month ($0.30 for the first 10,000), not per event: parcelhooks emits a
  handful (deliveries succeeded/failed/gone/dead-lettered, latency, subscriptions disabled).
- **X-Ray** (`Tracing: Active`): under the default sampling rule (one request a second and 5 %
  of the rest) traces cost about $0.25 per million requests ($5.00 per million traces), not
  counted above.

{sweep}
## Targets and floor

What the cost work set out to reach, beside this run (the latency ratios from
docs/reliability.md's run, which is this one). The **floor** is this page's bill with
DynamoDB at what the guarantees need and every other term (API Gateway, Lambda time,
SQS, logs, the endpoint-health and subscription reads) as measured: at ingest one
conditional write per event that is both its dedupe claim and its place in the
shipment's history (an item of the event's measured size), plus the shipment's state read
and compare-and-set as measured; one write per event for the record of its deliveries
(an event's subscriptions are one merchant's, so one item can hold every delivery's
outcome, {floor_bytes} bytes each on top of the event); each item stored as long as its
table keeps it today (the history `ShipmentQuietDays`, the log `DeliveryLogRetentionDays`)
with point-in-time recovery. Ingest is that design (a history item per event that is its
dedupe claim, beside the state); the delivery log writes one item per delivery (a line
filed under its event's time, found by its delivery id without an index), not one per
event: each subscription's list is read from its own partition. Ingest's floor in calls
is its two conditional writes per event (no batch call takes a condition, and a
transaction doubles what each write costs) and its sends to the events queue as measured.

{targets}

## Compared with SNS and EventBridge for the same fan-out

The fan-out part alone (what sits between the queued event and the merchant's endpoint), per
million events; ingest (API, authorizer, ingest function) would be needed in front of either
alternative too.

{alternatives}

Neither alternative does the same work: SNS signs with its own scheme (not Standard
Webhooks), retries HTTP endpoints on its own policy without a per-merchant delivery log,
recover or endpoint health, and needs each endpoint to confirm the subscription; EventBridge
API destinations rate-limit per destination and retry for up to 24 h, with a dead-letter
queue but no merchant-visible log, no held deliveries and no per-event signature the merchant
can verify with a Standard Webhooks library (it adds an auth header of a connection). What
parcelhooks pays above them is those features' DynamoDB writes and the fan-out's time.
"""
