"""The chaos run's misbehaving receivers (chaos/receivers.py): real HTTP over loopback."""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from chaos.receivers import DownBetween, Flaky, GoneAfter, Hang, Receiver, Throttle


def body_of(event_id: str, status: str = "delivered") -> bytes:
    document = {"type": f"shipment.{status}", "data": {"event_id": event_id, "status": status}}
    return json.dumps(document, separators=(",", ":")).encode()


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
