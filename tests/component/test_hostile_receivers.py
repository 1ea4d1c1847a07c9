"""What a hostile receiver can send, generated: HttpSender.send turns any answer from a
loopback raw-byte receiver into an AttemptResult with a status of 100-599 or none, and never
raises. (The wire's parsers and the fan-out's bookkeeping get the same answers in
tests/unit/test_hostile_receivers.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from ipaddress import ip_network

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcelhooks.delivery.http.netguard import GuardPolicy
from parcelhooks.delivery.http.sender import INVALID_HEADER, HttpSender, WebhookRequest
from parcelhooks.delivery.outcomes import AttemptResult
from testkit.hostile_answers import answers
from testkit.receivers import RawReceiver, raw_receiver

OVER_SOCKETS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


LOCAL = GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),))


KNOWN_ERRORS = {"timeout", "connection_error", "protocol_error", "tls_error"}


@pytest.fixture(scope="module")
def hostile() -> Iterator[RawReceiver]:
    """One raw receiver for every example; it closes each connection once it has answered."""
    with raw_receiver([b""], close_after_answer=True) as receiver:
        yield receiver


class WarmSender:
    """One HttpSender on one event loop for every example, as in a warm Lambda container:
    connections the receiver closed after an earlier example are met again."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._sender = HttpSender(
            connect_timeout_s=1.0,
            total_timeout_s=2.0,
            max_connections=2,
            policy=LOCAL,
            resolve=lambda host, port: [host],
        )

    def send_twice(self, url: str, headers: dict[str, str] | None = None) -> list[AttemptResult]:
        request = WebhookRequest(url, headers or {}, b"{}")

        async def run() -> list[AttemptResult]:
            return [await self._sender.send(request) for _ in range(2)]

        return self._runner.run(run())

    def close(self) -> None:
        self._runner.close()


@pytest.fixture(scope="module")
def warm() -> Iterator[WarmSender]:
    sender = WarmSender()
    yield sender
    sender.close()


@OVER_SOCKETS
@given(answer=answers)
def test_send_never_raises_and_its_status_is_none_or_100_to_599(
    hostile: RawReceiver, warm: WarmSender, answer: bytes
) -> None:
    hostile.answers[:] = [answer]
    for result in warm.send_twice(hostile.url):
        assert isinstance(result, AttemptResult)
        if result.status_code is None:
            assert result.error in KNOWN_ERRORS
        else:
            assert 100 <= result.status_code <= 599 and result.error is None


@OVER_SOCKETS
@given(headers=st.dictionaries(st.text(max_size=12), st.text(max_size=24), max_size=3))
def test_send_never_raises_whatever_headers_it_is_given(
    hostile: RawReceiver, warm: WarmSender, headers: dict[str, str]
) -> None:
    hostile.answers[:] = [b"HTTP/1.1 204 No Content\r\n\r\n"]
    for result in warm.send_twice(hostile.url, headers):
        assert result.status_code == 204 or result.error == INVALID_HEADER
