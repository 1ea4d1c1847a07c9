"""Small in-memory stand-ins for the flows' ports: the fan-out's, and the key store."""

from __future__ import annotations

import ipaddress
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from random import Random

from devstack.template import parameter_default
from parcelhooks.core.api_keys import ApiKeyRecord
from parcelhooks.core.attempts import EmailPlan
from parcelhooks.core.deliveries import DONE, AttemptRecord, DeadLetter, DeliveryJob
from parcelhooks.core.errors import SecretsUnavailableError, SecretsUnreadableError
from parcelhooks.core.health import BreakerPolicy, EndpointHealth, Limits, Observation
from parcelhooks.core.models import Subscription
from parcelhooks.core.operational import DisabledBy, OperationalEvent, WebhookEvent
from parcelhooks.delivery.fanout import Fanout, RetryPolicy
from parcelhooks.delivery.gate import EndpointGate
from parcelhooks.delivery.http.sender import WebhookRequest
from parcelhooks.delivery.outcomes import AttemptResult
from parcelhooks.delivery.settings import FANOUT_EVENT_SOURCES
from parcelhooks.delivery.settlement import Bookkeeping
from testkit.factories import NOW

# One pool for every kit: a pool per kit would leave idle threads behind each property example.
_EXECUTOR = ThreadPoolExecutor(max_workers=8)
# Pauses after 5 failures in a row, disables after an hour of failures with at least 8.
TEST_BREAKER = BreakerPolicy(
    disable_after=timedelta(hours=1), disable_min_failures=8, probe_interval=timedelta(seconds=30)
)
# The template's defaults (2 event sources at FanoutMaxConcurrency invocations each), so the
# kit's fan-out holds a lane of its own on a default endpoint as a deployed one does.
KIT_INVOCATIONS = FANOUT_EVENT_SOURCES * int(parameter_default("FanoutMaxConcurrency"))
# What a scripted sender does on a call: a status, no answer (None), a result, or an exception.
Scripted = int | None | AttemptResult | Exception


class UnavailableError(RuntimeError):
    """A fake store told to fail, as a throttled or unreachable AWS service would."""


class FakeKeyStore:
    """The API keys table in memory: each key's record by its hash."""

    def __init__(self) -> None:
        self.records: dict[str, ApiKeyRecord] = {}

    def put(self, record: ApiKeyRecord) -> None:
        self.records[record.key_hash] = record

    def find(self, key_hash: str) -> ApiKeyRecord | None:
        return self.records.get(key_hash)


class FakeSubscriptions:
    def __init__(self, subscriptions: Iterable[Subscription] = ()) -> None:
        self.items = {(s.merchant_id, s.id): s for s in subscriptions}

    def list_for_merchant(self, merchant_id: str) -> list[Subscription]:
        return [s for (m, _), s in self.items.items() if m == merchant_id]

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        return self.items.get((merchant_id, subscription_id))

    def disable(self, merchant_id: str, subscription_id: str, reason: str, at: datetime) -> bool:
        old = self.items.get((merchant_id, subscription_id))
        if old is None or not old.enabled:
            return False
        self.items[(merchant_id, subscription_id)] = old.model_copy(
            update={"enabled": False, "disabled_reason": reason, "disabled_at": at}
        )
        return True


class FakeTelemetry:
    def __init__(self) -> None:
        self.attempts: list[AttemptRecord] = []
        self.dead: list[DeadLetter] = []
        self.disables: list[tuple[str, DisabledBy]] = []
        self.unrendered_records: list[AttemptRecord] = []

    def attempted(self, record: AttemptRecord) -> None:
        self.attempts.append(record)

    def unrendered(self, record: AttemptRecord) -> None:
        self.unrendered_records.append(record)

    def dead_lettered(self, dead: DeadLetter) -> None:
        self.dead.append(dead)

    def disabled(self, subscription: Subscription, by: DisabledBy, reason: str) -> None:
        self.disables.append((subscription.id, by))


class FakeMailer:
    """SES as a list: every e-mail kept; `answers` scripts its results (accepted when empty)."""

    def __init__(self) -> None:
        self.sent: list[EmailPlan] = []
        self.answers: list[AttemptResult] = []

    async def send(self, email: EmailPlan) -> AttemptResult:
        self.sent.append(email)
        if self.answers:
            return self.answers.pop(0)
        return AttemptResult(200, 1.0, response_excerpt="accepted by Amazon SES as fake-id")


