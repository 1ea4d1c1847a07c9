"""Cursor pages over one DynamoDB partition, with cursors a caller cannot forge.

A cursor is DynamoDB's LastEvaluatedKey plus the scope it was handed out for (which
listing, which partition), signed with HMAC-SHA256 under a key of the stack. Anything
else — another scope, a changed byte, a key of the wrong shape — is an InvalidCursorError,
never a query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from functools import cached_property
from typing import Any

from parcelhooks.core.errors import InvalidCursorError

SIGNATURE_BYTES = 16
MAX_CURSOR_CHARS = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """Strict: only the one spelling `_b64` makes (base64 lets spare bits vary)."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64")
    return data


class CursorSigner:
    """Signs and checks cursors; the key is read on first use (one read per container)."""

    def __init__(self, load_key: Callable[[], bytes]) -> None:
        self._load_key = load_key

    @cached_property
    def _key(self) -> bytes:
        return self._load_key()

    def _signature(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]

    def encode(self, scope: str, last_key: dict[str, Any] | None) -> str | None:
        if not last_key:
            return None
        payload = json.dumps({"s": scope, "k": last_key}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._signature(payload))}"

    def decode(self, scope: str, cursor: str | None, key_names: frozenset[str]) -> dict[str, str]:
        """The start key of a cursor handed out for `scope`; InvalidCursorError otherwise."""
        if not cursor:
            return {}
        try:
            if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
                raise ValueError("not a cursor")
            payload_text, _, signature_text = cursor.partition(".")
            payload, signature = _unb64(payload_text), _unb64(signature_text)
        except (ValueError, binascii.Error):
            raise InvalidCursorError(cursor) from None
        if not hmac.compare_digest(signature, self._signature(payload)):
            raise InvalidCursorError(cursor)
        content = json.loads(payload)  # we signed it, so it is our JSON
        start = content.get("k")
        if content.get("s") != scope or not _is_key(start, key_names):
            raise InvalidCursorError(cursor)
        return dict(start)


def _is_key(value: object, names: frozenset[str]) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == names
        and all(isinstance(part, str) for part in value.values())
    )


def query_page(
    table: Any,
    key: str,
    value: str,
    limit: int,
    start: dict[str, str] | None = None,
    *,
    sort_condition: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One page of the partition `key = value`, from `start` (a checked LastEvaluatedKey);
    `sort_condition` narrows it to a range of sort keys (its values in `extra`)."""
    if start and start.get(key) != value:
        raise ValueError("a page of one partition cannot start in another")
    values = {":pk": value, **extra.pop("ExpressionAttributeValues", {})}
    condition = f"{key} = :pk" + (f" AND {sort_condition}" if sort_condition else "")
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "Limit": limit,
        **extra,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    response: dict[str, Any] = table.query(**kwargs)
    return response
