"""A subscription's destination, checked before it is stored and turned into what is stored.

Every problem is found at once and answered in one 400, each at its field: a filter the
pattern language does not take, a header that could smuggle another request or override
ours, a URL whose host a placeholder could change, a template that does not compile or
fails on a sample of an event type the subscription can receive. Secret header values
(and Basic auth, which becomes one) are sealed before they are stored; nothing here ever
holds them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from parcelhooks.core.errors import Detail
from parcelhooks.core.models import (
    FORM_CONTENT,
    EmailDestination,
    StoredHeader,
    Subscription,
)
from parcelhooks.core.statuses import (
    ALERT_EVENT_TYPES,
    ALL_EVENT_TYPES,
    CORRECTION_EVENT_TYPE,
    EVENT_TYPES,
    OPERATIONAL_EVENT_TYPES,
    TEST_EVENT_TYPE,
)
from parcelhooks.delivery.public import (
    MASKED,
    RenderError,
    basic_auth_value,
    check_filter,
    check_url_template,
    envelope_of,
    has_placeholders,
    masked_opener,
    render_email_from,
    render_http_from,
    template_variables,
    webhook_body,
)
from parcelhooks.merchant_api.models import DestinationFields, HeaderIn
from parcelhooks.merchant_api.samples import SampleMetadata, sample_event

AUTHORIZATION = "authorization"
# Headers a subscription may not set: the request's framing, hop-by-hop headers, and our own.
FRAMING_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "user-agent", "expect"}
)
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)
OUR_HEADER_PREFIX = "webhook-"
_TOKEN_CHARACTERS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


class Sealer(Protocol):
    def seal(self, merchant_id: str, subscription_id: str, value: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Destination:
    """The stored fields of a subscription's destination."""

    kind: str
    url: str | None
    filter: dict[str, Any] | None
    method: str
    headers: list[StoredHeader]
    content_type: str
    template: str | None
    email: EmailDestination | None
    metadata: dict[str, str]

    def fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "filter": self.filter,
            "method": self.method,
            "headers": self.headers,
            "content_type": self.content_type,
            "template": self.template,
            "email": self.email,
            "metadata": self.metadata,
        }


def problem(loc: str, message: str, kind: str = "invalid_destination") -> Detail:
    return {"loc": loc, "message": message, "type": kind}


def shape_problems(fields: DestinationFields, url: str | None) -> list[Detail]:
    """What does not fit together: the fields each kind takes, and what a form needs."""
    found: list[Detail] = []
    if fields.kind == "email":
        if fields.email is None:
            found.append(problem("email", "kind email needs `email` (to, subject, text or html)"))
        elif fields.email.text is None and fields.email.html is None:
            found.append(problem("email", "an e-mail needs `text`, `html` or both"))
        for name in ("url", "template", "basic_auth"):
            if (url if name == "url" else getattr(fields, name)) is not None:
                found.append(problem(name, f"kind email takes no {name}"))
        if fields.headers:
            found.append(problem("headers", "kind email takes no headers"))
        return found
    if url is None:
        found.append(problem("url", "kind webhook needs a url"))
    if fields.email is not None:
        found.append(problem("email", "only kind email takes `email`"))
    if fields.content_type == FORM_CONTENT and fields.template is None:
        found.append(
            problem(
                "template",
                "a form body needs a template that renders a JSON object of its fields",
            )
        )
    return found


def header_problems(headers: Sequence[HeaderIn], *, basic_auth: bool) -> list[Detail]:
    """Header injection and overrides, refused before anything is stored."""
    found: list[Detail] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        loc = f"headers[{index}]"
        lowered = header.name.lower()
        if not set(header.name) <= _TOKEN_CHARACTERS:
            found.append(
                problem(
                    f"{loc}.name",
                    "a header name is a token: letters, digits and !#$%&'*+-.^_`|~ only",
                    "header_injection",
                )
            )
        elif lowered in FRAMING_HEADERS or lowered in HOP_BY_HOP_HEADERS:
            found.append(
                problem(
                    f"{loc}.name",
                    f"{header.name} is set by parcelhooks or by the connection; it cannot be set",
                    "header_injection",
                )
            )
        elif lowered.startswith(OUR_HEADER_PREFIX):
            found.append(
                problem(
                    f"{loc}.name",
                    "webhook-* headers carry the signature; they cannot be set",
                    "header_injection",
                )
            )
        if lowered in seen:
            found.append(problem(f"{loc}.name", f"{header.name} is set twice"))
        seen.add(lowered)
        if lowered == AUTHORIZATION and basic_auth:
            found.append(problem(f"{loc}.name", "basic_auth sets Authorization already"))
        value = header.value
        if value is not None and any(
            c in "\r\n\x00" or (ord(c) < 0x20 and c != "\t") or ord(c) > 0x7E for c in value
        ):
            found.append(
                problem(
                    f"{loc}.value",
                    "a header value is visible ASCII, spaces and tabs only (no CR, LF or NUL)",
                    "header_injection",
                )
            )
    return found


