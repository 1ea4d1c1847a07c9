"""Small in-memory stand-ins for the fan-out's ports."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from random import Random

from parcelhooks.core.models import Subscription
from parcelhooks.delivery.fanout import Fanout, RetryPolicy
from parcelhooks.delivery.outcomes import AttemptResult
from parcelhooks.delivery.records import AttemptRecord, DeadLetter, DeliveryJob
from parcelhooks.delivery.sender import WebhookRequest
from tests.factories import NOW

# One pool for every kit: a pool per kit would leave idle threads behind each property example.
_EXECUTOR = ThreadPoolExecutor(max_workers=8)
# What a scripted sender does on a call: a status, no answer (None), a result, or an exception.
Scripted = int | None | AttemptResult | Exception


class UnavailableError(RuntimeError):
    """A fake store told to fail, as a throttled or unreachable AWS service would."""


class FakeSubscriptions:
    def __init__(self, subscriptions: Iterable[Subscription] = ()) -> None:
        self.items = {(s.merchant_id, s.id): s for s in subscriptions}

    def list_for_merchant(self, merchant_id: str) -> list[Subscription]:
        return [s for (m, _), s in self.items.items() if m == merchant_id]

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        return self.items.get((merchant_id, subscription_id))

    def disable(self, merchant_id: str, subscription_id: str, reason: str, at: datetime) -> None:
        old = self.items[(merchant_id, subscription_id)]
        self.items[(merchant_id, subscription_id)] = old.model_copy(
            update={"enabled": False, "disabled_reason": reason, "disabled_at": at}
        )


class FakeMarks:
    def __init__(self) -> None:
        self.done: set[str] = set()
        self.broken = False

    def delivered(self, delivery_ids: Sequence[str]) -> set[str]:
        return self.done & set(delivery_ids)

    def mark_delivered(self, delivery_ids: Sequence[str], at: datetime) -> None:
        if self.broken:
            raise UnavailableError("marks")
        self.done.update(delivery_ids)


class FakeTelemetry:
    def __init__(self) -> None:
        self.attempts: list[AttemptRecord] = []
        self.dead: list[DeadLetter] = []

    def attempted(self, record: AttemptRecord) -> None:
        self.attempts.append(record)

    def dead_lettered(self, dead: DeadLetter) -> None:
        self.dead.append(dead)


class FakeLog:
    """A log that refuses a whole batch holding a line `refuse` picks, as BatchWriteItem does."""

    def __init__(self) -> None:
        self.attempts: list[AttemptRecord] = []
        self.refuse: Callable[[AttemptRecord], bool] = lambda record: False

    def record(self, attempts: Sequence[AttemptRecord]) -> None:
        if any(self.refuse(attempt) for attempt in attempts):
            raise UnavailableError("delivery log")
        self.attempts.extend(attempts)


class FakeRetries:
    def __init__(self) -> None:
        self.jobs: list[DeliveryJob] = []
        self.refuse = False
        self.broken = False

    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        if self.broken:
            raise UnavailableError("retry queue")
        if self.refuse:
            return list(jobs)
        self.jobs.extend(jobs)
        return []


class FakeDeadLetters:
    def __init__(self) -> None:
        self.dead: list[DeadLetter] = []
        self.broken = False

    def send(self, dead: Sequence[DeadLetter]) -> None:
        if self.broken:
            raise UnavailableError("dead-letter queue")
        self.dead.extend(dead)


class ScriptedSender:
    """Answers each URL with the next step of its script (the last one repeats): a status,
    None for no answer, an AttemptResult as it is, or an exception to raise."""

    def __init__(self, scripts: dict[str, list[Scripted]] | None = None) -> None:
        self.scripts = scripts or {}
        self.requests: list[WebhookRequest] = []
        self._calls: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    async def send(self, request: WebhookRequest) -> AttemptResult:
        with self._lock:
            self.requests.append(request)
            script = self.scripts.get(request.url, [204])
            index = min(self._calls[request.url], len(script) - 1)
            self._calls[request.url] += 1
        step = script[index]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, AttemptResult):
            return step
        if step is None:
            return AttemptResult(status_code=None, latency_ms=1.0, error="connection_error")
        return AttemptResult(status_code=step, latency_ms=1.0, response_excerpt="ok")


class FanoutKit:
    """A Fanout wired to fakes, with the fakes at hand for assertions."""

    def __init__(
        self,
        subscriptions: Iterable[Subscription] = (),
        scripts: dict[str, list[Scripted]] | None = None,
        schedule_s: tuple[int, ...] = (1, 2, 4),
        now: datetime = NOW,
    ) -> None:
        self.subscriptions = FakeSubscriptions(subscriptions)
        self.marks = FakeMarks()
        self.telemetry = FakeTelemetry()
        self.log = FakeLog()
        self.retries = FakeRetries()
        self.dead_letters = FakeDeadLetters()
        self.sender = ScriptedSender(scripts)
        self.now = now
        self.fanout = Fanout(
            subscriptions=self.subscriptions,
            marks=self.marks,
            log=self.log,
            retries=self.retries,
            dead_letters=self.dead_letters,
            sender=self.sender,
            policy=RetryPolicy(schedule_s=schedule_s, jitter=0.2),
            executor=_EXECUTOR,
            telemetry=self.telemetry,
            max_in_flight=16,
            clock=lambda: self.now,
            rng=Random(7),
        )


FAKE_DNS: dict[str, list[str]] = {
    "hooks.example.com": ["93.184.216.34"],
    "erp.example.com": ["93.184.216.34"],
    "a.example": ["93.184.216.35"],
    "b.example": ["93.184.216.36"],
    "internal.example.com": ["10.0.0.7"],
    "mixed.example.com": ["93.184.216.34", "192.168.1.10"],
    "rebind.example.com": ["127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
    "v6-private.example.com": ["fd12:3456:789a::1"],
}


def fake_resolver(host: str, port: int) -> list[str]:
    """DNS without a network: names from FAKE_DNS, IP literals as themselves."""
    if host in FAKE_DNS:
        return FAKE_DNS[host]
    try:
        import ipaddress

        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        raise OSError(f"fake DNS: no such host {host}") from None