class FakeSecrets:
    """Sealed values are `sealed:<value>`, as FakeSealer makes them; opens are counted."""

    def __init__(self) -> None:
        self.opened = 0
        # "throttled": KMS asks to come back later; "disabled": the key will not open.
        self.failing: str | None = None

    def open(self, subscription: Subscription) -> dict[str, str]:
        self.opened += 1
        if self.failing == "throttled":
            raise SecretsUnavailableError("KMS ThrottlingException")
        if self.failing == "disabled":
            raise SecretsUnreadableError("KMS DisabledException")
        return {
            h.sealed: h.sealed.removeprefix("sealed:")
            for h in subscription.headers
            if h.sealed is not None
        }


class FakeSealer:
    def __init__(self) -> None:
        self.sealed: list[tuple[str, str]] = []

    def seal(self, merchant_id: str, subscription_id: str, value: str) -> str:
        self.sealed.append((merchant_id, subscription_id))
        return f"sealed:{value}"


class FakeLog:
    """A log that refuses a whole batch holding a line `refuse` picks, as BatchWriteItem does."""

    def __init__(self) -> None:
        self.attempts: list[AttemptRecord] = []
        self.refuse: Callable[[AttemptRecord], bool] = lambda record: False
        self.lookups = 0

    def record(self, attempts: Sequence[AttemptRecord]) -> None:
        if any(self.refuse(attempt) for attempt in attempts):
            raise UnavailableError("delivery log")
        self.attempts.extend(attempts)

    def delivered(self, event: WebhookEvent, subscription_ids: Sequence[str]) -> set[str]:
        self.lookups += 1
        ended = {
            a.subscription_id
            for a in self.attempts
            if a.outcome in DONE and a.event_id == event.event_id
        }
        return ended & set(subscription_ids)

    @property
    def done(self) -> set[str]:
        """Every delivery a line ended."""
        return {a.delivery_id for a in self.attempts if a.outcome in DONE}


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
        self.refuse: Callable[[DeadLetter], bool] = lambda letter: False

    def send(self, dead: Sequence[DeadLetter]) -> list[DeadLetter]:
        if self.broken:
            raise UnavailableError("dead-letter queue")
        refused = [letter for letter in dead if self.refuse(letter)]
        self.dead.extend(letter for letter in dead if letter not in refused)
        return refused


class FakeNotices:
    def __init__(self) -> None:
        self.events: list[OperationalEvent] = []

    def publish(self, events: Sequence[OperationalEvent]) -> list[str]:
        self.events.extend(events)
        return []


@dataclass
class _Endpoint:
    health: EndpointHealth = field(default_factory=EndpointHealth)
    leases: dict[str, datetime] = field(default_factory=dict)


