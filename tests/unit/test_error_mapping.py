"""What clients see for each domain error: the status and code api/edge.py answers it with."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

import parcelhooks
from parcelhooks.api.edge import ERROR_ANSWERS, answer_for, install_error_handlers
from parcelhooks.auth.portal import CsrfError, PortalSignInError
from parcelhooks.core.errors import (
    ConflictError,
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
from testkit.factories import LambdaContextStub, api_event

# Written out, not derived from ERROR_ANSWERS: this is the contract clients rely on.
EXPECTED: dict[type[ParcelhooksError], tuple[int, str]] = {
    InvalidRequestError: (400, "invalid_request"),
    MalformedJsonError: (400, "malformed_json"),
    ValidationFailedError: (400, "validation_failed"),
    InvalidCursorError: (400, "invalid_cursor"),
    PayloadTooLargeError: (413, "payload_too_large"),
    UnauthorizedError: (401, "unauthorized"),
    PortalSignInError: (401, "unauthorized"),
    CsrfError: (403, "forbidden"),
    ForbiddenError: (403, "forbidden"),
    NotFoundError: (404, "not_found"),
    ConflictError: (409, "conflict"),
    LimitReachedError: (409, "limit_reached"),
    SubscriptionDisabledError: (409, "subscription_disabled"),
    EnqueueFailedError: (503, "enqueue_failed"),
}


class _UnmappedError(ParcelhooksError):
    """A domain error someone forgot to give an answer."""


def _answer(error: Exception, path: str = "/boom") -> tuple[int, dict[str, Any]]:
    """Raise `error` from a route of a real resolver with the edge's handlers installed."""
    app = APIGatewayRestResolver()
    install_error_handlers(app)

    @app.get("/boom")
    def _boom() -> None:
        raise error

    response = app.resolve(api_event("GET", path), LambdaContextStub())
    return response["statusCode"], json.loads(response["body"])


def _example(error_type: type[ParcelhooksError]) -> ParcelhooksError:
    if error_type is InvalidCursorError:
        return InvalidCursorError("not-a-cursor")
    if error_type is PortalSignInError:
        return PortalSignInError("link expired or used")  # its reason: one message for all
    detail = {"loc": "events[0].status", "message": "bad", "type": "value_error"}
    return error_type("what went wrong", [detail])  # type: ignore[list-item]


def _domain_errors() -> set[type[ParcelhooksError]]:
    """Every ParcelhooksError subclass in the package, wherever it is defined."""
    for module in pkgutil.walk_packages(parcelhooks.__path__, "parcelhooks."):
        importlib.import_module(module.name)
    found: set[type[ParcelhooksError]] = set()
    pending = [ParcelhooksError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("parcelhooks."):
                found.add(subclass)
    return found


@pytest.mark.parametrize(
    ("error_type", "expected"), EXPECTED.items(), ids=[t.__name__ for t in EXPECTED]
)
def test_each_domain_error_is_answered_with_its_status_and_code(
    error_type: type[ParcelhooksError], expected: tuple[int, str]
) -> None:
    error = _example(error_type)
    status, body = _answer(error)
    code = expected[1]
    assert status == expected[0]
    assert body == {"error": {"code": code, "message": error.message, "details": error.details}}


def test_a_bad_cursor_is_a_400_invalid_cursor() -> None:
    assert _answer(InvalidCursorError("eyJub3BlIjogMX0=")) == (
        400,
        {
            "error": {
                "code": "invalid_cursor",
                "message": "the cursor is not one this API handed out",
                "details": [{"loc": "cursor", "message": "unknown cursor", "type": "cursor"}],
            }
        },
    )


def test_every_domain_error_has_an_answer_so_none_becomes_a_500() -> None:
    assert ParcelhooksError not in ERROR_ANSWERS  # else every subclass would pass unnoticed
    errors = _domain_errors()
    assert {e for e in errors if answer_for(e) is None} == set()
    assert errors == set(EXPECTED), "add the new error's status and code to EXPECTED"


def test_an_error_without_an_answer_is_an_internal_error() -> None:
    assert _answer(_UnmappedError("forgotten")) == (
        500,
        {"error": {"code": "internal_error", "message": "internal error", "details": []}},
    )


def test_a_subclass_answers_like_its_nearest_mapped_parent() -> None:
    class StaleCursorError(InvalidCursorError):
        pass

    assert answer_for(StaleCursorError) == ERROR_ANSWERS[InvalidCursorError]


def test_unknown_routes_and_unexpected_errors_keep_the_error_shape() -> None:
    assert _answer(NotFoundError("unused"), path="/nowhere") == (
        404,
        {"error": {"code": "not_found", "message": "no such route", "details": []}},
    )
    assert _answer(RuntimeError("db down"))[0] == 500
