import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from parcelhooks.core.deliveries import WITHHELD_EXCERPT
from parcelhooks.core.ids import delivery_id
from parcelhooks.delivery.outcomes import UNEXPECTED_ERROR, AttemptResult
from parcelhooks.delivery.settlement import DeadLetterRefusedError, DeliveryLogUnavailableError
from testkit.factories import NOW, shipment_event, subscription
from testkit.fakes import FanoutKit, Scripted


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


def test_the_last_failure_is_logged_exhausted_with_its_answer_and_the_earlier_ones_retry() -> None:
    sub = subscription()
    last = AttemptResult(502, 3.5, error="HTTP 502", response_excerpt="bad gateway")
    kit = FanoutKit([sub], scripts={sub.url: [500, 503, last]}, schedule_s=(1, 2))
    _run(kit, shipment_event().model_dump_json())
    for _ in range(2):
        job = kit.retries.jobs[-1]
        kit.now = job.due_at
        _run(kit, job.model_dump_json())
    *earlier, final = kit.log.attempts
    assert [(a.attempt, a.outcome) for a in earlier] == [(1, "retry"), (2, "retry")]
    assert all(a.next_attempt_at is not None for a in earlier)
    assert (final.attempt, final.outcome, final.next_attempt_at) == (3, "exhausted", None)
    assert (final.status_code, final.error, final.latency_ms) == (502, "HTTP 502", 3.5)
    assert final.response_excerpt == "bad gateway"
    # The dead letter and the merchant's notice are what they always were.
    [dead] = kit.dead_letters.dead
    assert (dead.attempts, dead.last_status, dead.last_error) == (3, 502, "HTTP 502")
    [notice] = kit.notices.events
    assert notice.type == "delivery.exhausted"
    assert notice.data.model_dump()["attempts"] == 3
    assert notice.data.model_dump()["last_status"] == 502


def test_a_410_on_the_last_attempt_disables_and_is_not_exhausted() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500, 410]}, schedule_s=(1,))
    _run(kit, shipment_event().model_dump_json())
    kit.now = kit.retries.jobs[0].due_at
    _run(kit, kit.retries.jobs[0].model_dump_json())
    assert [a.outcome for a in kit.log.attempts] == ["retry", "disable"]
    assert kit.dead_letters.dead == []


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
    assert [a.outcome for a in kit.telemetry.attempts] == ["retry", "exhausted"]
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
    assert kit.log.done == {delivery_id("evt_01TEST", "sub_ok", NOW)}


def test_a_failure_whose_retry_sqs_refuses_is_logged_exhausted_not_waiting() -> None:
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500]})
    kit.retries.refuse = True
    _run(kit, shipment_event().model_dump_json())
    [line] = kit.log.attempts
    assert (line.outcome, line.status_code, line.next_attempt_at) == ("exhausted", 500, None)
    assert [dead.attempts for dead in kit.dead_letters.dead] == [1]


# One message, three deliveries: one delivered, one to retry, one gone.
DELIVERED, RETRIED, GONE = "sub_ok", "sub_retry", "sub_gone"


def three_deliveries(
    scripts: dict[str, list[Scripted]] | None = None, schedule_s: tuple[int, ...] = (1, 2, 4)
) -> FanoutKit:
    """A kit whose message goes to three subscriptions; `scripts` keyed by subscription id."""
    statuses: dict[str, list[Scripted]] = {DELIVERED: [204], RETRIED: [500], GONE: [410]}
    statuses |= scripts or {}
    subs = [subscription(id=sub_id, url=f"https://{sub_id}.example/h") for sub_id in statuses]
    return FanoutKit(
        subs, scripts={sub.url: statuses[sub.id] for sub in subs}, schedule_s=schedule_s
    )


def _dlv(sub_id: str) -> str:
    return delivery_id("evt_01TEST", sub_id, NOW)


def assert_bookkept(kit: FanoutKit, *, logged: set[str]) -> None:
    """Disables and retries are as the outcomes say; `logged` are in the log, and the
    success is done (never sent again) exactly when its line is."""
    assert {a.subscription_id for a in kit.log.attempts} == logged
    assert kit.log.done == ({_dlv(DELIVERED)} if DELIVERED in logged else set())
    assert [job.subscription_id for job in kit.retries.jobs] == [RETRIED]
    gone = kit.subscriptions.get("merchant-a", GONE)
    assert gone is not None and not gone.enabled
    assert len(kit.telemetry.attempts) == 3  # telemetry sees every attempt all the same


@pytest.mark.parametrize("unwritable", [DELIVERED, RETRIED, GONE])
def test_a_log_line_that_cannot_be_written_drops_no_other_bookkeeping(unwritable: str) -> None:
    kit = three_deliveries()
    kit.log.refuse = lambda record: record.subscription_id == unwritable
    _run(kit, shipment_event().model_dump_json())  # does not raise: no sibling is POSTed again
    assert_bookkept(kit, logged={DELIVERED, RETRIED, GONE} - {unwritable})


