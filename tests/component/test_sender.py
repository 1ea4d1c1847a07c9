"""The delivery HTTP path against real receivers on 127.0.0.1 (the component tier allows
loopback only), down to a receiver that never answers in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from ipaddress import ip_network

import pytest

from parcelhooks.core.deliveries import Outcome
from parcelhooks.delivery.http import sender as sender_module
from parcelhooks.delivery.http.netguard import GuardPolicy
from parcelhooks.delivery.http.sender import (
    BLOCKED_TARGET,
    INVALID_HEADER,
    HttpSender,
    WebhookRequest,
)
from parcelhooks.delivery.outcomes import UNEXPECTED_ERROR, AttemptResult, classify
from testkit.receivers import Receiver, raw_answers

LOCAL = GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),))


def local_sender(
    policy: GuardPolicy = LOCAL,
    total_s: float = 2.0,
    resolve: Callable[[str, int], list[str]] | None = None,
) -> HttpSender:
    return HttpSender(
        connect_timeout_s=1.0,
        total_timeout_s=total_s,
        max_connections=8,
        policy=policy,
        resolve=resolve or (lambda host, port: [host]),
    )


def send_in_turn(sender: HttpSender, *requests: WebhookRequest) -> list[AttemptResult]:
    """Send one after another on one event loop, as a warm Lambda container would."""

    async def run() -> list[AttemptResult]:
        return [await sender.send(request) for request in requests]

    return asyncio.run(run())


def test_a_2xx_is_read_and_the_connection_reused(receiver_factory) -> None:
    receiver: Receiver = receiver_factory(statuses=[200], response_body=b"thanks")
    sender = local_sender()
    results = send_in_turn(sender, *[WebhookRequest(receiver.url, {}, b"{}")] * 5)
    assert {r.status_code for r in results} == {200}
    assert results[0].response_excerpt == "thanks"
    assert len(receiver.connections) == 1  # keep-alive: five POSTs, one connection


def test_redirects_are_not_followed(receiver_factory) -> None:
    elsewhere: Receiver = receiver_factory()
    redirecting: Receiver = receiver_factory(
        statuses=[307], response_headers={"location": elsewhere.url}
    )
    [result] = send_in_turn(local_sender(), WebhookRequest(redirecting.url, {}, b"{}"))
    assert result.status_code == 307
    assert elsewhere.received == []


def test_the_response_excerpt_is_capped_at_4_kib(receiver_factory) -> None:
    receiver: Receiver = receiver_factory(statuses=[500], response_body=b"x" * 100_000)
    [result] = send_in_turn(local_sender(), WebhookRequest(receiver.url, {}, b"{}"))
    assert result.status_code == 500 and len(result.response_excerpt) == 4096


def test_retry_after_is_captured(receiver_factory) -> None:
    receiver: Receiver = receiver_factory(statuses=[429], response_headers={"retry-after": "120"})
    [result] = send_in_turn(local_sender(), WebhookRequest(receiver.url, {}, b"{}"))
    assert (result.status_code, result.retry_after) == (429, "120")


def test_a_refused_connection_is_a_connection_error(receiver_factory) -> None:
    receiver: Receiver = receiver_factory()
    url = receiver.url
    receiver_factory.stop_all()  # nothing listens there any more
    [result] = send_in_turn(local_sender(), WebhookRequest(url, {}, b"{}"))
    assert result.error == "connection_error"


def test_a_header_with_a_line_break_is_refused_and_never_sent(receiver_factory) -> None:
    receiver: Receiver = receiver_factory()
    headers = {"webhook-id": "evt_1\r\nX-Injected: yes"}
    [result] = send_in_turn(local_sender(), WebhookRequest(receiver.url, headers, b"{}"))
    assert (result.status_code, result.error) == (None, INVALID_HEADER)
    assert "webhook-id" in result.response_excerpt
    assert receiver.received == []


def test_a_refused_header_is_a_failed_attempt_to_retry(receiver_factory) -> None:
    receiver: Receiver = receiver_factory()
    headers = {"webhook-id\0": "evt_1"}
    [result] = send_in_turn(local_sender(), WebhookRequest(receiver.url, headers, b"{}"))
    assert classify(result) is Outcome.RETRY


def test_a_blocked_address_is_never_contacted(receiver_factory) -> None:
    receiver: Receiver = receiver_factory()
    [result] = send_in_turn(
        local_sender(policy=GuardPolicy(allow_http=True)), WebhookRequest(receiver.url, {}, b"{}")
    )
    assert result.error == BLOCKED_TARGET and "loopback" in result.response_excerpt
    assert receiver.received == []


def test_it_connects_to_the_checked_address_and_keeps_the_host_name(receiver_factory) -> None:
    receiver: Receiver = receiver_factory()
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # the second lookup would rebind inward

    def rebinding(host: str, _port: int) -> list[str]:
        return next(answers)

    sender = local_sender(resolve=rebinding)
    [result] = send_in_turn(
        sender, WebhookRequest(f"http://merchant.test:{port}/webhooks", {}, b"{}")
    )
    assert result.status_code == 204
    assert receiver.received[0].headers["host"] == f"merchant.test:{port}"


def test_chunked_answers_are_read_and_the_connection_kept(receiver_factory) -> None:
    receiver: Receiver = receiver_factory(statuses=[200], response_body=b"ok" * 100, chunked=True)
    results = send_in_turn(local_sender(), *[WebhookRequest(receiver.url, {}, b"{}")] * 3)
    assert [r.status_code for r in results] == [200] * 3
    assert results[0].response_excerpt == "ok" * 100
    assert len(receiver.connections) == 1


def test_a_server_that_closes_each_connection_is_still_served(receiver_factory) -> None:
    receiver: Receiver = receiver_factory(response_headers={"connection": "close"})
    results = send_in_turn(local_sender(), *[WebhookRequest(receiver.url, {}, b"{}")] * 3)
    assert [r.status_code for r in results] == [204] * 3
    assert len(receiver.connections) == 3


def test_the_webhook_headers_and_body_arrive_intact(receiver_factory) -> None:
    receiver: Receiver = receiver_factory()
    headers = {"webhook-id": "evt_1", "webhook-timestamp": "1", "webhook-signature": "v1,abc"}
    send_in_turn(local_sender(), WebhookRequest(receiver.url + "?q=1", headers, b'{"a": 1}'))
    [received] = receiver.received
    assert received.path == "/webhooks?q=1" and received.body == b'{"a": 1}'
    assert {k: received.headers[k] for k in headers} == headers
    assert received.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "answer",
    [
        "HTTP/1.1 \u00b200 OK\r\nContent-Length: 0\r\n\r\n".encode(),
        "HTTP/1.1 200 OK\r\nContent-Length: \u00b2\r\n\r\n".encode(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 70_000 + b"\r\n",
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
)
def test_a_malformed_answer_is_a_protocol_error_not_a_crash(answer: bytes) -> None:
    with raw_answers([answer]) as url:
        [result] = send_in_turn(local_sender(), WebhookRequest(url, {}, b"{}"))
    assert result.status_code is None and result.error == "protocol_error"


def test_interim_1xx_answers_are_skipped_and_the_connection_stays_in_step() -> None:
    answers = [
        b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
    ]
    with raw_answers(answers) as url:
        first, second = send_in_turn(local_sender(), *[WebhookRequest(url, {}, b"{}")] * 2)
    assert (first.status_code, first.response_excerpt) == (200, "ok")
    assert second.status_code == 500


def test_a_non_ascii_path_and_host_are_encoded_not_crashed_on(receiver_factory) -> None:
    receiver: Receiver = receiver_factory()
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    sender = local_sender(resolve=lambda host, _port: ["127.0.0.1"])
    [result] = send_in_turn(
        sender, WebhookRequest(f"http://loja-são.test:{port}/h/pedido?q=€", {}, b"{}")
    )
    assert result.status_code == 204
    received = receiver.received[0]
    assert received.path == "/h/pedido?q=%E2%82%AC"
    assert received.headers["host"] == f"xn--loja-so-2wa.test:{port}"


@pytest.mark.parametrize(
    "status", ["9" * 40, "2" * 10_000, "0200", "20", "2000", "999", "600"], ids=lambda s: s[:12]
)
def test_a_status_the_log_could_not_hold_is_a_protocol_error_to_retry(status: str) -> None:
    answer = f"HTTP/1.1 {status} OK\r\nContent-Length: 0\r\n\r\n".encode()
    with raw_answers([answer]) as url:
        [result] = send_in_turn(local_sender(), WebhookRequest(url, {}, b"{}"))
    assert (result.status_code, result.error) == (None, "protocol_error")
    assert "status" in result.response_excerpt  # the log says why, not just that it failed
    assert classify(result) is Outcome.RETRY


@pytest.mark.parametrize("value", ["\u20ac", "caf\u00e9", "\udcff"])
def test_a_header_value_latin_1_cannot_carry_is_an_invalid_header_not_a_raise(
    receiver_factory, value: str
) -> None:
    receiver: Receiver = receiver_factory()
    [result] = send_in_turn(local_sender(), WebhookRequest(receiver.url, {"x-note": value}, b"{}"))
    assert (result.status_code, result.error) == (None, INVALID_HEADER)
    assert receiver.received == []


def test_an_unforeseen_failure_is_returned_and_its_connection_not_reused(
    receiver_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver: Receiver = receiver_factory()
    sender = local_sender()
    real_read = sender_module.read_response
    calls = iter([KeyError("a bug we did not foresee")])

    async def read_once_broken(reader: asyncio.StreamReader) -> sender_module.Response:
        for error in calls:
            await real_read(reader)  # the answer is read whole: the stream looks reusable
            raise error
        return await real_read(reader)

    monkeypatch.setattr(sender_module, "read_response", read_once_broken)
    broken, fine = send_in_turn(sender, *[WebhookRequest(receiver.url, {}, b"{}")] * 2)
    assert (broken.status_code, broken.error) == (None, UNEXPECTED_ERROR)
    assert classify(broken) is Outcome.RETRY
    assert fine.status_code == 204
    assert len(receiver.connections) == 2  # the broken exchange's connection was closed


def test_a_hanging_receiver_times_out_within_the_total_timeout(receiver_factory) -> None:
    receiver: Receiver = receiver_factory(hang_s=5)
    started = time.monotonic()
    [result] = send_in_turn(local_sender(total_s=0.5), WebhookRequest(receiver.url, {}, b"{}"))
    assert result.error == "timeout" and result.status_code is None
    assert time.monotonic() - started < 2
