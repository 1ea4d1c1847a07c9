"""The Lambda handler reports exactly the failed messages (partial batch response)."""

import pytest

from parcelhooks.wiring import fanout as fanout_wiring
from testkit.factories import (
    LambdaContextStub,
    load_function,
    shipment_event,
    sqs_event,
    subscription,
)
from testkit.fakes import FanoutKit


class BrokenLog:
    def record(self, attempts) -> None:
        raise RuntimeError("DynamoDB is down")


def test_only_the_failed_message_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    ok = subscription(id="sub_ok", merchant_id="merchant-a")
    broken = subscription(id="sub_broken", merchant_id="merchant-b", url="https://b.example/h")
    kit = FanoutKit([ok, broken])
    monkeypatch.setattr(fanout_wiring, "fanout", lambda: kit.fanout)
    app = load_function("fanout")
    original = kit.log.record

    def record(attempts) -> None:
        if any(a.merchant_id == "merchant-b" for a in attempts):
            BrokenLog().record(attempts)
        original(attempts)

    monkeypatch.setattr(kit.log, "record", record)
    event = sqs_event(
        [
            shipment_event(event_id="evt_a", merchant_id="merchant-a").model_dump_json(),
            shipment_event(event_id="evt_b", merchant_id="merchant-b").model_dump_json(),
            "not json",
        ]
    )
    response = app.handler(event, LambdaContextStub())
    failed = sorted(item["itemIdentifier"] for item in response["batchItemFailures"])
    assert failed == ["msg-1", "msg-2"]
    assert [a.event_id for a in kit.log.attempts] == ["evt_a"]


def test_a_clean_batch_reports_no_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    kit = FanoutKit([subscription()])
    monkeypatch.setattr(fanout_wiring, "fanout", lambda: kit.fanout)
    app = load_function("fanout")
    response = app.handler(sqs_event([shipment_event().model_dump_json()]), LambdaContextStub())
    assert response == {"batchItemFailures": []}