def test_a_log_line_refused_with_its_excerpt_is_written_without_it() -> None:
    kit = three_deliveries()
    kit.log.refuse = lambda record: (
        record.subscription_id == RETRIED and record.response_excerpt != WITHHELD_EXCERPT
    )
    _run(kit, shipment_event().model_dump_json())
    assert_bookkept(kit, logged={DELIVERED, RETRIED, GONE})
    excerpts = {a.subscription_id: a.response_excerpt for a in kit.log.attempts}
    assert excerpts == {DELIVERED: "ok", RETRIED: WITHHELD_EXCERPT, GONE: "ok"}


def test_a_log_that_takes_no_line_fails_the_message_after_every_other_write() -> None:
    kit = three_deliveries()
    kit.log.refuse = lambda record: True
    with pytest.raises(DeliveryLogUnavailableError):
        _run(kit, shipment_event().model_dump_json())
    assert_bookkept(kit, logged=set())


def test_an_event_processed_again_sends_only_what_its_log_does_not_show_ended() -> None:
    kit = three_deliveries({DELIVERED: [204], RETRIED: [500, 204]})
    _run(kit, shipment_event().model_dump_json())
    sent = len(kit.sender.requests)
    _run(kit, shipment_event().model_dump_json())  # SQS hands the same message back
    # Only the one that failed goes again (the 410's subscription is disabled: held).
    assert [r.url for r in kit.sender.requests[sent:]] == [f"https://{RETRIED}.example/h"]
    assert kit.log.done == {_dlv(DELIVERED), _dlv(RETRIED)}


def test_first_sight_of_an_event_asks_the_log_nothing() -> None:
    kit = three_deliveries()
    event = shipment_event().model_dump_json()
    asyncio.run(kit.fanout.handle_message(event, first_sight=True))
    assert kit.log.lookups == 0 and len(kit.sender.requests) == 3
    asyncio.run(kit.fanout.handle_message(event))  # handed back: the log is asked
    assert kit.log.lookups == 1


def test_a_retry_queue_that_raises_dead_letters_the_retries_and_writes_the_rest() -> None:
    kit = three_deliveries()
    kit.retries.broken = True
    _run(kit, shipment_event().model_dump_json())
    assert [dead.subscription_id for dead in kit.dead_letters.dead] == [RETRIED]
    assert {a.subscription_id for a in kit.log.attempts} == {DELIVERED, RETRIED, GONE}
    assert kit.log.done == {_dlv(DELIVERED)}


def test_a_dead_letter_queue_that_raises_fails_the_message_after_the_rest_is_written() -> None:
    kit = three_deliveries({RETRIED: [None]}, schedule_s=())  # no retry: straight to the DLQ
    kit.dead_letters.broken = True
    with pytest.raises(DeadLetterRefusedError):
        _run(kit, shipment_event().model_dump_json())
    assert {a.subscription_id for a in kit.log.attempts} == {DELIVERED, RETRIED, GONE}
    assert kit.log.done == {_dlv(DELIVERED)}
    assert len(kit.telemetry.dead) == 1


def test_a_last_failure_the_dead_letter_queue_refused_says_retry_until_it_is_dead_lettered() -> (
    None
):
    sub = subscription()
    kit = FanoutKit([sub], scripts={sub.url: [500, 502]}, schedule_s=())
    kit.dead_letters.broken = True
    body = shipment_event().model_dump_json()
    with pytest.raises(DeadLetterRefusedError):
        _run(kit, body)
    # Not dead-lettered: SQS hands the message back and the attempt is made again.
    [line] = kit.log.attempts
    assert (line.outcome, line.status_code, line.next_attempt_at) == ("retry", 500, None)
    kit.dead_letters.broken = False
    kit.now += timedelta(seconds=30)
    _run(kit, body)
    assert [(a.attempt, a.outcome, a.status_code) for a in kit.log.attempts] == [
        (1, "retry", 500),
        (1, "exhausted", 502),
    ]
    [dead] = kit.dead_letters.dead
    assert (dead.attempts, dead.last_status) == (1, 502)


def test_a_send_that_raises_is_that_delivery_s_failed_attempt_alone() -> None:
    kit = three_deliveries({RETRIED: [RuntimeError("a sender bug")]})
    _run(kit, shipment_event().model_dump_json())
    assert_bookkept(kit, logged={DELIVERED, RETRIED, GONE})
    failed = next(a for a in kit.log.attempts if a.subscription_id == RETRIED)
    assert (failed.status_code, failed.error, failed.outcome) == (None, UNEXPECTED_ERROR, "retry")


def test_a_result_with_an_answer_is_logged_as_it_came() -> None:
    answer = AttemptResult(503, 12.5, response_excerpt="busy", retry_after="1")
    kit = three_deliveries({RETRIED: [answer]})
    _run(kit, shipment_event().model_dump_json())
    logged = next(a for a in kit.log.attempts if a.subscription_id == RETRIED)
    assert (logged.status_code, logged.latency_ms, logged.response_excerpt) == (503, 12.5, "busy")
