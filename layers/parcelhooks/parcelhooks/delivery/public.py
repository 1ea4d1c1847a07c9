"""What another flow may use of delivery, and nothing more.

The merchant API saves subscriptions and shows what the fan-out sends: it vets a URL with
the same SSRF guard, checks filters and templates with the fan-out's own code and renders
the exact request a destination would get, makes the signing secrets, renders a webhook's
payload and body,
names an endpoint's health state, and reads the guard's and breaker's settings that both
functions share. Everything else in delivery/ is the fan-out's own.
"""

from parcelhooks.core.attempts import EmailPlan
from parcelhooks.delivery.destination import (
    MASKED,
    HttpRequestPlan,
    RenderError,
    basic_auth_value,
    envelope_of,
    masked_opener,
    render_email_from,
    render_http_from,
    template_variables,
)
from parcelhooks.delivery.filters import FilterVerdict, check_filter, explain
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
from parcelhooks.delivery.templates import check_url_template, has_placeholders, origin_of
from parcelhooks.delivery.webhook import DATA_FIELDS, webhook_body

__all__ = [
    "DATA_FIELDS",
    "MASKED",
    "OPERATIONAL_PAYLOADS",
    "SECRET_PREFIX",
    "WEBHOOK_TYPES",
    "BreakerSettings",
    "EmailPlan",
    "FilterVerdict",
    "GuardPolicy",
    "GuardSettings",
    "HealthState",
    "HttpRequestPlan",
    "RenderError",
    "Resolver",
    "UnsafeTargetError",
    "WebhookPayload",
    "basic_auth_value",
    "check_filter",
    "check_url_template",
    "envelope_of",
    "explain",
    "generate_secret",
    "has_placeholders",
    "health_state",
    "masked_opener",
    "origin_of",
    "render_email_from",
    "render_http_from",
    "system_resolver",
    "template_variables",
    "vet",
    "webhook_body",
]
