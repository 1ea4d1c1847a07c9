"""`parcelhooks keys`: issue, list and revoke API keys (stored only as SHA-256 hashes)."""

from __future__ import annotations

from datetime import UTC, datetime

from parcelhooks.auth.keys import generate_key, hash_key
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.core.api_keys import ApiKeyRecord, Role
from parcelhooks.core.ids import new_key_id


def create_key(
    table: ApiKeysTable,
    role: Role,
    owner_id: str,
    description: str | None = None,
    merchants: list[str] | None = None,
) -> tuple[str, ApiKeyRecord]:
    """Store a new key's hash and return the key: the only time anyone sees it."""
    if merchants is not None and role is not Role.CARRIER:
        raise ValueError("--merchants scopes carrier keys only")
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
    )
    table.put(record)
    return key, record


def key_is_live(table: ApiKeysTable, key: str) -> bool:
    record = table.find(hash_key(key))
    return record is not None and record.active
