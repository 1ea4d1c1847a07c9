"""What the two HTTP functions share: who is calling, and the one error shape.

Domain code raises `ParcelhooksError`s; `ERROR_ANSWERS` below is the one place that
says which HTTP status and error code each of them is answered with.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from parcelhooks.api.errors import ErrorCode, error_body
from parcelhooks.core.api_keys import LEGACY_VOCABULARY, Role, Vocabulary
from parcelhooks.core.errors import (
    ConflictError,
    Detail,
    EnqueueFailedError,
    ForbiddenError,
    InvalidCursorError,
    InvalidRequestError,
    LimitReachedError,
    MalformedJsonError,
    NotFoundError,
    ParcelhooksError,
    PayloadTooLargeError,
    SubscriptionDisabledError,
    UnauthorizedError,
    ValidationFailedError,
)
from parcelhooks.core.json_input import read_json
from parcelhooks.core.observability import logger

# Far more than any admin request needs; the strict reader's work stays small.
MAX_ADMIN_BODY_BYTES = 64 * 1024
JSON_MEDIA_TYPE = content_types.APPLICATION_JSON
# C0, DEL and C1.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Looked up along the error's MRO: a new subclass answers like its nearest mapped parent.
ERROR_ANSWERS: Final[Mapping[type[ParcelhooksError], tuple[HTTPStatus, ErrorCode]]] = {
    InvalidRequestError: (HTTPStatus.BAD_REQUEST, ErrorCode.INVALID_REQUEST),
    MalformedJsonError: (HTTPStatus.BAD_REQUEST, ErrorCode.MALFORMED_JSON),
    ValidationFailedError: (HTTPStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED),
    InvalidCursorError: (HTTPStatus.BAD_REQUEST, ErrorCode.INVALID_CURSOR),
    PayloadTooLargeError: (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE),
    UnauthorizedError: (HTTPStatus.UNAUTHORIZED, ErrorCode.UNAUTHORIZED),
    ForbiddenError: (HTTPStatus.FORBIDDEN, ErrorCode.FORBIDDEN),
    NotFoundError: (HTTPStatus.NOT_FOUND, ErrorCode.NOT_FOUND),
    ConflictError: (HTTPStatus.CONFLICT, ErrorCode.CONFLICT),
    LimitReachedError: (HTTPStatus.CONFLICT, ErrorCode.LIMIT_REACHED),
    SubscriptionDisabledError: (HTTPStatus.CONFLICT, ErrorCode.SUBSCRIPTION_DISABLED),
    EnqueueFailedError: (HTTPStatus.SERVICE_UNAVAILABLE, ErrorCode.ENQUEUE_FAILED),
}


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    owner_id: str
    key_id: str
    # The merchants a scoped carrier key may send for; None when it is not scoped.
    merchants: frozenset[str] | None = None
    # A carrier key's vocabulary (a verdict cached from before vocabularies: the legacy one).
    vocabulary: Vocabulary = LEGACY_VOCABULARY


def caller_of(app: APIGatewayRestResolver, role: Role) -> Caller:
    """The authorizer's verdict; checked again here so a misrouted key never acts."""
    context: dict[str, Any] = app.current_event.request_context.authorizer.get_context() or {}
    if context.get("role") != role.value or not context.get("owner_id"):
        raise ForbiddenError(f"this route needs a {role.value} key")
    merchants = context.get("merchants")
    vocabulary = context.get("vocabulary")
    return Caller(
        role=role,
        owner_id=str(context["owner_id"]),
        key_id=str(context.get("key_id")),
        merchants=None if merchants is None else frozenset(filter(None, merchants.split(","))),
        vocabulary=Vocabulary(vocabulary) if vocabulary else LEGACY_VOCABULARY,
    )


def refuse_unroutable_path(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 404 for a path holding a control character, raw or percent-encoded, before routing:
    no route or id has one, and the router's `$` also matches before a final line feed, so
    `/v1/subscriptions/<id>%0A` would otherwise be read as `<id>`."""
    if not _CONTROL_CHARACTER.search(unquote(str(event.get("path") or ""))):
        return None
    return _proxy_response(HTTPStatus.NOT_FOUND, error_body(ErrorCode.NOT_FOUND, "no such route"))


def refuse_non_json(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 415 for a request body that is not declared JSON in UTF-8, checked before routing.

    Media types and charset names are case-insensitive (RFC 9110, 8.3.1), and `+json` types
    are JSON: an accepted declaration is rewritten to plain `application/json`, so that the
    router, which compares the header as written, reads the body as JSON too.
    """
    if not event.get("body"):
        return None
    media_type, charset = _declared_media_type(event)
    if _is_json(media_type) and charset in {None, "utf-8", "utf8"}:
        _declare_json(event)
        return None
    got = media_type or "none"
    if _is_json(media_type):
        got = f"{media_type} in charset {charset}"
    body = error_body(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        "send the body as JSON in UTF-8 with Content-Type: application/json",
        [{"loc": "content-type", "message": f"got {got}", "type": "media_type"}],
    )
    return _proxy_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, body)


def _is_json(media_type: str) -> bool:
    return media_type == JSON_MEDIA_TYPE or media_type.endswith("+json")


