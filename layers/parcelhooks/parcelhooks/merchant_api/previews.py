"""Previews: the exact request (or e-mail) a destination would get for an event, made by the
fan-out's own rendering code, and nothing sent.

The event is a sample of the type asked for, with the merchant's `data` laid over it; a
sample's metadata answers any key (so a saved template can be tried before real events
carry it), the merchant's own metadata only its keys. Secret header values are masked;
`webhook-timestamp` and `webhook-signature` are made at each attempt, so they are named
here, not computed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, ValidationError

from parcelhooks.core.errors import ValidationFailedError
from parcelhooks.core.models import Model, ShipmentEvent, StrictModel, Subscription
from parcelhooks.core.operational import WebhookEvent
from parcelhooks.delivery.public import (
    DATA_FIELDS,
    EmailPlan,
    RenderError,
    envelope_of,
    explain,
    masked_opener,
    render_email_from,
    render_http_from,
    template_variables,
    webhook_body,
)
from parcelhooks.merchant_api.destinations import receivable_types
from parcelhooks.merchant_api.models import SubscriptionIn
from parcelhooks.merchant_api.samples import SampleMetadata, sample_event

# What the event's data may set over the sample's: the webhook's fields, but for its ids,
# what is derived (action_required) and a correction's withdrawn event.
_SETTABLE = frozenset(DATA_FIELDS) - {"event_id", "merchant_id", "action_required", "corrects"}
SIGNATURE_NOTE = "(made at each attempt)"


class PreviewEventIn(StrictModel):
    event_type: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="The type of the sample event; by default the first the subscription "
        "can receive that its filter takes.",
    )
    data: dict[str, Any] | None = Field(
        default=None,
        description="Fields of the event's `data` laid over the sample's (status, "
        "status_detail, carrier, tracking_code, order_id, metadata, location, …).",
    )


class PreviewIn(PreviewEventIn):
    subscription: SubscriptionIn


class RequestOut(Model):
    method: str
    url: str
    headers: dict[str, str] = Field(description="Secret values masked.")
    body: str


class EmailOut(Model):
    to: list[str]
    subject: str
    text: str | None
    html: str | None


class PreviewOut(Model):
    event_type: str
    event: dict[str, Any] = Field(description="The webhook body of the event previewed.")
    matches: bool = Field(description="Whether the subscription's filter takes the event.")
    filter_reasons: list[str] = Field(description="Why it matches or does not.")
    request: RequestOut | None = None
    email: EmailOut | None = None
    render_error: str | None = Field(
        default=None,
        description="Why the templates cannot render this event (delivered, it would be "
        "logged `render_error` and not sent).",
    )


def preview_event(
    subscription: Subscription, request: PreviewEventIn, now: datetime
) -> WebhookEvent:
    types = receivable_types(subscription.event_types)
    if request.event_type is not None and request.event_type not in types:
        raise ValidationFailedError(
            "the subscription cannot receive this event type",
            [{"loc": "event_type", "message": f"one of {', '.join(types)}", "type": "enum"}],
        )
    candidates = [request.event_type] if request.event_type else types
    events = [_event_of(t, subscription, request, now) for t in candidates]
    # Without a type asked for: the first the filter takes, so the preview shows a request.
    taken = [e for e in events if _taken(subscription, e)]
    return (taken or events)[0]


def _event_of(
    event_type: str, subscription: Subscription, request: PreviewEventIn, now: datetime
) -> WebhookEvent:
    event = sample_event(event_type, subscription.merchant_id, now)
    return event if request.data is None else _with_data(event, request.data)


def _taken(subscription: Subscription, event: WebhookEvent) -> bool:
    if subscription.filter is None:
        return True
    return explain(subscription.filter, envelope_of(webhook_body(event))).matches


def _with_data(event: WebhookEvent, data: dict[str, Any]) -> WebhookEvent:
    unknown = sorted(set(data) - _SETTABLE)
    if unknown or not isinstance(event, ShipmentEvent):
        raise ValidationFailedError(
            "the event's data cannot be set this way",
            [
                {"loc": f"data.{name}", "message": "not a field a preview sets", "type": "extra"}
                for name in unknown or ["*"]
            ],
        )
    try:
        return ShipmentEvent.model_validate(event.model_dump() | data)
    except ValidationError as error:
        raise ValidationFailedError(
            "the event's data is not valid",
            [
                {
                    "loc": "data." + ".".join(str(part) for part in problem["loc"]),
                    "message": problem["msg"],
                    "type": problem["type"],
                }
                for problem in error.errors()
            ],
        ) from None


def preview(
    subscription: Subscription, event: WebhookEvent, *, sample_metadata: bool
) -> PreviewOut:
    body = webhook_body(event)
    envelope = envelope_of(body)
    verdict = explain(subscription.filter, envelope) if subscription.filter is not None else None
    variables = template_variables(subscription, event, envelope)
    if sample_metadata:
        variables["data"]["metadata"] = SampleMetadata(variables["data"].get("metadata") or {})
    out = PreviewOut(
        event_type=envelope["type"],
        event=envelope,
        matches=verdict.matches if verdict else True,
        filter_reasons=list(verdict.reasons) if verdict else ["no filter: every event"],
    )
    try:
        if subscription.kind == "email":
            plan: EmailPlan = render_email_from(subscription, variables)
            out.email = EmailOut(
                to=list(plan.to), subject=plan.subject, text=plan.text, html=plan.html
            )
        else:
            request = render_http_from(subscription, variables, body, masked_opener)
            out.request = RequestOut(
                method=request.method,
                url=request.url,
                headers={
                    "Content-Type": request.content_type,
                    **request.headers,
                    "webhook-id": event.event_id,
                    "webhook-timestamp": SIGNATURE_NOTE,
                    "webhook-signature": SIGNATURE_NOTE,
                },
                body=request.body.decode("utf-8", "replace"),
            )
    except RenderError as error:
        out.render_error = str(error)
    return out
