"""The fan-out's DynamoDB calls per delivery, and its throughput: without endpoint health
(the baseline), as it was before the cost work (a lease from the EndpointHealth item per
delivery, a success mark written per success and read per message), and as it is (each
invocation's own share of a healthy endpoint's lanes, the log as the success mark, a first
sight of an event asking nothing). Every row writes the delivery log to a real DynamoDB API
(MiniStack on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from random import Random
from typing import Any

import boto3
from servers import nginx_204

from devstack.stack import FAKE_CREDENTIALS, MiniStack, free_port
from devstack.template import parameter_default, resources, with_default_conditions
from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.endpoint_health_table import EndpointHealthTable
from parcelhooks.core.deliveries import AttemptRecord, delivery_id_of
from parcelhooks.core.health import BreakerPolicy, EndpointHealth, Limits, Observation
from parcelhooks.core.operational import WebhookEvent
from parcelhooks.delivery.fanout import Fanout, QueuedMessage, RetryPolicy
from parcelhooks.delivery.gate import EndpointGate
from parcelhooks.delivery.http.netguard import GuardPolicy, system_resolver
from parcelhooks.delivery.http.sender import HttpSender
from parcelhooks.delivery.settings import FANOUT_EVENT_SOURCES
from parcelhooks.delivery.settlement import Bookkeeping
from testkit.factories import shipment_event, subscription
from testkit.fakes import (
    FakeDeadLetters,
    FakeMailer,
    FakeNotices,
    FakeRetries,
    FakeSecrets,
    FakeSubscriptions,
    FakeTelemetry,
)

EVENTS = int(os.environ.get("BENCH_HEALTH_N", "1000"))
ENDPOINTS = 50
BATCH = 10  # messages per Lambda invocation, as the event sources give them
TABLES = ("DeliveriesTable", "EndpointHealthTable")
# Where the design before wrote its success marks (a table the template no longer has).
SUCCESS_MARKS = "SuccessMarksTable"
BREAKER = BreakerPolicy(
    disable_after=timedelta(hours=120), disable_min_failures=10, probe_interval=timedelta(60)
)


@dataclass(frozen=True)
class Row:
    label: str
    health: bool  # endpoint health kept in its table (else every lane granted, nothing stored)
    invocations: int | None  # the fan-out's invocations at once (None: no share, a lease each)
    marks_before: bool  # a success mark per success (the design before) or the log as the mark
    first_sight: bool  # the message is a first receive of an event ingest queued first
    # Each message settled on its own (the design before), or the invocation's batch at once.
    per_message: bool = False
    # The log may have lines of delivery ids from before they held their event's time
    # (DeliveryLogIndex: keys, the default): a delivery with no line asks that index too.
    legacy_ids: bool = True


# The template's defaults: 2 event sources at FanoutMaxConcurrency (7) invocations each.
INVOCATIONS = FANOUT_EVENT_SOURCES * int(parameter_default("FanoutMaxConcurrency"))
ROWS = (
    Row("without endpoint health (baseline)", False, None, False, True),
    Row(
        "before: a lease per delivery, a success mark per success, each message settled alone",
        True,
        None,
        True,
        False,
        per_message=True,
    ),
    Row("now: lanes of the invocation's own, the log as the mark", True, INVOCATIONS, False, True),
    Row(
        "now, an event not marked first-queued (the log asked, no line yet)",
        True,
        INVOCATIONS,
        False,
        False,
    ),
    Row(
        "the same, DeliveryLogIndex=none (no legacy ids to ask about)",
        True,
        INVOCATIONS,
        False,
        False,
        legacy_ids=False,
    ),
)


class NoGate:
    """Every lane granted, nothing stored: the fan-out as it was without endpoint health."""

    def read_many(self, subscription_ids: Collection[str]) -> dict[str, EndpointHealth]:
        return {id_: EndpointHealth() for id_ in subscription_ids}

    def admit(
        self, subscription_id: str, limits: Limits, **_: Any
    ) -> tuple[str | None, EndpointHealth]:
        return "lane", EndpointHealth()

    def release(
        self, subscription_id: str, token: str, observation: Observation, **_: Any
    ) -> EndpointHealth:
        return EndpointHealth()

    def record(self, subscription_id: str, observation: Observation, **_: Any) -> EndpointHealth:
        return EndpointHealth()

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        return None


def _tables(endpoint: str) -> dict[str, Any]:
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    made = {}
    for name, written in resources("AWS::DynamoDB::Table").items():
        if name not in TABLES:
            continue
        properties: dict[str, Any] = with_default_conditions(written)  # type: ignore[assignment]
        keys = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
        dynamodb.meta.client.create_table(
            TableName=name, **{k: properties[k] for k in keys if k in properties}
        )
        made[name] = dynamodb.Table(name)
    dynamodb.meta.client.create_table(
        TableName=SUCCESS_MARKS,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    made[SUCCESS_MARKS] = dynamodb.Table(SUCCESS_MARKS)
    return made


class SuccessMarksBefore:
    """The design before, reproduced for the comparison: each success also wrote a
    `delivered#<id>` item to the Idempotency table, and every message read its deliveries'
    items back with one BatchGetItem."""

    def __init__(self, log: DeliveryLogTable, table: Any) -> None:
        self._log = log
        self._table = table

    def record(self, attempts: Sequence[AttemptRecord]) -> None:
        with self._table.batch_writer(overwrite_by_pkeys=["id"]) as batch:
            for attempt in attempts:
                if attempt.outcome == "delivered":
                    batch.put_item(Item={"id": f"delivered#{attempt.delivery_id}"})
        self._log.record(attempts)

    def delivered(self, event: WebhookEvent, subscription_ids: Sequence[str]) -> set[str]:
        ids = {delivery_id_of(event, s): s for s in dict.fromkeys(subscription_ids)}
        keys = [{"id": f"delivered#{i}"} for i in ids]
        response = self._table.meta.client.batch_get_item(
            RequestItems={self._table.name: {"Keys": keys}}
        )
        items = response.get("Responses", {}).get(self._table.name, [])
        return {ids[str(item["id"]).removeprefix("delivered#")] for item in items}


def _fanout(
    tables: dict[str, Any],
    row: Row,
    url: str,
    executor: ThreadPoolExecutor,
) -> Fanout:
    subscriptions = [
        subscription(id=f"sub_{i}", merchant_id=f"m{i}", url=url) for i in range(ENDPOINTS)
    ]
    log = DeliveryLogTable(tables["DeliveriesTable"], timedelta(days=30), legacy_ids=row.legacy_ids)
    books: DeliveryLogTable | SuccessMarksBefore = (
        SuccessMarksBefore(log, tables[SUCCESS_MARKS]) if row.marks_before else log
    )
    store: EndpointHealthTable | NoGate = (
        EndpointHealthTable(tables["EndpointHealthTable"]) if row.health else NoGate()
    )
    gate = EndpointGate(
        store,
        BREAKER,
        delivery_timeout_s=10,
        executor=executor,
        clock=lambda: datetime.now(UTC),
        invocations=row.invocations,
    )
    return Fanout(
        books=Bookkeeping(
            subscriptions=FakeSubscriptions(subscriptions),
            log=books,
            retries=FakeRetries(),
            dead_letters=FakeDeadLetters(),
            notices=FakeNotices(),
            counts=gate,
            clock=lambda: datetime.now(UTC),
        ),
        sender=HttpSender(
            connect_timeout_s=3,
            total_timeout_s=10,
            max_connections=64,
            policy=GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),)),
            resolve=system_resolver,
        ),
        mailer=FakeMailer(),
        secrets=FakeSecrets(),
        gate=gate,
        policy=RetryPolicy(schedule_s=(5, 300), jitter=0.2),
        executor=executor,
        telemetry=FakeTelemetry(),
        concurrency=256,
        rng=Random(1),
    )


def _run(fanout: Fanout, label: str, row: Row) -> float:
    """Seconds for EVENTS events, BATCH at a time (one invocation's batch), one endpoint each."""

    async def one_batch(first: int) -> None:
        bodies = [
            shipment_event(
                event_id=f"evt_{label}_{i}", merchant_id=f"m{i % ENDPOINTS}"
            ).model_dump_json()
            for i in range(first, first + BATCH)
        ]
        if row.per_message:
            await asyncio.gather(
                *(fanout.handle_message(body, first_sight=row.first_sight) for body in bodies)
            )
            return
        failed = await fanout.handle_batch(
            [QueuedMessage(f"msg-{i}", body, row.first_sight) for i, body in enumerate(bodies)]
        )
        assert not failed, failed

    async def all_batches() -> None:
        for first in range(0, EVENTS, BATCH):
            fanout.begin_invocation()
            await one_batch(first)

    started = time.perf_counter()
    asyncio.run(all_batches())
    return time.perf_counter() - started


def health() -> None:
    with tempfile.TemporaryDirectory() as workdir, nginx_204() as port:
        ministack = MiniStack(port=free_port(), workdir=Path(workdir))
        ministack.start()
        try:
            tables = _tables(ministack.endpoint)
            calls: Counter[str] = Counter()
            client = tables["DeliveriesTable"].meta.client
            client.meta.events.register(
                "before-call.dynamodb", lambda model, **_: calls.update([model.name])
            )
            url = f"http://127.0.0.1:{port}/hook"
            rows: list[tuple[str, float, dict[str, int]]] = []
            with ThreadPoolExecutor(max_workers=16) as executor:
                for row in ROWS:
                    fanout = _fanout(tables, row, url, executor)
                    # Pools and tables warm, as in a warm Lambda.
                    _run(fanout, f"warm-{len(rows)}", row)
                    calls.clear()
                    seconds = _run(fanout, f"run-{len(rows)}", row)
                    rows.append((row.label, seconds, dict(calls)))
        finally:
            ministack.stop()
    baseline = rows[0][1]
    print(f"\n### Endpoint health: {EVENTS:,} deliveries to {ENDPOINTS} endpoints, batches of")
    print(f"{BATCH}, nginx answering 204; delivery log on MiniStack's DynamoDB\n")
    print("| fan-out | deliveries/s | vs baseline | DynamoDB calls per delivery | of them |")
    print("|---|---:|---:|---:|---|")
    for label, seconds, counted in rows:
        per = ", ".join(f"{op} {n / EVENTS:.2f}" for op, n in sorted(counted.items()))
        every = sum(counted.values()) / EVENTS
        speed = f"{EVENTS / seconds:,.0f} | {baseline / seconds:.2f}"
        print(f"| {label} | {speed} | {every:.2f} | {per} |")
