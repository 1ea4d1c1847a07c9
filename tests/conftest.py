"""Fixtures every tier shares: the test's clock, real HTTP receivers on 127.0.0.1.

Two clocks, never mixed in one test: a test that hands the code under test its time
(`now=`, `clock=`) uses the fixed `now`; a test that goes through a handler, the CLI or the
deployed stack (which read the real clock) builds its times from the real clock, as
`carrier_event` does when given no `now`. `--clock-ahead-days` moves the real clock for a
whole session (tests/future_clock.py), so that a test that mixes them fails at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests import future_clock
from tests.factories import NOW
from tests.receivers import Receiver, serving


def pytest_addoption(parser: pytest.Parser) -> None:
    future_clock.add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    future_clock.start(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    future_clock.stop(config)


def pytest_report_header(config: pytest.Config) -> str | None:
    return future_clock.header(config)


@pytest.fixture
def now() -> datetime:
    """The test's time, for the code under test and the factories: fixed, never the date."""
    return NOW


class ReceiverFactory:
    """Starts real receivers on 127.0.0.1 on demand; stops them all at the end of the test."""

    def __init__(self) -> None:
        self._running: list[Any] = []

    def __call__(self, **options: Any) -> Receiver:
        context = serving(Receiver(**options))
        self._running.append(context)
        return context.__enter__()

    def stop_all(self) -> None:
        while self._running:
            self._running.pop().__exit__(None, None, None)


@pytest.fixture
def receiver_factory() -> Iterator[ReceiverFactory]:
    factory = ReceiverFactory()
    yield factory
    factory.stop_all()
