"""The one error shape of the API: {"error": {"code", "message", "details": [...]}}."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import (
    Field,
    ValidationError,
)

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


class ApiError(Exception):
    """An answer other than success, already in the contract's terms."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(
    code: ErrorCode, message: str, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code.value, "message": message, "details": details or []}}


def _location(loc: tuple[int | str, ...]) -> str:
    """`events[3].location.city` from pydantic's ('events', 3, 'location', 'city')."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def details_from_validation(error: ValidationError) -> list[dict[str, str]]:
    details = []
    for problem in error.errors(include_url=False, include_input=False):
        loc = tuple(p for p in problem["loc"] if not (isinstance(p, str) and "[" in p))
        details.append({"loc": _location(loc), "message": problem["msg"], "type": problem["type"]})
    return details
