"""Small in-memory stand-ins for the fan-out's ports."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from random import Random

from parcelhooks.deliveries import AttemptRecord, DeadLetter, DeliveryJob
from parcelhooks.fanout import Fanout, RetryPolicy
from parcelhooks.http_sender import WebhookRequest
from parcelhooks.models import Subscription
from parcelhooks.outcomes import AttemptResult
from tests.factories import NOW


class FakeSubscriptions:
    def __init__(self, subscriptions: Iterable[Subscription] = ()) -> None:
        self.items = {(s.merchant_id, s.id): s for s in subscriptions}

    def list_for_merchant(self, merchant_id: str) -> list[Subscription]:
        return [s for (m, _), s in self.items.items() if m == merchant_id]

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        return self.items.get((merchant_id, subscription_id))


class FakeLog:
    def __init__(self) -> None:
        self.attempts: list[AttemptRecord] = []

    def record(self, attempt: AttemptRecord) -> None:
        self.attempts.append(attempt)


class FakeRetries:
    def __init__(self) -> None:
        self.jobs: list[DeliveryJob] = []

    def schedule(self, job: DeliveryJob, now: datetime) -> None:
        self.jobs.append(job)


class FakeDeadLetters:
    def __init__(self) -> None:
        self.dead: list[DeadLetter] = []

    def send(self, dead: DeadLetter) -> None:
        self.dead.append(dead)


class ScriptedSender:
    """Answers each URL with the next status of its script (the last one repeats)."""

    def __init__(self, scripts: dict[str, list[int | None]] | None = None) -> None:
        self.scripts = scripts or {}
        self.requests: list[WebhookRequest] = []
        self._calls: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def send(self, request: WebhookRequest) -> AttemptResult:
        with self._lock:
            self.requests.append(request)
            script = self.scripts.get(request.url, [204])
            index = min(self._calls[request.url], len(script) - 1)
            self._calls[request.url] += 1
        status = script[index]
        if status is None:
            return AttemptResult(status_code=None, latency_ms=1.0, error="connection_error")
        return AttemptResult(status_code=status, latency_ms=1.0, response_excerpt="ok")


class FanoutKit:
    """A Fanout wired to fakes, with the fakes at hand for assertions."""

    def __init__(
        self,
        subscriptions: Iterable[Subscription] = (),
        scripts: dict[str, list[int | None]] | None = None,
        schedule_s: tuple[int, ...] = (1, 2, 4),
        now: datetime = NOW,
    ) -> None:
        self.subscriptions = FakeSubscriptions(subscriptions)
        self.log = FakeLog()
        self.retries = FakeRetries()
        self.dead_letters = FakeDeadLetters()
        self.sender = ScriptedSender(scripts)
        self.now = now
        self.fanout = Fanout(
            subscriptions=self.subscriptions,
            log=self.log,
            retries=self.retries,
            dead_letters=self.dead_letters,
            sender=self.sender,
            policy=RetryPolicy(schedule_s=schedule_s, jitter=0.2),
            executor=ThreadPoolExecutor(max_workers=8),
            clock=lambda: self.now,
            rng=Random(7),
        )
