"""Identifiers: time-ordered ids for new things, derived ids for things that must not double."""

import base64
import hashlib
import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid(now_ms: int | None = None) -> str:
    """26 characters, sortable by creation time (48-bit ms clock + 80 random bits)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def new_event_id() -> str:
    return f"evt_{_ulid()}"


def new_subscription_id() -> str:
    return f"sub_{_ulid()}"


def new_key_id() -> str:
    return f"key_{_ulid()}"


def delivery_id(event_id: str, subscription_id: str) -> str:
    """The same event to the same subscription is always the same delivery."""
    digest = hashlib.sha256(f"{event_id}\x00{subscription_id}".encode()).digest()
    return "dlv_" + base64.b32encode(digest[:15]).decode().lower()
