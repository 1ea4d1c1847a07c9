"""HTTP receivers on 127.0.0.1 that misbehave on purpose and record every request they get."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import assert_never

HOST = "127.0.0.1"
PATH = "/hook"
MAX_HEAD_BYTES = 64 * 1024
CONTROL_TIMEOUT_S = 5.0
DEFAULT_STATUS = 200
GONE = 410
TOO_MANY_REQUESTS = 429
NOT_IMPLEMENTED = 501
_HEAD_END = b"\r\n\r\n"
# SO_LINGER on with a zero timeout: close() sends RST, as a crashed process would.
_RESET = struct.pack("ii", 1, 0)


@dataclass(frozen=True)
class Ok:
    """Answers `status` (a 2xx unless a test wants otherwise)."""

    status: int = DEFAULT_STATUS


@dataclass(frozen=True)
class Flaky:
    """Answers `status` to a `p` fraction of requests, drawn from the receiver's seeded RNG."""

    p: float
    status: int = 500


@dataclass(frozen=True)
class Hang:
    """Waits `seconds` before answering every `every`-th request (1: all of them)."""

    seconds: float
    every: int = 1


@dataclass(frozen=True)
class Throttle:
    """Answers 429 with Retry-After to the first `first` requests and to every `every`-th."""

    first: int = 0
    every: int = 0
    retry_after_s: int = 1


@dataclass(frozen=True)
class GoneAfter:
    """Answers 410 Gone to every request after the first `n`."""

    n: int


@dataclass(frozen=True)
class DownBetween:
    """Refuses connections from `start_s` to `end_s` seconds after `start()`."""

    start_s: float
    end_s: float


type Behaviour = Ok | Flaky | Hang | Throttle | GoneAfter | DownBetween


@dataclass(frozen=True)
class Request:
    """One request as received, with the status it was given (sent unless aborted)."""

    index: int
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    received_at: float
    received_monotonic: float
    status: int


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0


def _is_nth(index: int, every: int) -> bool:
    return every > 0 and (index + 1) % every == 0


def _answer_of(behaviour: Behaviour, index: int, rng: random.Random) -> _Answer | None:
    match behaviour:
        case Ok(status):
            return _Answer(status)
        case Flaky(p, status):
            return _Answer(status) if rng.random() < p else None
        case Throttle(first, every, retry_after_s):
            throttled = index < first or _is_nth(index, every)
            retry = (("retry-after", str(retry_after_s)),)
            return _Answer(TOO_MANY_REQUESTS, retry) if throttled else None
        case GoneAfter(n):
            return _Answer(GONE) if index >= n else None
        case Hang() | DownBetween():
            return None
        case _:
            assert_never(behaviour)


def _decide(behaviours: Sequence[Behaviour], index: int, rng: random.Random) -> _Answer:
    """The first behaviour with an answer gives the status (else 200); hangs add up."""
    delay_s = sum(b.seconds for b in behaviours if isinstance(b, Hang) and _is_nth(index, b.every))
    for behaviour in behaviours:
        answer = _answer_of(behaviour, index, rng)
        if answer is not None:
            return _Answer(answer.status, answer.headers, delay_s)
    return _Answer(DEFAULT_STATUS, (), delay_s)


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str], bool]:
    """Method, path, lower-cased headers and keep-alive of an HTTP/1.x request head."""
    request_line, *lines = head.decode("latin-1").removesuffix("\r\n\r\n").split("\r\n")
    method, path, version = request_line.split(" ")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    return method, path, headers, keep_alive


def _response(answer: _Answer, keep_alive: bool) -> bytes:
    try:
        reason = HTTPStatus(answer.status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {answer.status} {reason}", "content-length: 0"]
    lines += [f"{name}: {value}" for name, value in answer.headers]
    if not keep_alive:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):  # already closed by the client: nothing to reset
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    writer.transport.abort()


