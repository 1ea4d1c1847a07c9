"""What endpoint health costs per delivery: its DynamoDB calls, and throughput with and
without it, the rest of the bookkeeping (the delivery log) on a real DynamoDB
API (MiniStack on 127.0.0.1) in both rows."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from random import Random
from typing import Any

import boto3
from servers import nginx_204

from devstack.stack import FAKE_CREDENTIALS, MiniStack, free_port
from devstack.template import resources
from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.aws.endpoint_health_table import EndpointHealthTable
from parcelhooks.core.health import BreakerPolicy, EndpointHealth, Limits, Observation
from parcelhooks.delivery.fanout import Fanout, RetryPolicy
from parcelhooks.delivery.gate import EndpointGate
from parcelhooks.delivery.http.netguard import GuardPolicy, system_resolver
from parcelhooks.delivery.http.sender import HttpSender
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
TABLES = ("DeliveriesTable", "IdempotencyTable", "EndpointHealthTable")
BREAKER = BreakerPolicy(
    disable_after=timedelta(hours=120), disable_min_failures=10, probe_interval=timedelta(60)
)


class NoGate:
    """Every lane granted, nothing stored: the fan-out as it was without endpoint health."""

    def admit(self, subscription_id: str, limits: Limits, **_: Any) -> tuple[str, EndpointHealth]:
        return "lane", EndpointHealth()

    def release(
        self, subscription_id: str, token: str, observation: Observation, **_: Any
    ) -> EndpointHealth:
        return EndpointHealth()

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        return None


def _tables(endpoint: str) -> dict[str, Any]:
    dynamodb = boto3.resource(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", **_credentials()
    )
    made = {}
    for name, properties in resources("AWS::DynamoDB::Table").items():
        if name not in TABLES:
            continue
        keys = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
        dynamodb.meta.client.create_table(
            TableName=name, **{k: properties[k] for k in keys if k in properties}
        )
        made[name] = dynamodb.Table(name)
    return made


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def _fanout(tables: dict[str, Any], store: Any, url: str, executor: ThreadPoolExecutor) -> Fanout:
    subscriptions = [
        subscription(id=f"sub_{i}", merchant_id=f"m{i}", url=url) for i in range(ENDPOINTS)
    ]
    log = DeliveryLogTable(tables["DeliveriesTable"], timedelta(days=30))
    return Fanout(
        subscriptions=FakeSubscriptions(subscriptions),
        marks=log,
        log=log,
        retries=FakeRetries(),
        dead_letters=FakeDeadLetters(),
        notices=FakeNotices(),
        sender=HttpSender(
            connect_timeout_s=3,
            total_timeout_s=10,
            max_connections=64,
            policy=GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),)),
            resolve=system_resolver,
        ),
        mailer=FakeMailer(),
        secrets=FakeSecrets(),
        gate=EndpointGate(
            store,
            BREAKER,
            delivery_timeout_s=10,
            executor=executor,
            clock=lambda: datetime.now(UTC),
        ),
        policy=RetryPolicy(schedule_s=(5, 300), jitter=0.2),
        executor=executor,
        telemetry=FakeTelemetry(),
        concurrency=256,
        rng=Random(1),
    )


def _run(fanout: Fanout, label: str) -> float:
    """Seconds for EVENTS events, BATCH at a time (one invocation's batch), one endpoint each."""

    async def one_batch(first: int) -> None:
        bodies = [
            shipment_event(
                event_id=f"evt_{label}_{i}", merchant_id=f"m{i % ENDPOINTS}"
            ).model_dump_json()
            for i in range(first, first + BATCH)
        ]
        await asyncio.gather(*(fanout.handle_message(body) for body in bodies))

    async def all_batches() -> None:
        for first in range(0, EVENTS, BATCH):
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
            rows = []
            with ThreadPoolExecutor(max_workers=16) as executor:
                for label, store in (
                    ("without endpoint health (baseline)", NoGate()),
                    ("with endpoint health", EndpointHealthTable(tables["EndpointHealthTable"])),
                ):
                    fanout = _fanout(tables, store, url, executor)
                    _run(fanout, f"warm-{len(rows)}")  # pools and tables warm, as in a warm Lambda
                    calls.clear()
                    seconds = _run(fanout, f"run-{len(rows)}")
                    rows.append((label, seconds, dict(calls)))
        finally:
            ministack.stop()
    baseline = rows[0][1]
    print(f"\n### Endpoint health: {EVENTS:,} deliveries to {ENDPOINTS} endpoints, batches of")
    print(f"{BATCH}, nginx answering 204; delivery log on MiniStack's DynamoDB\n")
    print("| fan-out | deliveries/s | vs baseline | DynamoDB calls per delivery |")
    print("|---|---:|---:|---|")
    for label, seconds, counted in rows:
        per = ", ".join(f"{op} {n / EVENTS:.2f}" for op, n in sorted(counted.items()))
        print(f"| {label} | {EVENTS / seconds:,.0f} | {baseline / seconds:.2f} | {per} |")
