"""The chaos run's ledger and its misbehaving receivers (real sockets, on 127.0.0.1 only)."""

from __future__ import annotations

import base64
import http.client
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import pytest_socket
from standardwebhooks.webhooks import Webhook

from chaos.ledger import (
    Category,
    DeadLetter,
    Expected,
    Inputs,
    Ledger,
    Mismatch,
    MismatchKind,
    Observation,
    Pair,
    UnverifiableReason,
    observe,
    reconcile,
    render,
)
from chaos.receivers import DownBetween, Flaky, GoneAfter, Hang, Receiver, Throttle
from chaos.signatures import verify
from parcelhooks.delivery.signing import webhook_headers

NOW = 1_800_000_000
SECRETS = {
    "sub_a": "whsec_" + base64.b64encode(bytes(range(24))).decode(),
    "sub_b": "whsec_" + base64.b64encode(bytes(range(24, 48))).decode(),
}
STRANGER = "whsec_" + base64.b64encode(b"not the subscription's!!").decode()


def body_of(event_id: str, status: str = "delivered") -> bytes:
    document = {"type": f"shipment.{status}", "data": {"event_id": event_id, "status": status}}
    return json.dumps(document, separators=(",", ":")).encode()


def seen(
    event_id: str,
    subscription_id: str,
    *,
    body: bytes | None = None,
    webhook_id: str | None = None,
    secret: str | None = None,
) -> Observation:
    """A request as the subscription's receiver would record it, signed by the project."""
    payload = body_of(event_id) if body is None else body
    signer = SECRETS[subscription_id] if secret is None else secret
    headers = webhook_headers([signer], webhook_id or event_id, NOW, payload)
    return observe(subscription_id, headers, payload, [SECRETS[subscription_id]], NOW)


def expect(*pairs: tuple[str, str]) -> list[Expected]:
    return [Expected(event_id, subscription_id) for event_id, subscription_id in pairs]


def ledger_of(expected: list[Expected], *observations: Observation) -> Ledger:
    return reconcile(Inputs(expected=expected, observations=list(observations)))


PAIRS = (("evt_1", "sub_a"), ("evt_1", "sub_b"), ("evt_2", "sub_a"))


def test_all_delivered_is_ok() -> None:
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS))
    assert ledger.ok
    assert ledger.counts[Category.DELIVERED] == 3
    assert ledger.duplicates == {} and ledger.missing == ()
    assert "ok: yes" in render(ledger)


def test_a_lost_pair_is_missing() -> None:
    ledger = ledger_of(expect(*PAIRS), seen("evt_1", "sub_a"), seen("evt_2", "sub_a"))
    assert not ledger.ok
    assert ledger.missing == (Pair("evt_1", "sub_b"),)
    assert ledger.counts[Category.MISSING] == 1
    assert "missing evt_1 -> sub_b" in render(ledger)


def test_an_identical_duplicate_is_counted_and_ok() -> None:
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), seen("evt_1", "sub_b"))
    assert ledger.ok
    assert ledger.duplicates == {Pair("evt_1", "sub_b"): 2}
    assert ledger.extra_copies == 1
    assert ledger.counts[Category.DELIVERED] == 3


def test_a_duplicate_under_another_webhook_id_fails() -> None:
    renamed = seen("evt_2", "sub_a", webhook_id="evt_2-again")
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), renamed)
    assert not ledger.ok
    assert ledger.mismatches == (Mismatch(Pair("evt_2", "sub_a"), MismatchKind.WEBHOOK_ID),)
    assert ledger.unverifiable == ()
    assert "duplicate_mismatch(webhook_id) evt_2 -> sub_a" in render(ledger)


def test_a_duplicate_with_another_body_fails() -> None:
    changed = seen("evt_2", "sub_a", body=body_of("evt_2", status="posted"))
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), changed)
    assert not ledger.ok
    assert ledger.mismatches == (Mismatch(Pair("evt_2", "sub_a"), MismatchKind.BODY),)


def test_a_body_other_than_the_expected_one_fails() -> None:
    expected = [Expected("evt_1", "sub_a", body_of("evt_1", status="posted"))]
    ledger = ledger_of(expected, seen("evt_1", "sub_a"))
    assert not ledger.ok
    assert ledger.mismatches == (Mismatch(Pair("evt_1", "sub_a"), MismatchKind.EXPECTED_BODY),)


def test_a_bad_signature_proves_nothing_and_fails() -> None:
    forged = seen("evt_1", "sub_a", secret=STRANGER)
    ledger = ledger_of(expect(("evt_1", "sub_a")), forged)
    assert not forged.verified
    assert not ledger.ok
    assert [u.reason for u in ledger.unverifiable] == [UnverifiableReason.BAD_SIGNATURE]
    assert ledger.missing == (Pair("evt_1", "sub_a"),)


def test_a_webhook_id_of_no_expected_pair_fails() -> None:
    stray = seen("evt_9", "sub_a")
    ledger = ledger_of(expect(*PAIRS), *(seen(e, s) for e, s in PAIRS), stray)
    assert stray.verified
    assert not ledger.ok
    assert [u.reason for u in ledger.unverifiable] == [UnverifiableReason.NO_SUCH_PAIR]
    assert "unverifiable(no_such_pair) webhook-id='evt_9' at sub_a" in render(ledger)


