"""What the fan-out needs from the world, as protocols: AWS adapters implement them in
production (aws/), small fakes in the unit tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from parcelhooks.core.attempts import EmailPlan
from parcelhooks.core.deliveries import AttemptRecord, DeadLetter, DeliveryJob
from parcelhooks.core.models import Subscription
from parcelhooks.core.operational import DisabledBy, OperationalEvent, WebhookEvent
from parcelhooks.delivery.http.sender import WebhookRequest
from parcelhooks.delivery.outcomes import AttemptResult

if TYPE_CHECKING:
    from parcelhooks.delivery.settlement import Settlement


class SubscriptionSource(Protocol):
    def list_for_merchant(self, merchant_id: str) -> list[Subscription]: ...

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None: ...

    def disable(self, merchant_id: str, subscription_id: str, reason: str, at: datetime) -> bool:
        """Whether this call disabled it (False: already disabled, or deleted)."""
        ...


class DeliveryLog(Protocol):
    def record(self, attempts: Sequence[AttemptRecord]) -> None: ...

    def delivered(self, event: WebhookEvent, subscription_ids: Sequence[str]) -> set[str]:
        """The subscriptions whose delivery of the event already ended (the log has the
        line that ended it), so processing an event again sends no duplicate."""
        ...


class RetryScheduler(Protocol):
    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        """Queue the jobs; return those that could not be queued."""
        ...


class DeadLetterSink(Protocol):
    def send(self, dead: Sequence[DeadLetter]) -> list[DeadLetter]:
        """Return the letters the queue kept refusing (the others are in it)."""
        ...


class NoticeSink(Protocol):
    def publish(self, events: Sequence[OperationalEvent]) -> list[str]:
        """Return the event ids that could not be queued."""
        ...


class Books(Protocol):
    """The fan-out's bookkeeping as one port (delivery/settlement.py `Bookkeeping` puts the
    stores above behind it; blocking calls, made off the event loop)."""

    def subscriptions_of(self, merchant_id: str) -> list[Subscription]: ...

    def ended(self, event: WebhookEvent, subscription_ids: Sequence[str]) -> set[str]: ...

    def settle(self, settlements: Mapping[str, Settlement]) -> dict[str, Exception]:
        """Write what a batch's attempts decided, by message; the messages that must come
        back (SQS hands them over again), each with why."""
        ...


class Sender(Protocol):
    async def send(self, request: WebhookRequest) -> AttemptResult: ...


class Mailer(Protocol):
    async def send(self, email: EmailPlan) -> AttemptResult:
        """SES's answer as an attempt's result; never raises."""
        ...


class SecretValues(Protocol):
    def open(self, subscription: Subscription) -> dict[str, str]:
        """The subscription's sealed header values opened: sealed -> value (blocking).
        Raises core.errors.SecretsUnavailableError or SecretsUnreadableError."""
        ...


class Telemetry(Protocol):
    def attempted(self, record: AttemptRecord) -> None: ...

    def unrendered(self, record: AttemptRecord) -> None:
        """A delivery its destination's templates could not render: nothing was sent."""
        ...

    def dead_lettered(self, dead: DeadLetter) -> None: ...

    def disabled(self, subscription: Subscription, by: DisabledBy, reason: str) -> None: ...
