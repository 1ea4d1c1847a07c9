import asyncio
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from parcelhooks.core.ids import delivery_id
from parcelhooks.delivery.outcomes import AttemptResult
from tests.factories import NOW, shipment_event, subscription
from tests.fakes import FanoutKit


def _run(kit: FanoutKit, body: str) -> None:
    asyncio.run(kit.fanout.handle_message(body))


def test_every_matching_enabled_subscription_gets_a_signed_post() -> None:
    wanted = subscription(id="sub_a", url="https://a.example/h", event_types=["*"])
    also = subscription(id="sub_b", url="https://b.example/h", event_types=["shipment.delivered"])
    other = subscription(id="sub_c", url="https://c.example/h", event_types=["shipment.posted"])
    off = subscription(id="sub_d", url="https://d.example/h", enabled=False)
    elsewhere = subscription(id="sub_e", merchant_id="merchant-b", url="https://e.example/h")
    # The verifier checks the timestamp against the real clock.
    kit = FanoutKit([wanted, also, other, off, elsewhere], now=datetime.now(UTC))
    _run(kit, shipment_event().model_dump_json())
    assert sorted(r.url for r in kit.sender.requests) == [
        "https://a.example/h",
        "https://b.example/h",
    ]
    request = next(r for r in kit.sender.requests if r.url == wanted.url)
    Webhook(wanted.secrets[0].secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == "evt_01TEST"


def test_a_success_is_logged_and_nothing_is_scheduled() -> None:
    kit = FanoutKit([subscription()])
    _run(kit, shipment_event().model_dump_json())
    [attempt] = kit.log.attempts
    assert (attempt.outcome, attempt.status_code, attempt.attempt) == ("delivered", 204, 1)
    assert kit.retries.jobs == [] and kit.dead_letters.dead == []


def test_a_failed_first_attempt_is_scheduled_with_the_first_delay_and_jitter() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]}, schedule_s=(10, 20))
    _run(kit, shipment_event().model_dump_json())
    [job] = kit.retries.jobs
    assert job.attempt == 2 and job.last_status == 500
    assert NOW + timedelta(seconds=8) <= job.due_at <= NOW + timedelta(seconds=12)
    assert kit.log.attempts[0].next_attempt_at == job.due_at
    assert kit.dead_letters.dead == []


def test_a_retry_keeps_the_webhook_id_and_counts_the_attempt() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500, 204]})
    _run(kit, shipment_event().model_dump_json())
    job = kit.retries.jobs[0]
    kit.now = job.due_at
    _run(kit, job.model_dump_json())
    assert [r.headers["webhook-id"] for r in kit.sender.requests] == ["evt_01TEST"] * 2
    assert [a.attempt for a in kit.log.attempts] == [1, 2]
    assert kit.log.attempts[-1].outcome == "delivered"


def test_the_last_failure_goes_to_the_dead_letter_queue_with_its_record() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [503, 500, None]}, schedule_s=(1, 2))
    _run(kit, shipment_event().model_dump_json())
    for _ in range(2):
        job = kit.retries.jobs[-1]
        kit.now = job.due_at
        _run(kit, job.model_dump_json())
    assert len(kit.retries.jobs) == 2
    [dead] = kit.dead_letters.dead
    assert dead.attempts == 3 and dead.subscription_id == sub.id
    assert (dead.last_status, dead.last_error) == (None, "connection_error")
    assert dead.first_attempt_at == NOW and dead.event.event_id == "evt_01TEST"


def test_a_retry_that_arrives_early_is_deferred_again_without_a_post() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]}, schedule_s=(3600,))
    _run(kit, shipment_event().model_dump_json())
    job = kit.retries.jobs[0]
    kit.now = NOW + timedelta(minutes=15)
    _run(kit, job.model_dump_json())
    assert len(kit.sender.requests) == 1
    assert kit.retries.jobs[-1] == job


def test_a_retry_for_a_deleted_subscription_is_dropped() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    _run(kit, shipment_event().model_dump_json())
    kit.subscriptions.items.clear()
    kit.now = kit.retries.jobs[0].due_at
    _run(kit, kit.retries.jobs[0].model_dump_json())
    assert len(kit.sender.requests) == 1 and kit.dead_letters.dead == []


def test_410_disables_the_subscription_and_stops_retrying() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [410]})
    _run(kit, shipment_event().model_dump_json())
    stored = kit.subscriptions.get(sub.merchant_id, sub.id)
    assert stored is not None and not stored.enabled
    assert "410" in (stored.disabled_reason or "") and stored.disabled_at == NOW
    assert kit.retries.jobs == [] and kit.dead_letters.dead == []
    assert kit.log.attempts[0].outcome == "disable"


def test_a_disabled_subscription_gets_nothing_more() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [410]})
    _run(kit, shipment_event().model_dump_json())
    _run(kit, shipment_event(event_id="evt_2").model_dump_json())
    assert len(kit.sender.requests) == 1


def test_retry_after_sets_the_next_attempt() -> None:
    sub = subscription()
    kit = FanoutKit([sub], schedule_s=(5, 300, 1800))

    async def throttled(request: object) -> AttemptResult:
        return AttemptResult(429, 1.0, retry_after="120")

    kit.sender.send = throttled  # type: ignore[method-assign]
    _run(kit, shipment_event().model_dump_json())
    assert kit.retries.jobs[0].due_at == NOW + timedelta(seconds=120)


def test_reprocessing_an_event_skips_deliveries_that_succeeded() -> None:
    ok = subscription(id="sub_ok", url="https://a.example/h")
    failing = subscription(id="sub_fail", url="https://b.example/h")
    kit = FanoutKit([ok, failing], scripts={failing.url: [500]})
    body = shipment_event().model_dump_json()
    _run(kit, body)
    _run(kit, body)  # e.g. the batch crashed after the POSTs and SQS sent it again
    urls = [r.url for r in kit.sender.requests]
    assert urls.count(ok.url) == 1
    assert urls.count(failing.url) == 2


def test_a_duplicated_retry_message_after_success_posts_nothing() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500, 204]})
    _run(kit, shipment_event().model_dump_json())
    job = kit.retries.jobs[0]
    kit.now = job.due_at
    _run(kit, job.model_dump_json())
    _run(kit, job.model_dump_json())
    assert len(kit.sender.requests) == 2


def test_telemetry_sees_every_attempt_and_the_dead_letter() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]}, schedule_s=(1,))
    _run(kit, shipment_event().model_dump_json())
    kit.now = kit.retries.jobs[0].due_at
    _run(kit, kit.retries.jobs[0].model_dump_json())
    assert [a.outcome for a in kit.telemetry.attempts] == ["retry", "retry"]
    assert len(kit.telemetry.dead) == 1


def test_a_retry_sqs_refuses_is_dead_lettered_not_a_failed_batch() -> None:
    ok = subscription(id="sub_ok", url="https://a.example/h")
    failing = subscription(id="sub_fail", url="https://b.example/h")
    kit = FanoutKit([ok, failing], scripts={failing.url: [500]})
    kit.retries.refuse = True
    _run(kit, shipment_event().model_dump_json())  # does not raise: nothing is POSTed twice
    [dead] = kit.dead_letters.dead
    assert dead.subscription_id == "sub_fail" and dead.attempts == 1
    assert "could not be scheduled" in (dead.last_error or "")
    assert kit.marks.done == {delivery_id("evt_01TEST", "sub_ok")}
