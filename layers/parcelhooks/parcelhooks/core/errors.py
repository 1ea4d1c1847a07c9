"""Domain errors: what a caller did wrong or what could not be done, in domain terms.

They carry a message and the problems found, never an HTTP status: api/edge.py alone
decides how each one is answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from pydantic import ValidationError


class Detail(TypedDict):
    """One problem: where (`events[3].location.city`), what, and its kind."""

    loc: str
    message: str
    type: str


class ParcelhooksError(Exception):
    """Base of every error the API answers on purpose; anything else is an internal error."""

    def __init__(self, message: str, details: Sequence[Detail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[Detail] = list(details)


class InvalidRequestError(ParcelhooksError):
    """The request cannot be acted on as sent."""


class MalformedJsonError(InvalidRequestError):
    """The body is not JSON at all."""


class ValidationFailedError(InvalidRequestError):
    """The body parsed but breaks the contract; `details` lists every problem."""


class InvalidCursorError(InvalidRequestError):
    """A page cursor this API did not hand out for this listing: forged, altered, another's."""

    def __init__(self, cursor: str) -> None:
        # One fixed answer: a cursor is opaque to its sender, so there is nothing more to say.
        super().__init__(
            "the cursor is not one this API handed out",
            [{"loc": "cursor", "message": "unknown cursor", "type": "cursor"}],
        )
        self.cursor = cursor


class PayloadTooLargeError(ParcelhooksError):
    """The request body is larger than we read."""


class UnauthorizedError(ParcelhooksError):
    """No credential we know (the gateway answers most of these; the portal's sign-in its own)."""


class ForbiddenError(ParcelhooksError):
    """The caller's key may not use this route."""


class NotFoundError(ParcelhooksError):
    """No such thing for this caller (another merchant's things included)."""


class ConflictError(ParcelhooksError):
    """The request clashes with the current state of what it names."""


class LimitReachedError(ConflictError):
    """One more would exceed what a merchant may have."""


class SubscriptionDisabledError(ConflictError):
    """The subscription is disabled, so nothing may be sent to it."""


class EnqueueFailedError(ParcelhooksError):
    """Not everything could be queued; sending the same request again is safe."""


def _location(loc: tuple[int | str, ...]) -> str:
    """`events[3].location.city` from pydantic's ('events', 3, 'location', 'city')."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def details_from_validation(error: ValidationError) -> list[Detail]:
    details: list[Detail] = []
    for problem in error.errors(include_url=False, include_input=False):
        loc = tuple(p for p in problem["loc"] if not (isinstance(p, str) and "[" in p))
        details.append({"loc": _location(loc), "message": problem["msg"], "type": problem["type"]})
    return details


# Opening a subscription's sealed header values (aws/secret_box.py, for the fan-out).
class SecretsUnavailableError(RuntimeError):
    """The secrets could not be opened this time (throttled, a timeout): ask again later."""


class SecretsUnreadableError(RuntimeError):
    """The secrets will not open (the key disabled or gone, no permission, a damaged value):
    asking again will not help."""
