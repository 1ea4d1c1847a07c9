"""Real HTTP receivers on 127.0.0.1 for the integration tests, recording what they get."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How often a server checks for shutdown: the default 0.5 s would be most of a fast test.
POLL_S = 0.05


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


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
    _condition: threading.Condition = field(default_factory=threading.Condition)

    def record(self, item: Received) -> int:
        with self._condition:
            self.received.append(item)
            status = self.statuses[min(len(self.received) - 1, len(self.statuses) - 1)]
            self._condition.notify_all()
        return status

    def wait_for(self, count: int, timeout_s: float) -> list[Received]:
        """Block until `count` requests arrived; fail with what did arrive after the deadline."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{self.url}: expected {count} request(s) within {timeout_s}s, "
                        f"got {len(self.received)}"
                    )
                self._condition.wait(remaining)
            return list(self.received)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        receiver = self.server.receiver
        if receiver.hang_s:
            time.sleep(receiver.hang_s)  # the receiver under test is slow on purpose
        receiver.connections.add(self.client_address[1])
        status = receiver.record(
            Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
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
            with self.server.lock:
                self.server.requests += 1
                answer = self.server.answers[
                    min(self.server.requests, len(self.server.answers)) - 1
                ]
            self.wfile.write(answer)
            self.wfile.flush()


class _RawServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answers: list[bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.answers = answers
        self.requests = 0
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        return


@contextmanager
def raw_answers(answers: list[bytes]) -> Iterator[str]:
    """A receiver that answers request N with `answers[N]` verbatim (the last repeats)."""
    server = _RawServer(answers)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/raw"
    finally:
        server.shutdown()
        server.server_close()
