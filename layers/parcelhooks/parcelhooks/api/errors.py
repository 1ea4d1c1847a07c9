"""The one error shape of the API: {"error": {"code", "message", "details": [...]}}."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from pydantic import Field

from parcelhooks.core.errors import Detail
from parcelhooks.core.models import Model


class ErrorDetail(Model):
    loc: str
    message: str
    type: str


class ErrorBody(Model):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(Model):
    error: ErrorBody


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    INVALID_CURSOR = "invalid_cursor"
    MALFORMED_JSON = "malformed_json"
    VALIDATION_FAILED = "validation_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    LIMIT_REACHED = "limit_reached"
    CONFLICT = "conflict"
    SUBSCRIPTION_DISABLED = "subscription_disabled"
    ENQUEUE_FAILED = "enqueue_failed"
    INTERNAL = "internal_error"


# The one status each code is answered with (the edge's ERROR_ANSWERS, the gateway's responses
# in template.yaml and the checks before routing all agree with it; a test says so).
STATUS_OF: Mapping[ErrorCode, HTTPStatus] = {
    ErrorCode.INVALID_REQUEST: HTTPStatus.BAD_REQUEST,
    ErrorCode.INVALID_CURSOR: HTTPStatus.BAD_REQUEST,
    ErrorCode.MALFORMED_JSON: HTTPStatus.BAD_REQUEST,
    ErrorCode.VALIDATION_FAILED: HTTPStatus.BAD_REQUEST,
    ErrorCode.PAYLOAD_TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.UNAUTHORIZED: HTTPStatus.UNAUTHORIZED,
    ErrorCode.FORBIDDEN: HTTPStatus.FORBIDDEN,
    ErrorCode.NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorCode.LIMIT_REACHED: HTTPStatus.CONFLICT,
    ErrorCode.CONFLICT: HTTPStatus.CONFLICT,
    ErrorCode.SUBSCRIPTION_DISABLED: HTTPStatus.CONFLICT,
    ErrorCode.ENQUEUE_FAILED: HTTPStatus.SERVICE_UNAVAILABLE,
    ErrorCode.INTERNAL: HTTPStatus.INTERNAL_SERVER_ERROR,
}

# What any route can answer: the gateway's (key, role, size, its own failure) and the edge's
# (media type, JSON, body shape, fields, query parameters).
EVERY_ROUTE: tuple[ErrorCode, ...] = (
    ErrorCode.INVALID_REQUEST,
    ErrorCode.MALFORMED_JSON,
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.UNAUTHORIZED,
    ErrorCode.FORBIDDEN,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.INTERNAL,
)
# What each route can answer besides, from the flow it calls: (method, path) as documented.
ROUTE_ERRORS: Mapping[tuple[str, str], tuple[ErrorCode, ...]] = {
    ("POST", "/v1/events"): (ErrorCode.ENQUEUE_FAILED,),
    ("POST", "/v1/subscriptions"): (ErrorCode.LIMIT_REACHED,),
    ("GET", "/v1/subscriptions"): (ErrorCode.INVALID_CURSOR,),
    ("POST", "/v1/subscriptions/preview"): (),
    ("POST", "/v1/subscriptions/{subscription_id}/preview"): (ErrorCode.NOT_FOUND,),
    ("GET", "/v1/presets"): (),
    ("POST", "/v1/portal/links"): (),
    ("GET", "/v1/subscriptions/{subscription_id}"): (ErrorCode.NOT_FOUND,),
    ("PATCH", "/v1/subscriptions/{subscription_id}"): (ErrorCode.NOT_FOUND, ErrorCode.CONFLICT),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): (ErrorCode.NOT_FOUND,),
    ("POST", "/v1/subscriptions/{subscription_id}/rotate-secret"): (
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
    ),
    ("POST", "/v1/subscriptions/{subscription_id}/test"): (
        ErrorCode.NOT_FOUND,
        ErrorCode.SUBSCRIPTION_DISABLED,
        ErrorCode.ENQUEUE_FAILED,
    ),
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): (
        ErrorCode.NOT_FOUND,
        ErrorCode.INVALID_CURSOR,
    ),
    ("GET", "/v1/deliveries/{delivery_id}"): (ErrorCode.NOT_FOUND,),
    ("POST", "/v1/deliveries/{delivery_id}/retry"): (
        ErrorCode.NOT_FOUND,
        ErrorCode.SUBSCRIPTION_DISABLED,
        ErrorCode.ENQUEUE_FAILED,
    ),
    ("POST", "/v1/subscriptions/{subscription_id}/recover"): (
        ErrorCode.NOT_FOUND,
        ErrorCode.SUBSCRIPTION_DISABLED,
        ErrorCode.ENQUEUE_FAILED,
    ),
    ("GET", "/v1/shipments/{tracking_code}"): (ErrorCode.NOT_FOUND,),
    ("GET", "/v1/shipments"): (),
}


def route_errors(method: str, path: str) -> list[ErrorCode]:
    """Every code the route can answer, in the enum's order."""
    own = set(EVERY_ROUTE) | set(ROUTE_ERRORS[(method.upper(), path)])
    return [code for code in ErrorCode if code in own]


def error_body(code: ErrorCode, message: str, details: Sequence[Detail] = ()) -> dict[str, Any]:
    return {"error": {"code": code.value, "message": message, "details": list(details)}}