class Receiver:
    """One endpoint on 127.0.0.1, answering as its behaviours say, on its own thread and loop."""

    def __init__(self, *behaviours: Behaviour, seed: int = 0) -> None:
        self.behaviours = behaviours
        self._rng = random.Random(seed)
        self._lock = threading.Condition()
        self._requests: list[Request] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._port = 0
        self._started = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._windows: concurrent.futures.Future[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._port}{PATH}"

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    def start(self) -> str:
        """Listen on a free port of 127.0.0.1; the URL to subscribe."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="receiver", daemon=True)
        self._thread.start()
        self._started = time.monotonic()
        self._port = self._call(self._listen(0))
        windows = [b for b in self.behaviours if isinstance(b, DownBetween)]
        if windows:
            self._windows = asyncio.run_coroutine_threadsafe(self._follow(windows), loop)
        return self.url

    def stop(self) -> None:
        """Drop every connection, stop listening and end the receiver's thread."""
        if self._loop is None or self._thread is None:
            return
        if self._windows is not None:
            self._windows.cancel()
        self._call(self._go_down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CONTROL_TIMEOUT_S)
        self._loop.close()
        self._loop = self._thread = None

    def go_down(self) -> None:
        """Reset every connection, in-flight requests included, and refuse new ones."""
        self._call(self._go_down())

    def go_up(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen(self._port))

    def restart(self) -> None:
        """Crash and come back: in-flight requests see their connection reset."""
        self.go_down()
        self.go_up()

    def observations(self) -> list[Request]:
        """Every request received so far, in order of arrival."""
        with self._lock:
            return list(self._requests)

    def wait_for(self, count: int, timeout_s: float) -> list[Request]:
        """Block until `count` requests arrived; fail saying how many did by the deadline."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout_s):
                got = len(self._requests)
                raise TimeoutError(f"{self.url}: {got} of {count} requests in {timeout_s}s")
            return list(self._requests)

    def wait_in_flight(self, count: int, timeout_s: float) -> None:
        """Block until `count` requests are in flight at once."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._in_flight >= count, timeout_s):
                raise TimeoutError(f"{self.url}: {self._in_flight} of {count} in flight")

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _call[T](self, work: Coroutine[object, object, T]) -> T:
        if self._loop is None:
            work.close()
            raise RuntimeError("the receiver is not started")
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(CONTROL_TIMEOUT_S)

    async def _listen(self, port: int) -> int:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, HOST, port, reuse_address=True, limit=MAX_HEAD_BYTES
            )
        port_now: int = self._server.sockets[0].getsockname()[1]
        return port_now

    async def _go_down(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        loop = asyncio.get_running_loop()
        for listening in server.sockets:
            loop.remove_reader(listening.fileno())
        # Connections accepted already get their transports now: closing the server first
        # would make asyncio drop them half-made, unclosed (Server._attach asserts).
        await asyncio.sleep(0)
        server.close()
        connections = list(self._connections.items())
        for task, writer in connections:
            _reset(writer)
            task.cancel()
        await asyncio.gather(*(task for task, _ in connections), return_exceptions=True)
        await server.wait_closed()

    async def _follow(self, windows: Sequence[DownBetween]) -> None:
        for window in sorted(windows, key=lambda w: w.start_s):
            await asyncio.sleep(self._started + window.start_s - time.monotonic())
            await self._go_down()
            await asyncio.sleep(self._started + window.end_s - time.monotonic())
            await self._listen(self._port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None or self._server is None:
            _reset(writer)  # accepted just before going down
            return
        self._connections[task] = writer
        try:
            while await self._exchange(reader, writer):
                pass
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away or sent what is not HTTP: its request is not one
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; whether the connection stays open."""
        method, path, headers, keep_alive = _parse_head(await reader.readuntil(_HEAD_END))
        if "transfer-encoding" in headers:
            writer.write(_response(_Answer(NOT_IMPLEMENTED), keep_alive=False))
            return False
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        answer = self._admit(method, path, headers, body)
        try:
            await asyncio.sleep(answer.delay_s)
        finally:
            self._leave()  # before the answer is written: the client may send again at once
        writer.write(_response(answer, keep_alive))
        await writer.drain()
        return keep_alive

    def _admit(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        with self._lock:
            index = len(self._requests)
            answer = _decide(self.behaviours, index, self._rng)
            self._requests.append(
                Request(
                    index, method, path, headers, body, time.time(), time.monotonic(), answer.status
                )
            )
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            self._lock.notify_all()
        return answer

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._lock.notify_all()
