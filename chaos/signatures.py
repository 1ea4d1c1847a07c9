"""Standard Webhooks verification by an outside observer, with the reference library's signer."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

# The library's own tolerance; a recorded request is judged at the time it was received.
TOLERANCE_S = 300.0
VERSION = "v1"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    at: float | None = None,
    tolerance_s: float = TOLERANCE_S,
) -> bool:
    """True if any `v1` signature of the request verifies with `secret` at time `at`.

    `Webhook.verify` judges the timestamp against the clock now; a ledger runs after the
    requests arrived, so the timestamp is judged here against `at` (default: now) and the
    library computes the expected signature.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    signatures = lowered.get("webhook-signature", "")
    sent_at = _timestamp(lowered.get("webhook-timestamp", ""))
    if not msg_id or not signatures or sent_at is None:
        return False
    now = time.time() if at is None else at
    if abs(now - sent_at) > tolerance_s:
        return False
    expected = _expected_mac(secret, msg_id, sent_at, body)
    return expected is not None and any(
        hmac.compare_digest(expected, mac) for mac in _offered_macs(signatures.split(" "))
    )


def verify_any(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, *, at: float | None = None
) -> bool:
    """True if the request verifies with any of the subscription's live secrets."""
    return any(verify(secret, headers, body, at=at) for secret in secrets)


def _timestamp(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() else None


def _expected_mac(secret: str, msg_id: str, sent_at: int, body: bytes) -> bytes | None:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None  # the library signs text; a body that is not UTF-8 cannot verify
    signed = Webhook(secret).sign(msg_id, datetime.fromtimestamp(sent_at, UTC), text)
    return base64.b64decode(signed.removeprefix(f"{VERSION},"))


def _offered_macs(signatures: Iterable[str]) -> Iterable[bytes]:
    for signature in signatures:
        version, _, encoded = signature.partition(",")
        if version != VERSION:
            continue
        try:
            yield base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