def test_dead_lettered_held_and_scheduled_pairs_are_accounted_for() -> None:
    pairs = [("evt_1", "sub_a"), ("evt_2", "sub_a"), ("evt_3", "sub_a"), ("evt_1", "sub_b")]
    ledger = reconcile(
        Inputs(
            expected=expect(*pairs),
            dead_letters=[DeadLetter("evt_1", "sub_a")],
            held={Pair("evt_2", "sub_a")},
            scheduled={Pair("evt_3", "sub_a")},
            disabled_subscriptions={"sub_b"},
        )
    )
    assert ledger.ok
    assert dict(ledger.counts) == {
        Category.DELIVERED: 0,
        Category.DEAD_LETTERED: 1,
        Category.HELD: 2,
        Category.SCHEDULED: 1,
        Category.MISSING: 0,
    }


def test_delivered_and_dead_lettered_counts_once_as_delivered() -> None:
    ledger = reconcile(
        Inputs(
            expected=expect(("evt_1", "sub_a")),
            observations=[seen("evt_1", "sub_a")],
            dead_letters=[DeadLetter("evt_1", "sub_a"), DeadLetter("evt_0", "sub_a")],
        )
    )
    assert ledger.ok
    assert ledger.counts[Category.DELIVERED] == 1
    assert ledger.counts[Category.DEAD_LETTERED] == 0
    assert ledger.also_dead_lettered == (Pair("evt_1", "sub_a"),)
    assert ledger.stray_dead_letters == (DeadLetter("evt_0", "sub_a"),)


def test_a_pair_expected_twice_with_two_bodies_is_a_harness_error() -> None:
    twice = [Expected("evt_1", "sub_a", b"{}"), Expected("evt_1", "sub_a", b"[]")]
    with pytest.raises(ValueError, match="expected twice"):
        reconcile(Inputs(expected=twice))


def test_verify_agrees_with_the_standard_webhooks_library() -> None:
    body = body_of("evt_1")
    now = int(time.time())
    headers = webhook_headers([SECRETS["sub_a"]], "evt_1", now, body)
    Webhook(SECRETS["sub_a"]).verify(body, headers)
    assert verify(SECRETS["sub_a"], headers, body)
    assert not verify(SECRETS["sub_b"], headers, body)


def test_verify_takes_any_of_the_rotated_signatures() -> None:
    body = body_of("evt_1")
    headers = webhook_headers([STRANGER, SECRETS["sub_a"]], "evt_1", NOW, body)
    assert verify(SECRETS["sub_a"], headers, body, at=NOW)
    assert verify(STRANGER, headers, body, at=NOW)


BODY = body_of("evt_1")
SIGNED = webhook_headers([SECRETS["sub_a"]], "evt_1", NOW, BODY)


@pytest.mark.parametrize(
    ("headers", "body", "at"),
    [
        pytest.param(SIGNED, BODY, NOW + 301, id="too-old"),
        pytest.param(SIGNED, BODY, NOW - 301, id="too-new"),
        pytest.param(SIGNED, b" " + BODY, NOW, id="other-body"),
        pytest.param(SIGNED, b"\xff" + BODY, NOW, id="body-not-utf-8"),
        pytest.param(SIGNED | {"webhook-id": "evt_2"}, BODY, NOW, id="other-id"),
        pytest.param(SIGNED | {"webhook-timestamp": "1.8e9"}, BODY, NOW, id="odd-timestamp"),
        pytest.param(SIGNED | {"webhook-signature": "v1,not base64!"}, BODY, NOW, id="not-b64"),
        pytest.param(SIGNED | {"webhook-signature": "v1"}, BODY, NOW, id="no-comma"),
        pytest.param(SIGNED | {"webhook-signature": ""}, BODY, NOW, id="no-signature"),
        pytest.param({"webhook-timestamp": str(NOW)}, BODY, NOW, id="no-id"),
    ],
)
def test_verify_refuses_without_raising(headers: dict[str, str], body: bytes, at: int) -> None:
    assert not verify(SECRETS["sub_a"], headers, body, at=at)


def test_the_library_and_verify_sign_the_same_string() -> None:
    body = body_of("evt_1")
    signed = Webhook(SECRETS["sub_a"]).sign(
        "evt_1", datetime.fromtimestamp(NOW, UTC), body.decode()
    )
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(NOW), "webhook-signature": signed}
    assert verify(SECRETS["sub_a"], headers, body, at=NOW)


# Receivers: real HTTP over loopback.


@pytest.fixture(autouse=True)
def _loopback_only() -> None:
    """The unit tier turns sockets off; the receivers here are on 127.0.0.1 only."""
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    """Receivers a test appends and starts; all stopped at its end."""
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.stop()


def running(receivers: list[Receiver], receiver: Receiver) -> Receiver:
    receivers.append(receiver)
    receiver.start()
    return receiver


