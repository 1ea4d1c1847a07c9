"""API keys: `phk_` + 43 random URL-safe characters, shown once, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Protocol

from parcelhooks.core.api_keys import ApiKeyRecord, Role, Vocabulary
from parcelhooks.core.ids import new_key_id

KEY_PREFIX = "phk_"
KEY_RANDOM_BYTES = 32


class KeyStore(Protocol):
    """Where keys' records are kept (the ApiKeys table)."""

    def put(self, record: ApiKeyRecord) -> None: ...

    def find(self, key_hash: str) -> ApiKeyRecord | None: ...


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and len(value) >= len(KEY_PREFIX) + 32


def create_key(
    store: KeyStore,
    role: Role,
    owner_id: str,
    description: str | None = None,
    merchants: list[str] | None = None,
    *,
    vocabulary: Vocabulary | None = None,
) -> tuple[str, ApiKeyRecord]:
    """Store a new key's hash and return the key: the only time anyone sees it. A new
    carrier key reads `vocabulary`, `canonical` unless said."""
    if merchants is not None and role is not Role.CARRIER:
        raise ValueError("--merchants scopes carrier keys only")
    if vocabulary is not None and role is not Role.CARRIER:
        raise ValueError("--vocabulary is a carrier key's")
    if role is Role.CARRIER and vocabulary is None:
        vocabulary = Vocabulary.CANONICAL
    if merchants is not None and not merchants:
        raise ValueError("--merchants needs at least one merchant id")
    key = generate_key()
    record = ApiKeyRecord(
        key_id=new_key_id(),
        key_hash=hash_key(key),
        role=role,
        owner_id=owner_id,
        created_at=datetime.now(UTC),
        description=description,
        merchants=merchants,
        vocabulary=vocabulary,
    )
    store.put(record)
    return key, record


def key_is_live(store: KeyStore, key: str) -> bool:
    record = store.find(hash_key(key))
    return record is not None and record.active
