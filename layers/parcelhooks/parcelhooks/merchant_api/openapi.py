"""The public OpenAPI 3.1 document: the admin routes as Powertools generates them from their
models, plus the carrier ingest route (another function), the bearer scheme, our one
error shape on every operation, and the webhooks we send (OpenAPI 3.1 `webhooks`: one per
event type, shipment and operational, the bodies from delivery/payloads.py).
docs/openapi.json is this document, checked by a test.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from parcelhooks.api.errors import STATUS_OF, ErrorResponse, route_errors
from parcelhooks.core.operational import DELIVERY_EXHAUSTED, SUBSCRIPTION_DISABLED
from parcelhooks.core.statuses import ALERT_EVENT_TYPES, CORRECTION_EVENT_TYPE, TEST_EVENT_TYPE
from parcelhooks.delivery.public import OPERATIONAL_PAYLOADS, WEBHOOK_TYPES, WebhookPayload
from parcelhooks.ingest.public import CarrierEventBatchIn, CarrierEventIn, IngestResponse

TITLE = "parcelhooks"
VERSION = "1.0.0"
DESCRIPTION = (
    "Signed, retried webhooks for parcel-tracking status events. Carriers POST status "
    "events to /v1/events; merchants manage their webhook subscriptions and see every "
    "delivery attempt under /v1/subscriptions, and read a shipment's status and history "
    "under /v1/shipments. Every request needs "
    "`Authorization: Bearer <key>`: a carrier key for /v1/events, a merchant key for the "
    "rest. Webhooks are signed per the Standard Webhooks specification."
)
ERROR_DESCRIPTIONS = {
    400: "The request is invalid; every problem is listed in `error.details`",
    401: "No API key, or one that is unknown or revoked",
    403: "The key's role may not call this route",
    404: "No such resource for this key's owner",
    409: "The request conflicts with the resource's state",
    413: "The request body is too large",
    415: "The body is not sent as JSON in UTF-8",
    500: "An unexpected error; nothing was half-done: the same request may be sent again",
    503: "Some events could not be queued; send the same request again",
}
_POWERTOOLS_VALIDATION = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def ok(status: int, model: type[BaseModel] | None, description: str) -> dict[int, OpenAPIResponse]:
    """A route's success answer, for Powertools' `responses=`."""
    if model is None:
        return {status: {"description": description}}
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def _schema_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_responses(method: str, path: str) -> dict[str, Any]:
    """The route's error answers, one per status, each naming the codes it may carry."""
    by_status: dict[int, list[str]] = {}
    for code in route_errors(method, path):
        by_status.setdefault(STATUS_OF[code].value, []).append(code.value)
    return {
        str(status): {
            "description": ERROR_DESCRIPTIONS[status]
            + " (`error.code`: "
            + ", ".join(f"`{code}`" for code in codes)
            + ")",
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            _schema_ref("ErrorResponse"),
                            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
                        ]
                    }
                }
            },
        }
        for status, codes in sorted(by_status.items())
    }


def _add_models(spec: dict[str, Any], *models: type[BaseModel]) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema


def _ingest_operation() -> dict[str, Any]:
    return {
        "tags": ["events"],
        "summary": "Report status events (carrier key)",
        "description": (
            'One event, or `{"events": [...]}` with 1 to 100. A `carrier_event_id` the '
            "carrier already sent is answered as a duplicate and not delivered again. A "
            "request with any invalid event queues nothing."
        ),
        "operationId": "post_events",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _schema_ref("CarrierEventIn"),
                            _schema_ref("CarrierEventBatchIn"),
                        ]
                    }
                }
            },
        },
        "responses": {
            "202": {
                "description": "Accepted: each event with its event_id, duplicates marked",
                "content": {"application/json": {"schema": _schema_ref("IngestResponse")}},
            },
            **_error_responses("POST", "/v1/events"),
        },
    }


_WEBHOOK_HEADERS = {
    "webhook-id": "The event_id: the same on every retry of this webhook",
    "webhook-timestamp": "Unix seconds of this attempt",
    "webhook-signature": "`v1,<base64 HMAC-SHA256>`; space-separated while a secret rotates",
}


