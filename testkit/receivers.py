"""Real receivers on 127.0.0.1, recording what they get: `Receiver` speaks HTTP and is told
what to answer (statuses, headers, a body, chunked, slow); `RawReceiver` writes whatever bytes
it is given, for answers no HTTP server would send. For the component and e2e tiers."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How often a server checks for shutdown: the default 0.5 s would be most of a fast test.
POLL_S = 0.05


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    method: str = "POST"


def _wait_until_count(
    condition: threading.Condition,
    count: Callable[[], int],
    wanted: int,
    timeout_s: float,
    url: str,
) -> None:
    """Block until `count()` reaches `wanted`, or fail saying how many came by the deadline."""
    deadline = time.monotonic() + timeout_s
    with condition:
        while count() < wanted:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{url}: expected {wanted} request(s) within {timeout_s}s, got {count()}"
                )
            condition.wait(remaining)


@dataclass
class Receiver:
    """Answers with `statuses` in turn (the last repeats); `hang_s` delays every answer."""

    statuses: list[int] = field(default_factory=lambda: [204])
    hang_s: float = 0.0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    chunked: bool = False
    connections: set[int] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    in_flight: int = 0
    peak_in_flight: int = 0  # the most requests it was answering at once
    _condition: threading.Condition = field(default_factory=threading.Condition)

    def began(self) -> None:
        with self._condition:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def ended(self) -> None:
        with self._condition:
            self.in_flight -= 1

    def record(self, item: Received) -> int:
        with self._condition:
            self.received.append(item)
            status = self.statuses[min(len(self.received) - 1, len(self.statuses) - 1)]
            self._condition.notify_all()
        return status

    def wait_for(self, count: int, timeout_s: float) -> list[Received]:
        """Block until `count` requests arrived; fail with what did arrive after the deadline."""
        _wait_until_count(self._condition, lambda: len(self.received), count, timeout_s, self.url)
        with self._condition:
            return list(self.received)

    def wait_for_ids(self, count: int, timeout_s: float) -> list[Received]:
        """Block until requests with `count` different `webhook-id`s arrived: delivery is at
        least once, so a redelivered webhook may come twice and counts once here."""

        def distinct() -> int:
            return len({r.headers.get("webhook-id") for r in self.received})

        _wait_until_count(self._condition, distinct, count, timeout_s, self.url)
        with self._condition:
            return list(self.received)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        # Counted until the answer starts: the sender may reuse its lane once it has read it.
        receiver.began()
        try:
            if receiver.hang_s:
                time.sleep(receiver.hang_s)  # the receiver under test is slow on purpose
        finally:
            receiver.ended()
        receiver.connections.add(self.client_address[1])
        status = receiver.record(
            Received(
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                time.time(),
                self.command,
            )
        )
        self.send_response(status)
        for name, value in receiver.response_headers.items():
            self.send_header(name, value)
        if receiver.chunked:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            half = len(receiver.response_body) // 2
            for part in (receiver.response_body[:half], receiver.response_body[half:], b""):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        else:
            self.send_header("content-length", str(len(receiver.response_body)))
            self.end_headers()
            self.wfile.write(receiver.response_body)
        if receiver.response_headers.get("connection") == "close":
            self.close_connection = True

    # Destinations choose their method: every one is answered the same way.
    def do_PUT(self) -> None:
        self.do_POST()

    def do_PATCH(self) -> None:
        self.do_POST()

    def log_message(self, format: str, *args: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.receiver = receiver

    def handle_error(self, request: object, client_address: object) -> None:
        return  # a client that gave up on a slow answer is expected here, not news


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    server = _Server(receiver)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class RawReceiver:
    """Answers request N with `answers[N]` verbatim (the last repeats), counting requests;
    `close_after_answer` ends each connection once its answer is written."""

    answers: list[bytes]
    close_after_answer: bool = False
    requests: int = 0
    url: str = ""
    in_flight: int = 0
    peak_in_flight: int = 0  # the most requests it was answering at once
    _condition: threading.Condition = field(default_factory=threading.Condition)

    def began(self) -> None:
        with self._condition:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def ended(self) -> None:
        with self._condition:
            self.in_flight -= 1

    def next_answer(self) -> bytes:
        with self._condition:
            self.requests += 1
            self._condition.notify_all()
            return self.answers[min(self.requests, len(self.answers)) - 1]

    def wait_for(self, count: int, timeout_s: float) -> int:
        """Block until `count` requests arrived; fail with how many did after the deadline."""
        _wait_until_count(self._condition, lambda: self.requests, count, timeout_s, self.url)
        return self.requests


class _RawHandler(socketserver.StreamRequestHandler):
    server: _RawServer

    def handle(self) -> None:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = self.rfile.readline()
                if not line:
                    return
                head += line
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            self.rfile.read(length)
            self.wfile.write(self.server.receiver.next_answer())
            self.wfile.flush()
            if self.server.receiver.close_after_answer:
                return


class _RawServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, receiver: RawReceiver) -> None:
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.receiver = receiver

    def handle_error(self, request: object, client_address: object) -> None:
        return


class ReceiverFactory:
    """Starts receivers on demand (`factory(statuses=[500])`); `stop_all` stops every one."""

    def __init__(self) -> None:
        self._running: list[Any] = []

    def __call__(self, **options: Any) -> Receiver:
        context = serving(Receiver(**options))
        self._running.append(context)
        return context.__enter__()

    def stop_all(self) -> None:
        while self._running:
            self._running.pop().__exit__(None, None, None)


@contextmanager
def raw_receiver(
    answers: list[bytes], *, close_after_answer: bool = False
) -> Iterator[RawReceiver]:
    """A RawReceiver listening on 127.0.0.1 for the length of the block."""
    receiver = RawReceiver(answers, close_after_answer)
    server = _RawServer(receiver)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/raw"
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def raw_answers(answers: list[bytes]) -> Iterator[str]:
    """A receiver that answers request N with `answers[N]` verbatim (the last repeats)."""
    with raw_receiver(answers) as receiver:
        yield receiver.url
