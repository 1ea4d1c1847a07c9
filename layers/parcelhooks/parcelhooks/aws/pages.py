"""Cursor pages over one DynamoDB partition, shared by the tables that list."""

from __future__ import annotations

import base64
import json
from typing import Any

from parcelhooks.core.errors import InvalidCursorError


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursorError(cursor) from None
    if not isinstance(decoded, dict):
        raise InvalidCursorError(cursor)
    return decoded


def query_page(
    table: Any, key: str, value: str, limit: int, cursor: str | None, **extra: Any
) -> dict[str, Any]:
    """One page of a partition; a cursor from another partition is refused, not followed."""
    start = decode_cursor(cursor)
    if start is not None and start.get(key) != value:
        raise InvalidCursorError(cursor or "")
    values = {":pk": value, **extra.pop("ExpressionAttributeValues", {})}
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": f"{key} = :pk",
        "ExpressionAttributeValues": values,
        "Limit": limit,
        **extra,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    response: dict[str, Any] = table.query(**kwargs)
    return response
