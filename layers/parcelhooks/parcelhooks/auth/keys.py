"""API keys: `phk_` + 43 random URL-safe characters, shown once, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "phk_"
KEY_RANDOM_BYTES = 32


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and len(value) >= len(KEY_PREFIX) + 32