class FakeHealthStore:
    """The endpoint health table's rules in memory (aws/endpoint_health_table.py keeps
    them in DynamoDB conditions; tests/component/test_endpoint_health.py checks both agree)."""

    def __init__(self) -> None:
        self.endpoints: dict[str, _Endpoint] = defaultdict(_Endpoint)
        self.admissions = 0
        self.reads = 0
        self.records = 0
        self._lock = threading.Lock()

    def health(self, subscription_id: str) -> EndpointHealth:
        return self.endpoints[subscription_id].health

    def admit(
        self,
        subscription_id: str,
        limits: Limits,
        *,
        pause_after_failures: int,
        lease_until: datetime,
        now: datetime,
    ) -> tuple[str | None, EndpointHealth]:
        with self._lock:
            self.admissions += 1
            endpoint = self.endpoints[subscription_id]
            endpoint.leases = {t: u for t, u in endpoint.leases.items() if u > now}
            health = replace(endpoint.health, in_flight=len(endpoint.leases))
            endpoint.health = health
            narrow = health.consecutive_failures >= pause_after_failures or health.slowed(now)
            cap = 1 if narrow else limits.max_in_flight
            pace = health.rate_next_at
            if (
                health.held_back(now)
                or len(endpoint.leases) >= cap
                or (
                    limits.interval_s is not None
                    and pace is not None
                    and pace > now + timedelta(seconds=limits.burst_s)
                )
            ):
                return None, health
            if limits.interval_s is not None:
                step = timedelta(seconds=limits.interval_s)
                pace = (pace if pace is not None and pace > now else now) + step
            token = f"lane{self.admissions}"
            endpoint.leases[token] = lease_until
            endpoint.health = replace(health, in_flight=len(endpoint.leases), rate_next_at=pace)
            return token, endpoint.health

    def read(self, subscription_id: str) -> EndpointHealth:
        with self._lock:
            self.reads += 1
            return self.endpoints[subscription_id].health

    def read_many(self, subscription_ids: Collection[str]) -> dict[str, EndpointHealth]:
        with self._lock:
            self.reads += 1
            return {id_: self.endpoints[id_].health for id_ in subscription_ids}

    def record(
        self,
        subscription_id: str,
        observation: Observation,
        *,
        now: datetime,
        hold_until: datetime | None = None,
        slow_until: datetime | None = None,
    ) -> EndpointHealth:
        with self._lock:
            self.records += 1
        return self.release(
            subscription_id, "", observation, now=now, hold_until=hold_until, slow_until=slow_until
        )

    def release(
        self,
        subscription_id: str,
        token: str,
        observation: Observation,
        *,
        now: datetime,
        hold_until: datetime | None = None,
        slow_until: datetime | None = None,
    ) -> EndpointHealth:
        with self._lock:
            endpoint = self.endpoints[subscription_id]
            endpoint.leases.pop(token, None)
            health = replace(endpoint.health, in_flight=len(endpoint.leases))
            if observation is Observation.SUCCESS:
                health = replace(
                    health,
                    last_success_at=now,
                    consecutive_failures=0,
                    failing_since=None,
                    hold_until=None,
                )
            elif observation is Observation.FAILURE:
                health = replace(
                    health,
                    last_failure_at=now,
                    failing_since=health.failing_since or now,
                    consecutive_failures=health.consecutive_failures + 1,
                    hold_until=hold_until or health.hold_until,
                )
            elif observation is Observation.THROTTLED:
                health = replace(
                    health,
                    hold_until=hold_until or health.hold_until,
                    slow_until=slow_until or health.slow_until,
                )
            elif hold_until is not None:  # NEUTRAL: only the hold
                health = replace(health, hold_until=hold_until)
            endpoint.health = health
            return health

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        with self._lock:
            endpoint = self.endpoints[subscription_id]
            endpoint.health = replace(
                endpoint.health,
                held=endpoint.health.held + held,
                pending=endpoint.health.pending + pending,
            )


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
        *,
        scripts: dict[str, list[Scripted]] | None = None,
        schedule_s: tuple[int, ...] = (1, 2, 4),
        now: datetime = NOW,
        breaker: BreakerPolicy = TEST_BREAKER,
        wait_budget_s: float = 0.0,
        invocations: int | None = KIT_INVOCATIONS,
    ) -> None:
        self.subscriptions = FakeSubscriptions(subscriptions)
        self.telemetry = FakeTelemetry()
        self.log = FakeLog()
        self.retries = FakeRetries()
        self.dead_letters = FakeDeadLetters()
        self.sender = ScriptedSender(scripts)
        self.mailer = FakeMailer()
        self.secrets = FakeSecrets()
        self.notices = FakeNotices()
        self.health = FakeHealthStore()
        self.now = now
        self.gate = EndpointGate(
            self.health,
            breaker,
            delivery_timeout_s=10,
            executor=_EXECUTOR,
            clock=lambda: self.now,
            wait_budget_s=wait_budget_s,
            invocations=invocations,
        )
        self.books = Bookkeeping(
            subscriptions=self.subscriptions,
            log=self.log,
            retries=self.retries,
            dead_letters=self.dead_letters,
            notices=self.notices,
            counts=self.gate,
            clock=lambda: self.now,
        )
        self.fanout = Fanout(
            books=self.books,
            sender=self.sender,
            mailer=self.mailer,
            secrets=self.secrets,
            gate=self.gate,
            policy=RetryPolicy(schedule_s=schedule_s, jitter=0.2),
            executor=_EXECUTOR,
            telemetry=self.telemetry,
            concurrency=16,
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
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        raise OSError(f"fake DNS: no such host {host}") from None
