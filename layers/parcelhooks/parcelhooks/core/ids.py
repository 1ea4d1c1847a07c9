"""Identifiers: time-ordered ids for new things, derived ids for things that must not double."""

import base64
import hashlib
import os
import re
import time
from datetime import UTC, datetime, timedelta

# Carrier and merchant ids: joined into table keys with "#" and listed in an authorizer
# context with ",", so neither may appear in one, nor spaces or control characters.
OWNER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
OWNER_ID_RULE = "1-128 characters: letters, digits and . _ : @ -, starting with a letter or digit"
_OWNER_ID = re.compile(OWNER_ID_PATTERN)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# A delivery id's time: 10 Crockford characters of milliseconds, as a ULID's.
TIME_CHARS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _crockford(value: int, chars: int) -> str:
    """`value` in `chars` Crockford base-32 digits, lower case (sorts as the number)."""
    digits = []
    for _ in range(chars):
        value, digit = divmod(value, 32)
        digits.append(_CROCKFORD[digit])
    return "".join(reversed(digits)).lower()


def _ulid(now_ms: int | None = None) -> str:
    """26 characters, sortable by creation time (48-bit ms clock + 80 random bits)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return _crockford((ms << 80) | int.from_bytes(os.urandom(10), "big"), 26).upper()


def is_owner_id(value: str) -> bool:
    return _OWNER_ID.fullmatch(value) is not None


def new_event_id() -> str:
    return f"evt_{_ulid()}"


def event_id_of(carrier: str, merchant_id: str, tracking_code: str, carrier_event_id: str) -> str:
    """A carrier's event always has the same event_id: whichever request brings it, the
    shipment's state and history recognise it, and a copy queued again is the same event
    to the fan-out (same deliveries, same `webhook-id`)."""
    key = "\x00".join((carrier, merchant_id, tracking_code, carrier_event_id))
    digest = hashlib.sha256(key.encode()).digest()
    return "evt_" + base64.b32encode(digest[:15]).decode()


def new_subscription_id() -> str:
    return f"sub_{_ulid()}"


def new_key_id() -> str:
    return f"key_{_ulid()}"


def delivery_id(event_id: str, subscription_id: str, event_at: datetime) -> str:
    """The same event to the same subscription is always the same delivery. The id starts
    with its event's time (ms), so the delivery log can file and find a delivery's lines
    by the id alone: `dlv_`, 10 characters of time, 16 of a hash of the two ids."""
    digest = hashlib.sha256(f"{event_id}\x00{subscription_id}".encode()).digest()
    ms = (event_at - _EPOCH) // _MS  # exact: a float timestamp can be off by one
    return "dlv_" + _crockford(ms, TIME_CHARS) + base64.b32encode(digest[:10]).decode().lower()


def delivery_time(dlv_id: str) -> datetime | None:
    """The event time a delivery id starts with, to the millisecond; None for an id of
    before ids held it (`legacy_delivery_id`)."""
    if len(dlv_id) != len("dlv_") + TIME_CHARS + 16 or not dlv_id.startswith("dlv_"):
        return None
    ms = 0
    for char in dlv_id[4 : 4 + TIME_CHARS].upper():
        digit = _CROCKFORD.find(char)
        if digit < 0:
            return None
        ms = ms * 32 + digit
    return _EPOCH + ms * _MS


def legacy_delivery_id(event_id: str, subscription_id: str) -> str:
    """A delivery's id as it was before ids held their event's time: lines written then
    are found by it (through the log's by-delivery index) until the log's retention ends."""
    digest = hashlib.sha256(f"{event_id}\x00{subscription_id}".encode()).digest()
    return "dlv_" + base64.b32encode(digest[:15]).decode().lower()


def operational_event_id(event_type: str, key: str) -> str:
    """The same happening (a delivery exhausted, a subscription disabled at a time) always
    has the same id, so a redelivered message does not tell the merchant twice."""
    digest = hashlib.sha256(f"{event_type}\x00{key}".encode()).digest()
    return "evt_" + base64.b32encode(digest[:15]).decode()
