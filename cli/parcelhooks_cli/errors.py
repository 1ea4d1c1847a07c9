"""Why a command could not do what was asked, said in a sentence instead of a traceback.

Exit codes: 0 done; 1 the operation was refused or failed (the API answered an error,
the redrive function answered one, no such key); 2 the command could not run at all
(bad arguments or input, no local stack, unknown stack, no credentials or region,
nothing answering at the endpoint); 130 interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from parcelhooks_cli.target import TargetError

EXIT_FAILED = 1
EXIT_CANNOT_RUN = 2
# Exceptions main turns into a Problem; anything else is a bug and keeps its traceback.
EXPECTED_ERRORS = (TargetError, BotoCoreError, ClientError, requests.RequestException)


@dataclass(frozen=True)
class Problem:
    """What went wrong: a short machine code, a sentence, and the API's details if any."""

    code: str
    message: str
    exit_code: int = EXIT_CANNOT_RUN
    details: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class CommandFailed(Exception):  # noqa: N818 - it reads as what happened
    """The command ran and the other side said no; `body` is its answer, for --json."""

    def __init__(self, problem: Problem, body: Any = None) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.body = body


def problem_from_error_shape(answer: Any, fallback: str) -> Problem:
    """Our one error shape, `{"error": {"code", "message", "details": [...]}}`, as a Problem."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return Problem("failed", fallback, EXIT_FAILED)
    details = [_detail_line(detail) for detail in error.get("details") or []]
    return Problem(
        str(error.get("code", "failed")),
        str(error.get("message", fallback)),
        EXIT_FAILED,
        details,
    )


def _detail_line(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    where = detail.get("loc")
    what = detail.get("message") or detail.get("msg") or detail
    return f"{where}: {what}" if where not in (None, "") else str(what)


def explain(error: Exception, *, local: bool) -> Problem:
    """One of EXPECTED_ERRORS as a Problem; `local` says whether `make run` is the cure."""
    match error:
        case TargetError():
            return Problem("no_target", str(error))
        case EndpointConnectionError() | BotoConnectionError():
            return _unreachable(str(error.kwargs.get("endpoint_url", "the AWS endpoint")), local)
        case NoCredentialsError():
            return Problem(
                "no_credentials",
                "no AWS credentials: configure a profile (AWS_PROFILE) or set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; --local acts on the local stack",
            )
        case NoRegionError():
            return Problem(
                "no_region",
                "no AWS region: set AWS_DEFAULT_REGION or a region in your AWS profile",
            )
        case ClientError():
            return _refused(error, local)
        case requests.ConnectionError():  # a connect timeout too
            return _unreachable(_url_of(error), local)
        case requests.Timeout():
            return Problem("timeout", f"{_url_of(error)} did not answer in time")
        case _:
            return Problem("failed", f"{type(error).__name__}: {error}")


def _url_of(error: requests.RequestException) -> str:
    return str(error.request.url) if error.request is not None else "the API"


def _unreachable(endpoint: str, local: bool) -> Problem:
    if local:
        hint = "is the local stack up? Start it with `make run`"
        return Problem("stack_not_up", f"cannot reach {endpoint}: {hint}")
    return Problem("unreachable", f"cannot reach {endpoint}: check your network and region")


def _refused(error: ClientError, local: bool) -> Problem:
    info = error.response.get("Error", {})
    code, message = info.get("Code", "?"), info.get("Message", str(error))
    if code == "ValidationError" and "does not exist" in message:
        where = (
            "on the local stack (`make run` deploys it)" if local else "in this account and region"
        )
        return Problem("stack_not_found", f"{message} {where}: check --stack")
    return Problem("aws_refused", f"AWS refused {error.operation_name}: {code}: {message}")
