"""The one error shape of the API: {"error": {"code", "message", "details": [...]}}."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
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


def error_body(code: ErrorCode, message: str, details: Sequence[Detail] = ()) -> dict[str, Any]:
    return {"error": {"code": code.value, "message": message, "details": list(details)}}
