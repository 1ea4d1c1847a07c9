"""What a subscription's destination receives for one event: the exact HTTP request or
e-mail, rendered from its templates, or the RenderError that keeps it from being sent.

With none of the destination fields set, the request is the one parcelhooks always sent:
our JSON envelope, POSTed to the URL as it was given. The signing headers are not made here
(delivery/signing.py signs the rendered body at send time), so the preview shows the request
without them and a retry signs it afresh.

Templates see the webhook's whole event (`type`, `timestamp`, `data`, and `event` for the
envelope as one value), the subscription's `id`, `description` and `metadata`, and
`message`: the buyer-facing sentence for the status in pt-BR and English.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from parcelhooks.core.attempts import EmailPlan
from parcelhooks.core.messages import BuyerMessage, buyer_message
from parcelhooks.core.models import FORM_CONTENT, ShipmentEvent, StoredHeader, Subscription
from parcelhooks.core.operational import OperationalEvent, WebhookEvent
from parcelhooks.core.personal_data import mask_email
from parcelhooks.delivery.templates import (
    Syntax,
    TemplateError,
    compile_template,
    has_placeholders,
    render,
    render_form_body,
    render_json_body,
    render_url,
)

# What a secret header's value is shown as, wherever a request is shown.
MASKED = "********"
MAX_RECIPIENTS = 10
# An e-mail address as SES takes it: one @, a dot in the domain, nothing that breaks a header.
_FORBIDDEN_IN_ADDRESS = frozenset('\r\n\t ,;<>()[]\\"')


class RenderError(Exception):
    """The destination's templates could not make a request from this event."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True, slots=True)
class HttpRequestPlan:
    """The request to send, before the signing headers are added."""

    method: str
    url: str
    content_type: str
    headers: dict[str, str]
    body: bytes


# Opens a sealed header value (only the fan-out can; the preview shows MASKED instead).
SecretOpener = Callable[[Subscription, str], str]


def envelope_of(body: bytes) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(body)
    return envelope


def template_variables(
    subscription: Subscription, event: WebhookEvent, envelope: Mapping[str, Any]
) -> dict[str, Any]:
    """Everything a template may read, as plain values (the sandbox reaches nothing else)."""
    message = _message_of(event)
    return {
        "type": envelope["type"],
        "timestamp": envelope["timestamp"],
        "data": envelope["data"],
        "event": envelope,
        "subscription": {
            "id": subscription.id,
            "description": subscription.description,
            "metadata": dict(subscription.metadata),
        },
        "message": {"pt_BR": message.pt_BR, "en": message.en},
    }


def _message_of(event: WebhookEvent) -> BuyerMessage:
    if isinstance(event, ShipmentEvent):
        return buyer_message(event)
    return _operational_message(event)


def _operational_message(event: OperationalEvent) -> BuyerMessage:
    """Operational events are for the merchant, not a buyer: a sentence about the endpoint."""
    data = event.data.model_dump(mode="json")
    subscription_id = data.get("subscription_id", "")
    if event.type == "subscription.disabled":
        return BuyerMessage(
            pt_BR=f"A assinatura {subscription_id} foi desativada: {data.get('reason')}.",
            en=f"Subscription {subscription_id} was disabled: {data.get('reason')}.",
        )
    return BuyerMessage(
        pt_BR=(
            f"A entrega {data.get('delivery_id')} falhou em todas as "
            f"{data.get('attempts')} tentativas e foi para a fila de mensagens mortas."
        ),
        en=(
            f"Delivery {data.get('delivery_id')} failed all {data.get('attempts')} attempts "
            "and was dead-lettered."
        ),
    )


def render_http(
    subscription: Subscription,
    event: WebhookEvent,
    body: bytes,
    open_secret: SecretOpener,
) -> HttpRequestPlan:
    """The request for this event; `body` is our own envelope (sent when no template). A
    subscription with neither a body template nor URL placeholders renders nothing: the
    delivery path of a plain webhook parses no JSON and runs no template."""
    url = subscription.url or ""
    if subscription.template is None and not has_placeholders(url):
        headers = _headers(subscription, open_secret)
        return HttpRequestPlan(subscription.method, url, subscription.content_type, headers, body)
    variables = template_variables(subscription, event, envelope_of(body))
    return render_http_from(subscription, variables, body, open_secret)


