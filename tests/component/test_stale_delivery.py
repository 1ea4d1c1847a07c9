"""Stale events through the handlers on moto: the merchant sets include_stale, reads the
skipped_stale log line and sends the skipped delivery. (Who receives what, the webhook body
and its OpenAPI `webhooks` section: tests/unit/test_stale_delivery.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parcelhooks.wiring import fanout as fanout_wiring
from testkit.factories import LambdaContextStub, api_event, load_function, shipment_event, sqs_event
from testkit.fakes import ScriptedSender


def _admin(method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
    request = api_event(method, path, body, role="merchant", owner_id="merchant-a", query=query)
    response = load_function("admin").handler(request, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def test_include_stale_is_set_changed_and_shown(moto_stack: dict[str, str]) -> None:
    new = {"url": "https://a.example/x", "event_types": ["*"]}
    status, created = _admin("POST", "/v1/subscriptions", new)
    assert status == 201 and created["include_stale"] is True
    path = f"/v1/subscriptions/{created['id']}"
    status, patched = _admin("PATCH", path, {"include_stale": False})
    assert status == 200 and patched["include_stale"] is False
    assert _admin("GET", path)[1]["include_stale"] is False
    assert _admin("PATCH", path, {"include_stale": None})[0] == 400


@pytest.mark.usefixtures("moto_stack")
def test_a_skipped_stale_event_is_in_the_delivery_log_and_the_merchant_can_send_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sender = ScriptedSender()
    monkeypatch.setattr(fanout_wiring, "HttpSender", lambda **_: sender)
    new = {"url": "https://a.example/fresh", "event_types": ["*"], "include_stale": False}
    _, created = _admin("POST", "/v1/subscriptions", new)
    late = shipment_event(event_id="evt_late", sequence=2, stale=True)
    fanout = load_function("fanout")
    assert fanout.handler(sqs_event([late.model_dump_json()]), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert sender.requests == []
    path = f"/v1/subscriptions/{created['id']}/deliveries"
    _, log = _admin("GET", path, outcome="skipped")
    [line] = log["data"]
    assert (line["event_id"], line["outcome"], line["status_code"]) == (
        "evt_late",
        "skipped_stale",
        None,
    )
    assert _admin("GET", path, outcome="failure")[1]["data"] == []  # not a failure
    # recover re-sends failures only; the skipped delivery is sent when the merchant asks.
    since = {"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    assert _admin("POST", f"/v1/subscriptions/{created['id']}/recover", since)[1]["recovered"] == 0
    status, resent = _admin("POST", f"/v1/deliveries/{line['delivery_id']}/retry")
    assert status == 202 and resent["attempt"] == 2
