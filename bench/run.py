"""Delivery-engine benchmarks; each compares against a baseline measured in the same run.

    make bench
    .venvs/dev/bin/python bench/run.py [throughput|width|isolation|coldstart|health]

Prints Markdown tables; docs/benchmarks.md keeps the latest figures.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from ipaddress import ip_network
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import aiohttp  # noqa: E402
import requests  # noqa: E402
import urllib3  # noqa: E402
from aiohttp.abc import AbstractResolver, ResolveResult  # noqa: E402
from health import BREAKER, NoGate, health  # noqa: E402
from servers import nginx_204, slow_server  # noqa: E402

from devstack.stack import build as build_stack  # noqa: E402
from devstack.template import function_environment, resources  # noqa: E402
from parcelhooks.delivery.fanout import Fanout, QueuedMessage, RetryPolicy  # noqa: E402
from parcelhooks.delivery.gate import EndpointGate  # noqa: E402
from parcelhooks.delivery.http.netguard import GuardPolicy, system_resolver  # noqa: E402
from parcelhooks.delivery.http.sender import HttpSender, WebhookRequest  # noqa: E402
from parcelhooks.delivery.outcomes import classify  # noqa: E402
from parcelhooks.delivery.settlement import Bookkeeping  # noqa: E402
from parcelhooks.delivery.signing import webhook_headers  # noqa: E402
from parcelhooks.delivery.webhook import webhook_body  # noqa: E402
from testkit.factories import shipment_event, subscription  # noqa: E402
from testkit.fakes import (  # noqa: E402
    FakeDeadLetters,
    FakeLog,
    FakeMailer,
    FakeNotices,
    FakeRetries,
    FakeSecrets,
    FakeSubscriptions,
    FakeTelemetry,
)

LOCAL = GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),))
BODY = webhook_body(shipment_event())
EXECUTOR = ThreadPoolExecutor(max_workers=16)
THROUGHPUT_N = int(os.environ.get("BENCH_N", "20000"))
RECEIVER_NAME = "receiver.bench"  # aiohttp skips its resolver for IP literals: a name uses it


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def _best_of(runs: int, measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(runs))


class PinnedResolver(AbstractResolver):
    """Answers 127.0.0.1 for one name: aiohttp's row measures no DNS (ours vets once per 30 s)."""

    def __init__(self, host: str) -> None:
        self._host = host

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"only {self._host} is pinned, not {host}")
        return [
            ResolveResult(
                hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


def throughput() -> None:
    n = THROUGHPUT_N
    event = shipment_event()
    sub = subscription(url="http://127.0.0.1:0/")
    with nginx_204() as port:
        url = f"http://127.0.0.1:{port}/hook"

        def raw() -> float:
            connection = http.client.HTTPConnection("127.0.0.1", port)
            headers = {"content-type": "application/json"}
            started = time.perf_counter()
            for _ in range(n):
                connection.request("POST", "/hook", BODY, headers)
                connection.getresponse().read()
            elapsed = time.perf_counter() - started
            connection.close()
            return elapsed

        def pooled_urllib3() -> float:
            pool = urllib3.PoolManager(retries=False)
            started = time.perf_counter()
            for _ in range(n):
                pool.request("POST", url, body=BODY, headers={"content-type": "application/json"})
            return time.perf_counter() - started

        def requests_session() -> float:
            session = requests.Session()
            started = time.perf_counter()
            for _ in range(n):
                session.post(url, data=BODY, headers={"content-type": "application/json"})
            return time.perf_counter() - started

        def aiohttp_session() -> float:
            named_url = f"http://{RECEIVER_NAME}:{port}/hook"

            async def post_all() -> None:
                connector = aiohttp.TCPConnector(resolver=PinnedResolver(RECEIVER_NAME))
                async with aiohttp.ClientSession(connector=connector) as session:
                    for _ in range(n):
                        async with session.post(
                            named_url, data=BODY, headers={"content-type": "application/json"}
                        ) as response:
                            await response.read()
                            assert response.status == 204, response.status

            started = time.perf_counter()
            asyncio.run(post_all())
            return time.perf_counter() - started

        def parcelhooks_path() -> float:
            sender = HttpSender(
                connect_timeout_s=3,
                total_timeout_s=10,
                max_connections=8,
                policy=LOCAL,
                resolve=system_resolver,
            )

            async def deliver_all() -> None:
                for _ in range(n):
                    body = webhook_body(event)
                    headers = webhook_headers(
                        [s.secret for s in sub.secrets], event.event_id, int(time.time()), body
                    )
                    result = await sender.send(WebhookRequest(url, headers, body))
                    assert classify(result).value == "delivered", result

            started = time.perf_counter()
            asyncio.run(deliver_all())
            return time.perf_counter() - started

        rows = [
            ("raw `http.client`, keep-alive (baseline)", _best_of(3, raw)),
            ("`urllib3.PoolManager`", _best_of(3, pooled_urllib3)),
            ("`requests.Session`", _best_of(3, requests_session)),
            ("`aiohttp.ClientSession`, pinned resolver", _best_of(3, aiohttp_session)),
            ("parcelhooks: serialize + sign + guard + POST", _best_of(3, parcelhooks_path)),
        ]
    baseline = rows[0][1]
    print(f"\n### Throughput: {n:,} sequential POSTs to nginx answering 204, one thread\n")
    print("| path | deliveries/s | vs raw |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {_rate(n, seconds)} | {baseline / seconds:.2f} |")


def _fanout(subscriptions: list, concurrency: int, timeout_s: float, log: FakeLog) -> Fanout:  # type: ignore[type-arg]
    gate = EndpointGate(
        NoGate(),
        BREAKER,
        delivery_timeout_s=timeout_s,
        executor=EXECUTOR,
        clock=lambda: datetime.now(UTC),
    )
    return Fanout(
        books=Bookkeeping(
            subscriptions=FakeSubscriptions(subscriptions),
            log=log,
            retries=FakeRetries(),
            dead_letters=FakeDeadLetters(),
            notices=FakeNotices(),
            counts=gate,
            clock=lambda: datetime.now(UTC),
        ),
        sender=HttpSender(
            connect_timeout_s=min(3, timeout_s),
            total_timeout_s=timeout_s,
            max_connections=concurrency,
            policy=LOCAL,
            resolve=system_resolver,
        ),
        # The delivery engine alone: endpoint health has its own benchmark (bench/health.py).
        mailer=FakeMailer(),
        secrets=FakeSecrets(),
        gate=gate,
        policy=RetryPolicy(schedule_s=(5, 300), jitter=0.2),
        executor=EXECUTOR,
        telemetry=FakeTelemetry(),
        concurrency=concurrency,
        rng=Random(1),
    )


class TimedLog(FakeLog):
    """When each POST was answered (start + latency), for completion-latency percentiles."""

    def __init__(self) -> None:
        super().__init__()
        self.finished: dict[str, float] = {}

    def record(self, attempts) -> None:  # type: ignore[no-untyped-def]
        super().record(attempts)
        for attempt in attempts:
            answered = attempt.attempted_at.timestamp() + attempt.latency_ms / 1000
            self.finished[attempt.subscription_id + attempt.event_id] = answered


def _bodies(count: int, round_: int) -> list[str]:
    """New events each round, so no delivery is skipped as already done."""
    return [
        shipment_event(event_id=f"evt_{index}_{round_}", merchant_id=f"m{index}").model_dump_json()
        for index in range(count)
    ]


def _batch(urls_per_event: list[list[str]]) -> tuple[list, list[str]]:  # type: ignore[type-arg]
    subscriptions = []
    bodies = []
    for index, urls in enumerate(urls_per_event):
        merchant = f"m{index}"
        subscriptions += [
            subscription(id=f"sub_{index}_{i}", merchant_id=merchant, url=url)
            for i, url in enumerate(urls)
        ]
        bodies.append(
            shipment_event(event_id=f"evt_{index}", merchant_id=merchant).model_dump_json()
        )
    return subscriptions, bodies


async def _process(fanout: Fanout, bodies: list[str]) -> None:
    failed = await fanout.handle_batch(
        [QueuedMessage(f"msg-{i}", body) for i, body in enumerate(bodies)]
    )
    assert not failed, failed


def _run_batch(fanout: Fanout, bodies: list[str]) -> float:
    started = time.perf_counter()
    asyncio.run(_process(fanout, bodies))
    return time.perf_counter() - started


def width() -> None:
    print("\n### Width: one batch of 10 events x 100 subscriptions = 1,000 deliveries,")
    print("receivers answer after 100 ms (floor 0.1 s; one after another: 100 s)\n")
    print("| concurrency | first batch (new connections) | warm batch (kept-alive) | delivered |")
    print("|---:|---:|---:|---:|")
    with slow_server(0.1) as port:
        urls = [[f"http://127.0.0.1:{port}/e{e}/s{s}" for s in range(100)] for e in range(10)]
        subscriptions, bodies = _batch(urls)
        for concurrency in (64, 128, 256, 512, 1000):
            log = FakeLog()
            fanout = _fanout(subscriptions, concurrency, 10, log)
            cold = _run_batch(fanout, bodies)
            warm = _run_batch(fanout, _bodies(10, 1))
            ok = sum(1 for a in log.attempts if a.outcome == "delivered")
            print(f"| {concurrency} | {cold:.2f} s | {warm:.2f} s | {ok}/2000 |")


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def isolation() -> None:
    timeout_s = 2.0
    print("\n### Isolation: 1,000 deliveries, receivers answer after 100 ms;")
    print("latency = from the start of the batch to the receiver's answer;")
    print(
        f"10 % of them hang past the {timeout_s:.0f} s timeout. Completion latency of the others\n"
    )
    print("| concurrency | p50 without hangers | p99 without | p50 with | p99 with | p99 ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    with slow_server(0.1) as fast, slow_server(60) as hanging:
        for concurrency in (128, 256, 512, 1000):
            results = []
            for with_hangers in (False, True):
                urls = []
                for e in range(10):
                    row = []
                    for s in range(100):
                        port = hanging if with_hangers and s % 10 == 0 else fast
                        row.append(f"http://127.0.0.1:{port}/e{e}/s{s}")
                    urls.append(row)
                subscriptions, bodies = _batch(urls)
                log = TimedLog()
                fanout = _fanout(subscriptions, concurrency, timeout_s, log)
                _run_batch(fanout, bodies)  # warm the pools, as a warm Lambda would be
                log.finished.clear()
                started = time.time()
                asyncio.run(_process(fanout, _bodies(10, 1)))
                latencies = [
                    log.finished[sub.id + f"evt_{sub.merchant_id[1:]}_1"] - started
                    for sub in subscriptions
                    if f":{hanging}/" not in sub.url
                ]
                results.append((_percentile(latencies, 50), _percentile(latencies, 99)))
            (p50a, p99a), (p50b, p99b) = results
            print(
                f"| {concurrency} | {p50a * 1000:.0f} ms | {p99a * 1000:.0f} ms "
                f"| {p50b * 1000:.0f} ms | {p99b * 1000:.0f} ms | {p99b / p99a:.2f} |"
            )


RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "dateutil", "six.py", "jmespath", "urllib3")


def _import_ms(module: str, paths: list[str], env: dict[str, str] | None = None) -> float:
    result = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", f"import {module}"],
        env={"PYTHONPATH": os.pathsep.join(paths), "PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    last = result.stderr.strip().splitlines()[-1]
    return int(last.split("|")[1]) / 1000


def _function_env(function: str) -> dict[str, str]:
    names = [
        *resources("AWS::DynamoDB::Table"),
        *resources("AWS::SQS::Queue"),
        *resources("AWS::KMS::Key"),
    ]
    return {
        "AWS_DEFAULT_REGION": "us-east-1",
        **function_environment(function, {n: n for n in names}),
    }


def coldstart() -> None:
    build = build_stack()  # what Lambda would load: the layer and function as SAM builds them
    layer = build / "ParcelhooksLayer" / "python"
    site = Path(urllib3.__file__).parent.parent
    with tempfile.TemporaryDirectory() as runtime:
        # What the python3.13 Lambda runtime offers: boto3 and its dependencies only.
        for name in RUNTIME_PROVIDED:
            os.symlink(site / name, Path(runtime) / name)
        rows = []
        for label, module, paths, function in [
            ("`import boto3` (runtime, baseline)", "boto3", [runtime], None),
            ("`import pydantic`", "pydantic", [str(layer), runtime], None),
            ("`import urllib3`", "urllib3", [str(layer), runtime], None),
            (
                "`functions/fanout/app.py` with its layer",
                "app",
                [str(build / "FanoutFunction"), str(layer), runtime],
                "FanoutFunction",
            ),
            (
                "`functions/ingest/app.py` with its layer",
                "app",
                [str(build / "IngestFunction"), str(layer), runtime],
                "IngestFunction",
            ),
        ]:
            # Handlers check their settings on import: give them the template's variables.
            env = _function_env(function) if function else None
            _import_ms(module, paths, env)  # write .pyc files first, as the deployed layer has
            samples = [_import_ms(module, paths, env) for _ in range(7)]
            rows.append((label, statistics.median(samples), min(samples)))
    print("\n### Cold start: `python -X importtime`, Lambda-like sys.path, median of 7\n")
    print("| import | median | best |")
    print("|---|---:|---:|")
    for label, median, best in rows:
        print(f"| {label} | {median:.0f} ms | {best:.0f} ms |")


BENCHES = {
    "throughput": throughput,
    "width": width,
    "isolation": isolation,
    "coldstart": coldstart,
    "health": health,
}


def main() -> None:
    chosen = sys.argv[1:] or list(BENCHES)
    print(
        f"parcelhooks benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    for name in chosen:
        BENCHES[name]()


if __name__ == "__main__":
    main()
