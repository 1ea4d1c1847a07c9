"""What the two HTTP functions share: who is calling, and the one error shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from parcelhooks.api.errors import ApiError, ErrorCode, error_body
from parcelhooks.auth.keys import Role
from parcelhooks.core.errors import InvalidCursorError
from parcelhooks.core.observability import logger


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    owner_id: str
    key_id: str


def caller_of(app: APIGatewayRestResolver, role: Role) -> Caller:
    """The authorizer's verdict; checked again here so a misrouted key never acts."""
    context: dict[str, Any] = app.current_event.request_context.authorizer.get_context() or {}
    if context.get("role") != role.value or not context.get("owner_id"):
        raise ApiError(403, ErrorCode.FORBIDDEN, f"this route needs a {role.value} key")
    return Caller(role=role, owner_id=str(context["owner_id"]), key_id=str(context.get("key_id")))


def refuse_non_json(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 415 for a request body that does not say it is JSON (checked before routing,
    since Powertools' validation would otherwise fail on it with a 500)."""
    if not event.get("body"):
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return None
    body = error_body(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        "send the body as JSON with Content-Type: application/json",
        [{"loc": "content-type", "message": f"got {media_type or 'none'}", "type": "media_type"}],
    )
    return {
        "statusCode": 415,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def json_response(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _error_response(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Every failure answers {"error": {"code", "message", "details"}}."""

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response[Any]:
        return _error_response(error.status, error.body())

    @app.exception_handler(InvalidCursorError)
    def _bad_cursor(_: InvalidCursorError) -> Response[Any]:
        body = error_body(
            ErrorCode.INVALID_REQUEST,
            "the cursor is not one this API handed out",
            [{"loc": "cursor", "message": "unknown cursor", "type": "cursor"}],
        )
        return _error_response(400, body)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[Any]:
        details = [
            {
                "loc": ".".join(str(p) for p in problem["loc"] if p != "body") or "body",
                "message": problem["msg"],
                "type": problem["type"],
            }
            for problem in error.errors()
        ]
        return _error_response(
            400,
            error_body(
                ErrorCode.VALIDATION_FAILED, f"{len(details)} problem(s) in the request", details
            ),
        )

    @app.not_found
    def _not_found(_: Exception) -> Response[Any]:
        return _error_response(404, error_body(ErrorCode.NOT_FOUND, "no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return _error_response(500, error_body(ErrorCode.INTERNAL, "internal error"))