def _webhook_summary(event_type: str) -> str:
    if event_type == CORRECTION_EVENT_TYPE:
        return (
            "The carrier withdrew its previous event: `data.corrects` names it, `data.status` "
            "is the shipment's status without it. Also sent to subscriptions that want the "
            "withdrawn event's type."
        )
    if event_type in ALERT_EVENT_TYPES:
        return (
            f"Told by parcelhooks, not the carrier: the shipment is "
            f"{event_type.removeprefix('shipment.')} (`data.alert`); the other fields are its "
            "latest event. Only to subscriptions that name it."
        )
    if event_type == TEST_EVENT_TYPE:
        return "A test event sent from POST /v1/subscriptions/{subscription_id}/test"
    return f"A shipment event with status `{event_type.removeprefix('shipment.')}`"


_OPERATIONAL_SUMMARIES = {
    SUBSCRIPTION_DISABLED: (
        "One of your subscriptions was disabled: its endpoint answered 410 Gone "
        "(`disabled_by: gone`) or failed long enough for the circuit breaker "
        "(`disabled_by: breaker`)"
    ),
    DELIVERY_EXHAUSTED: (
        "A delivery to one of your subscriptions failed every attempt and was dead-lettered"
    ),
}
_OPERATIONAL_DESCRIPTION = (
    "Sent to your subscriptions whose `event_types` name this type (`*` alone does not take "
    "it), never to the subscription it describes; signed and retried like every webhook, "
    "`webhook-id` the same on every retry."
)


def _webhook(
    event_type: str, summary: str, schema: dict[str, Any], description: str | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": ["webhooks"],
        "summary": summary,
        "operationId": "webhook_" + event_type.replace(".", "_"),
        "parameters": [
            {
                "name": name,
                "in": "header",
                "required": True,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in _WEBHOOK_HEADERS.items()
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        },
        "responses": {
            "2XX": {"description": "Received; anything else is retried on the schedule"},
            "410": {"description": "Gone: the subscription is disabled"},
        },
    }
    if description is not None:
        operation["description"] = description
    return {"post": operation}


def _webhooks() -> dict[str, Any]:
    """One webhook per event type: shipment events share an envelope with `type` fixed;
    operational events have a body each."""
    shipment = {
        event_type: _webhook(
            event_type,
            _webhook_summary(event_type),
            {
                "allOf": [
                    _schema_ref("WebhookPayload"),
                    {"properties": {"type": {"const": event_type}}},
                ]
            },
        )
        for event_type in WEBHOOK_TYPES
    }
    operational = {
        event_type: _webhook(
            event_type,
            _OPERATIONAL_SUMMARIES[event_type],
            _schema_ref(payload.__name__),
            _OPERATIONAL_DESCRIPTION,
        )
        for event_type, payload in OPERATIONAL_PAYLOADS.items()
    }
    return shipment | operational


def _link_created_subscription(spec: dict[str, Any]) -> None:
    """Links from a created subscription to every operation on it, for clients and for
    schemathesis' stateful tests."""
    links: dict[str, Any] = {}
    for path, operations in spec["paths"].items():
        if "{subscription_id}" not in path:
            continue
        for operation in operations.values():
            links[operation["operationId"]] = {
                "operationId": operation["operationId"],
                "parameters": {"subscription_id": "$response.body#/id"},
            }
    created = spec["paths"]["/v1/subscriptions"]["post"]["responses"]["201"]
    created["links"] = dict(sorted(links.items()))


def build_document(admin_spec: dict[str, Any]) -> dict[str, Any]:
    """Complete the admin app's generated spec into the public document."""
    spec: dict[str, Any] = json.loads(json.dumps(admin_spec))  # a copy we may change
    spec["info"] = {"title": TITLE, "version": VERSION, "description": DESCRIPTION}
    spec["servers"] = [{"url": "/", "description": "the stack's ApiUrl output"}]
    _add_models(
        spec,
        ErrorResponse,
        CarrierEventIn,
        CarrierEventBatchIn,
        IngestResponse,
        WebhookPayload,
        *OPERATIONAL_PAYLOADS.values(),
    )
    for name in _POWERTOOLS_VALIDATION:
        spec["components"]["schemas"].pop(name, None)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses.pop("422", None)  # we answer validation errors with 400
            if "204" in responses:
                responses["204"].pop("content", None)
            responses.update(_error_responses(method, path))
    _link_created_subscription(spec)
    spec["paths"]["/v1/events"] = {"post": _ingest_operation()}
    spec["paths"] = dict(sorted(spec["paths"].items()))
    spec["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "phk_... API key"}
    }
    spec["security"] = [{"bearer": []}]
    spec["webhooks"] = _webhooks()
    return spec
