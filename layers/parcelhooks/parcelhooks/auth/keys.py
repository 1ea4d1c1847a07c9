"""API keys: `phk_` + 43 random URL-safe characters, shown once, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from parcelhooks.core.models import Model

KEY_PREFIX = "phk_"
KEY_RANDOM_BYTES = 32


class Role(StrEnum):
    CARRIER = "carrier"
    MERCHANT = "merchant"


class ApiKeyRecord(Model):
    """What the ApiKeys table holds for a key; never the key itself."""

    key_id: str
    key_hash: str
    role: Role
    owner_id: str
    created_at: datetime
    description: str | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and len(value) >= len(KEY_PREFIX) + 32
