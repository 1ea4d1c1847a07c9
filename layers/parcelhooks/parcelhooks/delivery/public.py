"""What another flow may use of delivery, and nothing more.

The merchant API saves subscriptions and shows what the fan-out sends: it vets a URL with
the same SSRF guard, makes the signing secrets, renders a webhook's payload and body,
names an endpoint's health state, and reads the guard's and breaker's settings that both
functions share. Everything else in delivery/ is the fan-out's own.
"""

from parcelhooks.delivery.health import HealthState, health_state
from parcelhooks.delivery.http.netguard import (
    GuardPolicy,
    Resolver,
    UnsafeTargetError,
    system_resolver,
    vet,
)
from parcelhooks.delivery.payloads import OPERATIONAL_PAYLOADS, WEBHOOK_TYPES, WebhookPayload
from parcelhooks.delivery.settings import BreakerSettings, GuardSettings
from parcelhooks.delivery.signing import SECRET_PREFIX, generate_secret
from parcelhooks.delivery.webhook import webhook_body

__all__ = [
    "OPERATIONAL_PAYLOADS",
    "SECRET_PREFIX",
    "WEBHOOK_TYPES",
    "BreakerSettings",
    "GuardPolicy",
    "GuardSettings",
    "HealthState",
    "Resolver",
    "UnsafeTargetError",
    "WebhookPayload",
    "generate_secret",
    "health_state",
    "system_resolver",
    "vet",
    "webhook_body",
]
