import asyncio
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

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
    Webhook(wanted.secrets[0]).verify(request.body, request.headers)
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
