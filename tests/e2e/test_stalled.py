"""shipment.stalled on the deployed stack: a shipment whose latest event is 10 days old is
told by the scheduled sweep (every minute on the local stack), signed, through the
same queue and delivery log as a carrier's events; a subscription to "*" is not told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from tests.e2e.conftest import Api, carrier_event, subscribe, wait_for_attempts

# The sweep runs every minute: one run to find it, and room for the two cores' other work.
SWEEP_TIMEOUT_S = 150


def test_a_shipment_with_no_event_for_ten_days_is_told_stalled(
    carrier: Api, merchant: Api, receiver_factory: Any
) -> None:
    alerts = receiver_factory()
    everything = receiver_factory()
    sub = subscribe(merchant, alerts.url, ["shipment.stalled"])
    subscribe(merchant, everything.url, ["*"])
    tracking_code = f"E2E-STALLED-{uuid.uuid4().hex[:8]}"
    since = (datetime.now(UTC) - timedelta(days=10)).replace(microsecond=0)
    event = carrier_event(
        merchant.owner_id,
        tracking_code=tracking_code,
        status="in_transit",
        occurred_at=since.isoformat(),
        location={"city": "Cajamar", "state": "SP", "country": "BR"},
    )
    posted = carrier.call("POST", "/v1/events", event)
    assert posted.status_code == 202, posted.text
    everything.wait_for(1, 30)  # the carrier's event itself

    [hook] = alerts.wait_for(1, SWEEP_TIMEOUT_S)
    payload = Webhook(sub["secret"]).verify(hook.body, hook.headers)
    assert payload["type"] == "shipment.stalled"
    data = payload["data"]
    assert (data["tracking_code"], data["status"]) == (tracking_code, "in_transit")
    assert datetime.fromisoformat(data["alert"]["stalled_since"]) == since
    # Ten calendar days hold at least six business days, whatever the holidays.
    assert data["alert"]["kind"] == "stalled" and data["alert"]["business_days"] >= 4
    [logged] = wait_for_attempts(merchant, sub["id"], 1)
    assert (logged["event_type"], logged["outcome"]) == ("shipment.stalled", "delivered")

    # "*" never took it (once per episode across runs: tests/component/test_stalled_sweep.py).
    assert [h.headers["webhook-id"] for h in everything.received] == [
        posted.json()["events"][0]["event_id"]
    ]