def post(url: str, body: bytes = b"{}", timeout_s: float = 2.0) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout_s)
    try:
        connection.request("POST", parts.path, body, {"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def refused(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "", parts.port or 0), timeout=1.0).close()
    except ConnectionRefusedError:
        return True
    return False


def eventually(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s}s"
        time.sleep(0.01)


def test_flaky_fails_the_seeded_fraction(receivers: list[Receiver]) -> None:
    receiver = running(receivers, Receiver(Flaky(0.3), seed=7))
    statuses = [post(receiver.url).status for _ in range(100)]
    draws = random.Random(7)
    assert statuses == [500 if draws.random() < 0.3 else 200 for _ in range(100)]
    assert 15 <= statuses.count(500) <= 45
    assert [r.status for r in receiver.observations()] == statuses


def test_every_request_is_recorded_with_its_headers_and_body(receivers: list[Receiver]) -> None:
    receiver = running(receivers, Receiver())
    body = body_of("evt_1")
    post(receiver.url, body)
    [request] = receiver.wait_for(1, timeout_s=2.0)
    assert (request.method, request.path, request.body) == ("POST", "/hook", body)
    assert request.headers["content-type"] == "application/json"
    assert request.received_monotonic <= time.monotonic()


def test_max_in_flight_counts_requests_answered_at_once(receivers: list[Receiver]) -> None:
    receiver = running(receivers, Receiver(Hang(30)))
    errors: list[BaseException] = []

    def hang_on() -> None:
        try:
            post(receiver.url, timeout_s=10.0)
        except (OSError, http.client.HTTPException) as error:
            errors.append(error)

    clients = [threading.Thread(target=hang_on) for _ in range(5)]
    for client in clients:
        client.start()
    receiver.wait_in_flight(5, timeout_s=3.0)
    receiver.go_down()  # frees the hanging clients with a reset
    for client in clients:
        client.join(5.0)
    assert receiver.max_in_flight == 5
    assert receiver.in_flight == 0
    assert len(errors) == 5


def test_gone_after_n_answers_410(receivers: list[Receiver]) -> None:
    receiver = running(receivers, Receiver(GoneAfter(3)))
    assert [post(receiver.url).status for _ in range(5)] == [200, 200, 200, 410, 410]


def test_throttle_answers_429_with_retry_after(receivers: list[Receiver]) -> None:
    receiver = running(receivers, Receiver(Throttle(first=2, every=4)))
    answers = [post(receiver.url) for _ in range(8)]
    assert [a.status for a in answers] == [429, 429, 200, 429, 200, 200, 200, 429]
    assert answers[0].getheader("retry-after") == "1"


def test_a_down_window_refuses_connections_then_accepts_on_the_same_port(
    receivers: list[Receiver],
) -> None:
    receiver = running(receivers, Receiver(DownBetween(0.05, 0.4)))
    eventually(lambda: refused(receiver.url))
    eventually(lambda: not refused(receiver.url))
    assert post(receiver.url).status == 200


def test_a_restart_resets_the_request_in_flight(receivers: list[Receiver]) -> None:
    receiver = running(receivers, Receiver(Hang(30, every=2)))
    assert post(receiver.url).status == 200
    outcome: list[BaseException] = []
    client = threading.Thread(target=lambda: _expect_failure(receiver.url, outcome))
    client.start()
    receiver.wait_for(2, timeout_s=3.0)
    receiver.wait_in_flight(1, timeout_s=3.0)
    receiver.restart()
    client.join(5.0)
    assert len(outcome) == 1 and isinstance(
        outcome[0], (ConnectionError, http.client.HTTPException)
    )
    assert post(receiver.url).status == 200
    assert [r.index for r in receiver.observations()] == [0, 1, 2]


def _expect_failure(url: str, outcome: list[BaseException]) -> None:
    try:
        post(url, timeout_s=10.0)
    except (OSError, http.client.HTTPException) as error:
        outcome.append(error)


def test_an_operational_notice_naming_another_pairs_event_is_neither_a_copy_nor_a_stranger() -> (
    None
):
    notice = json.dumps(
        {"type": "delivery.exhausted", "data": {"event_id": "evt_1", "subscription_id": "sub_a"}}
    ).encode()
    ledger = ledger_of(
        expect(*PAIRS),
        *(seen(e, s) for e, s in PAIRS),
        seen("evt_1", "sub_b", body=notice, webhook_id="evt_notice"),
    )
    assert ledger.ok and len(ledger.notices) == 1 and not ledger.mismatches


def test_an_event_dead_lettered_in_the_events_dlq_is_accounted_and_counted_apart() -> None:
    letters = [DeadLetter("evt_2", "sub_a", queue="events_dlq")]
    ledger = reconcile(
        Inputs(
            expected=expect(*PAIRS),
            observations=[seen(*PAIRS[0]), seen(*PAIRS[1])],
            dead_letters=letters,
        )
    )
    assert ledger.ok and ledger.counts[Category.DEAD_LETTERED] == 1 and ledger.in_events_dlq == 1
