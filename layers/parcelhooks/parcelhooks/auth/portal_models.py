"""The bodies of the portal's sign-in and of `POST /v1/portal/links`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from parcelhooks.auth.portal import MAX_LINK_TTL, MIN_LINK_TTL
from parcelhooks.core.models import Model, StrictModel

Token = Annotated[str, Field(min_length=1, max_length=256)]


class SignInIn(StrictModel):
    """Exactly one of a one-time portal link's token or a merchant key."""

    link: Token | None = None
    key: Token | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SignInIn:
        if (self.link is None) == (self.key is None):
            raise ValueError("send either `link` (a portal link's token) or `key`")
        return self


class SignedIn(Model):
    merchant_id: str
    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` with every portal call that changes something."
    )
    expires_at: datetime


class PortalLinkIn(StrictModel):
    ttl_s: int = Field(
        default=3600,
        ge=int(MIN_LINK_TTL.total_seconds()),
        le=int(MAX_LINK_TTL.total_seconds()),
        description="How long the link can be used (once): 60 s to 1 day, 1 h by default.",
    )


class PortalLinkOut(Model):
    token: str = Field(description="The link's single-use token (`phl_…`).")
    path: str = Field(
        description="The portal page with the token in its fragment: append it to the API's "
        "base URL. The fragment never reaches a server; the page exchanges it for a session "
        "and removes it from the address bar."
    )
    expires_at: datetime
