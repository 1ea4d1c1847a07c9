"""The stack's key for signing page cursors: made on first use, kept in the Subscriptions table.

It lives under a partition no merchant can have (owner ids never contain "#"), so it
costs no extra table or permission, and every container of the stack signs alike.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from botocore.exceptions import ClientError

from parcelhooks.aws.items import is_condition_failure

CURSOR_KEY_ITEM = {"merchant_id": "#stack", "subscription_id": "cursor-key"}
CURSOR_KEY_BYTES = 32


def stored_cursor_key(table: Any) -> bytes:
    """The key, creating it if no container has yet (the first writer wins)."""
    existing = _read(table)
    if existing is not None:
        return existing
    fresh = secrets.token_bytes(CURSOR_KEY_BYTES)
    try:
        table.put_item(
            Item={**CURSOR_KEY_ITEM, "key": base64.b64encode(fresh).decode()},
            ConditionExpression="attribute_not_exists(merchant_id)",
        )
    except ClientError as error:
        if not is_condition_failure(error):
            raise
        won = _read(table)
        assert won is not None  # the condition failed because it exists
        return won
    return fresh


def _read(table: Any) -> bytes | None:
    item = table.get_item(Key=CURSOR_KEY_ITEM, ConsistentRead=True).get("Item")
    return base64.b64decode(str(item["key"])) if item else None