def filter_problems(pattern: object) -> list[Detail]:
    return [problem(p.loc, p.message, "invalid_filter") for p in check_filter(pattern)]


def url_problems(url: str) -> list[Detail]:
    return [problem("url", message, "invalid_url_template") for message in check_url_template(url)]


def receivable_types(event_types: Sequence[str]) -> list[str]:
    """Every type a subscription naming these can be sent. A test is a shipment event
    (`webhook.test`) for those that take shipment events; one that takes only operational
    events is tested with a sample of the first it names."""
    shipment = [t for t in EVENT_TYPES if t in event_types or ALL_EVENT_TYPES in event_types]
    extra = [CORRECTION_EVENT_TYPE, TEST_EVENT_TYPE] if shipment else []
    alerts = [t for t in ALERT_EVENT_TYPES if t in event_types]
    operational = [t for t in OPERATIONAL_EVENT_TYPES if t in event_types]
    return [*shipment, *extra, *alerts, *operational]


def render_problems(
    subscription: Subscription, event_types: Sequence[str], now: datetime
) -> list[Detail]:
    """The templates rendered against a sample of every type the subscription can receive:
    the first failure of each template, with the type it failed on."""
    if (
        subscription.kind == "webhook"
        and subscription.template is None
        and not has_placeholders(subscription.url or "")
    ):
        return []  # nothing rendered: our own JSON to a fixed URL
    failures: dict[str, Detail] = {}
    for event_type in receivable_types(event_types):
        try:
            render_sample(subscription, event_type, now)
        except RenderError as error:
            failures.setdefault(
                error.where,
                problem(
                    error.where,
                    f"{error.problem} (rendering a sample {event_type} event)",
                    "template_error",
                ),
            )
    return list(failures.values())


def render_sample(subscription: Subscription, event_type: str, now: datetime) -> Any:
    """The request or e-mail a sample event of this type makes (secret values masked)."""
    event = sample_event(event_type, subscription.merchant_id, now)
    body = webhook_body(event)
    variables = template_variables(subscription, event, envelope_of(body))
    data = variables["data"]
    if isinstance(data.get("metadata"), dict) or data.get("metadata") is None:
        data["metadata"] = SampleMetadata(data.get("metadata") or {})
    if subscription.kind == "email":
        return render_email_from(subscription, variables)
    return render_http_from(subscription, variables, body, masked_opener)


def stored_headers(
    headers: Sequence[HeaderIn],
    basic_auth: tuple[str, str] | None,
    *,
    seal: Callable[[str], str],
    kept: dict[str, StoredHeader],
) -> tuple[list[StoredHeader], list[Detail]]:
    """Each header as stored: secret values sealed; a secret header sent without a value
    keeps the stored one (`kept`, by lower-case name)."""
    stored: list[StoredHeader] = []
    found: list[Detail] = []
    for index, header in enumerate(headers):
        if header.value is None:
            previous = kept.get(header.name.lower())
            if header.secret and previous is not None and previous.secret:
                stored.append(previous.model_copy(update={"name": header.name}))
            else:
                found.append(
                    problem(
                        f"headers[{index}].value",
                        "a value is needed (only a secret header already stored may leave it out)",
                    )
                )
        elif header.secret:
            stored.append(StoredHeader(name=header.name, sealed=seal(header.value)))
        else:
            stored.append(StoredHeader(name=header.name, value=header.value))
    if basic_auth is not None:
        value = basic_auth_value(*basic_auth)
        stored.append(StoredHeader(name="Authorization", sealed=seal(value), basic_auth=True))
    return stored, found


def shown_value(header: StoredHeader) -> str:
    return MASKED if header.secret else header.value or ""