def _declared_media_type(event: dict[str, Any]) -> tuple[str, str | None]:
    """The Content-Type's media type and charset, lower case (the charset None if not given)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type, *parameters = str(headers.get("content-type") or "").split(";")
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media_type.strip().lower(), charset


def _declare_json(event: dict[str, Any]) -> None:
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field)
        if not headers:
            continue
        for name in [name for name in headers if name.lower() == "content-type"]:
            del headers[name]
        headers["content-type"] = JSON_MEDIA_TYPE if field == "headers" else [JSON_MEDIA_TYPE]


def refuse_unreadable_json(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 400 (or 413) for a body the strict reader refuses or that is not a JSON object,
    checked before routing: Powertools reads bodies with plain json.loads, which lets NaN and
    repeated keys through and fails with a 500 on deep nesting, and it reads an array as its
    first element."""
    if not event.get("body"):
        return None
    try:
        value = read_json(request_body(event), max_bytes=MAX_ADMIN_BODY_BYTES)
    except (MalformedJsonError, PayloadTooLargeError) as error:
        status, code = ERROR_ANSWERS[type(error)]
        return _proxy_response(status, error_body(code, error.message, error.details))
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else "a scalar"
        return _proxy_response(
            HTTPStatus.BAD_REQUEST,
            error_body(
                ErrorCode.INVALID_REQUEST,
                "the body must be one JSON object; nothing was changed",
                [{"loc": "body", "message": f"got {kind}", "type": "invalid_request"}],
            ),
        )
    return None


def request_body(event: dict[str, Any]) -> str | bytes:
    """The body as it arrived: bytes when API Gateway passed it base64-encoded, so that bytes
    that are not UTF-8 are refused by the reader instead of being replaced."""
    body: str = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise MalformedJsonError(
            "the body is marked base64 but is not",
            [{"loc": "body", "message": "not base64", "type": "json_invalid"}],
        ) from None


def refuse_unread_input(
    app: APIGatewayRestResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """A 400 for input the matched route would not read, instead of dropping it silently:
    a body on a route that takes none (an empty object aside), a query parameter it does
    not know, or one sent more than once."""
    route = app.context["_route"]
    details: list[Detail] = []
    body_unread = not route.dependant.body_params and app.current_event.body
    if body_unread and app.current_event.json_body != {}:
        details.append(
            {"loc": "body", "message": "this route takes no body", "type": "extra_forbidden"}
        )
    known = {param.alias for param in route.dependant.query_params}
    event = app.current_event
    sent = event.multi_value_query_string_parameters or {
        name: [value] for name, value in event.query_string_parameters.items()
    }
    for name, values in sorted(sent.items()):
        if name not in known:
            details.append(
                {
                    "loc": f"query.{name}",
                    "message": "unknown query parameter",
                    "type": "extra_forbidden",
                }
            )
        elif len(values) > 1:
            details.append(
                {
                    "loc": f"query.{name}",
                    "message": "sent more than once",
                    "type": "extra_forbidden",
                }
            )
    if details:
        raise InvalidRequestError(f"{len(details)} problem(s) in the request", details)
    return next_middleware(app)


def _proxy_response(status: HTTPStatus, body: dict[str, Any]) -> dict[str, Any]:
    """An answer given before routing, in API Gateway's proxy shape."""
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def json_response(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def answer_for(error_type: type[ParcelhooksError]) -> tuple[HTTPStatus, ErrorCode] | None:
    """The status and code of the nearest class in `ERROR_ANSWERS`; None if there is none."""
    for cls in error_type.__mro__:
        if issubclass(cls, ParcelhooksError) and cls in ERROR_ANSWERS:
            return ERROR_ANSWERS[cls]
    return None


def _error_response(status: HTTPStatus, body: dict[str, Any]) -> Response[Any]:
    return Response(
        status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body
    )


def _internal_error() -> Response[Any]:
    return _error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, error_body(ErrorCode.INTERNAL, "internal error")
    )


def _domain_response(error: ParcelhooksError) -> Response[Any]:
    """A domain error as the API answers it."""
    answer = answer_for(type(error))
    if answer is None:
        logger.exception("domain error with no HTTP answer", error_type=type(error).__name__)
        return _internal_error()
    status, code = answer
    return _error_response(status, error_body(code, error.message, error.details))


def _validation_details(error: RequestValidationError) -> list[Detail]:
    return [
        {
            "loc": ".".join(str(p) for p in problem["loc"] if p != "body") or "body",
            "message": problem["msg"],
            "type": problem["type"],
        }
        for problem in error.errors()
    ]


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Every failure answers {"error": {"code", "message", "details"}}."""

    @app.exception_handler(ParcelhooksError)
    def _domain_error(error: ParcelhooksError) -> Response[Any]:
        return _domain_response(error)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[Any]:
        details = _validation_details(error)
        message = f"{len(details)} problem(s) in the request"
        return _domain_response(ValidationFailedError(message, details))

    @app.not_found
    def _not_found(_: Exception) -> Response[Any]:
        return _domain_response(NotFoundError("no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return _internal_error()


# The merchant portal's calls: the merchant API's routes under this prefix, in a session.
PORTAL_API_PREFIX = "/portal/api/"


def portal_api_path(event: Mapping[str, Any]) -> str | None:
    """The merchant API path a portal call is for (`/portal/api/v1/x` → `/v1/x`), else None."""
    path = str(event.get("path") or "")
    if not path.startswith(PORTAL_API_PREFIX + "v1/"):
        return None  # nothing but the merchant API: no route answers, so a 404
    return "/" + path.removeprefix(PORTAL_API_PREFIX)


def acting_as_merchant(event: dict[str, Any], merchant_id: str, path: str) -> dict[str, Any]:
    """The portal call as the merchant API's own: its path, and the merchant the session
    proved, where the authorizer puts a key's owner (nothing of the caller's is trusted)."""
    context = dict(event.get("requestContext") or {})
    context["authorizer"] = {
        "role": Role.MERCHANT.value,
        "owner_id": merchant_id,
        "key_id": "portal-session",
    }
    return {**event, "path": path, "resource": path, "requestContext": context}


def error_response(status: HTTPStatus, code: ErrorCode, message: str) -> dict[str, Any]:
    """An answer given before routing, in the one error shape."""
    return _proxy_response(status, error_body(code, message))