def render_http_from(
    subscription: Subscription,
    variables: Mapping[str, Any],
    body: bytes,
    open_secret: SecretOpener,
) -> HttpRequestPlan:
    """The request from the template variables (the merchant API's checks pass samples)."""
    assert subscription.url is not None, "an HTTP destination has a URL"
    url = _rendered("url", lambda: render_url(subscription.url or "", variables))
    if subscription.template is not None:
        template = subscription.template
        if subscription.content_type == FORM_CONTENT:
            body = _rendered("template", lambda: render_form_body(template, variables))
        else:
            body = _rendered("template", lambda: render_json_body(template, variables))
    headers = _headers(subscription, open_secret)
    return HttpRequestPlan(subscription.method, url, subscription.content_type, headers, body)


def _headers(subscription: Subscription, open_secret: SecretOpener) -> dict[str, str]:
    return {h.name: _header_value(subscription, h, open_secret) for h in subscription.headers}


def render_email(subscription: Subscription, event: WebhookEvent, body: bytes) -> EmailPlan:
    """The e-mail for this event; an address that does not render to one is a RenderError."""
    return render_email_from(
        subscription, template_variables(subscription, event, envelope_of(body))
    )


def render_email_from(subscription: Subscription, variables: Mapping[str, Any]) -> EmailPlan:
    email = subscription.email
    assert email is not None, "an e-mail destination has its templates"
    to = _rendered("email.to", lambda: _render_text(email.to, Syntax.TEXT, variables))
    subject = _rendered(
        "email.subject", lambda: _render_text(email.subject, Syntax.TEXT, variables)
    )
    text = html = None
    if email.text is not None:
        source = email.text
        text = _rendered("email.text", lambda: _render_text(source, Syntax.TEXT, variables))
    if email.html is not None:
        source_html = email.html
        html = _rendered("email.html", lambda: _render_text(source_html, Syntax.HTML, variables))
    return EmailPlan(recipients(to), _one_line(subject), text, html)


def recipients(rendered: str) -> tuple[str, ...]:
    """The addresses a rendered `to` names (comma-separated), each checked."""
    pairs = getaddresses([rendered])
    addresses = tuple(address.strip() for _, address in pairs if address.strip())
    if not addresses:
        raise RenderError("email.to", f"rendered to no e-mail address ({rendered[:80]!r})")
    if len(addresses) > MAX_RECIPIENTS:
        raise RenderError("email.to", f"names {len(addresses)} addresses; at most 10")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise RenderError("email.to", problem)
    return addresses


def address_problem(address: str) -> str | None:
    local, at, domain = address.rpartition("@")
    if not (at and local and "." in domain.strip(".")) or len(address) > 254:
        return f"{_masked(address)} is not an e-mail address"
    if any(c in _FORBIDDEN_IN_ADDRESS or ord(c) < 0x20 for c in address):
        return f"{_masked(address)} holds a character an address may not"
    return None


def _masked(address: str) -> str:
    # Personal data (LGPD): what is no address at all keeps only its first character.
    return mask_email(address) if "@" in address else address[:1] + "***"


def masked_opener(subscription: Subscription, sealed: str) -> str:
    return MASKED


def basic_auth_value(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _header_value(
    subscription: Subscription, header: StoredHeader, open_secret: SecretOpener
) -> str:
    if header.sealed is not None:
        return open_secret(subscription, header.sealed)
    return header.value or ""


def _render_text(source: str, syntax: Syntax, variables: Mapping[str, Any]) -> str:
    return render(compile_template(source, syntax), variables)


def _one_line(subject: str) -> str:
    # A subject is one header line: what a template put on more lines is joined.
    return " ".join(subject.split())


def _rendered[T](where: str, make: Callable[[], T]) -> T:
    try:
        return make()
    except TemplateError as error:
        raise RenderError(where, str(error)) from None
