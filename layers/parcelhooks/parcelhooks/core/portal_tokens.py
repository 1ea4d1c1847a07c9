"""The merchant portal's tokens as stored: a one-time sign-in link, or a signed-in session.

Only the SHA-256 of a token is stored, as with API keys: whoever reads the table cannot sign
in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from parcelhooks.core.models import Model

PortalTokenKind = Literal["link", "session"]


class PortalToken(Model):
    token_hash: str
    kind: PortalTokenKind
    merchant_id: str
    created_at: datetime
    expires_at: datetime
    # Who made it: "merchant" (POST /v1/portal/links, or a key sign-in) or "ops" (the CLI).
    issued_by: str
    # A link's single use: set when it is exchanged for a session.
    used_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.expires_at > now and self.used_at is None
