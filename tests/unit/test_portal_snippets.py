"""The verification code the portal shows beside a signing secret works: run against
webhooks signed by the fan-out's own signing code, it takes the good ones (also during a
rotation, signed by two secrets) and refuses the others. (The Node.js code is run in
tests/component/test_portal_snippets.py: it needs a process.)"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from parcelhooks.api.portal_assets import PORTAL_DIR
from parcelhooks.delivery.signing import generate_secret, webhook_headers

BODY = json.dumps({"type": "shipment.delivered", "data": {"tracking_code": "QB123456785BR"}})


def _signed(secrets: list[str], body: str = BODY) -> dict[str, str]:
    return webhook_headers(secrets, "msg_1", int(time.time()), body.encode())


def _python_verifier(secret: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PARCELHOOKS_WEBHOOK_SECRET", secret)
    namespace: dict[str, Any] = {}
    exec((PORTAL_DIR / "verify-python.txt").read_text(encoding="utf-8"), namespace)
    return namespace["verified_event"]


def test_the_python_code_takes_a_webhook_signed_with_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = generate_secret()
    verified_event = _python_verifier(secret, monkeypatch)
    event = verified_event(BODY.encode(), _signed([secret]))
    assert event["data"]["tracking_code"] == "QB123456785BR"


def test_the_python_code_takes_the_new_secret_during_a_rotation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = generate_secret(), generate_secret()
    verified_event = _python_verifier(new, monkeypatch)
    assert verified_event(BODY.encode(), _signed([old, new]))["type"] == "shipment.delivered"


def test_the_python_code_refuses_another_secret_and_a_changed_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = generate_secret()
    verified_event = _python_verifier(secret, monkeypatch)
    with pytest.raises(Exception, match="signature"):
        verified_event(BODY.encode(), _signed([generate_secret()]))
    with pytest.raises(Exception, match="signature"):
        verified_event(BODY.replace("QB", "XX").encode(), _signed([secret]))
