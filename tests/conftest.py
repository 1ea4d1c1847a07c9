"""What every tier shares: the test's clock; real HTTP receivers on 127.0.0.1 for the
component and e2e tiers (the unit tier refuses sockets, so a unit test that asks for one
fails); and hypothesis's settings profile.

Two clocks, never mixed in one test: a test that hands the code under test its time
(`now=`, `clock=`) uses the fixed `now`; a test that goes through a handler, the CLI or the
deployed stack (which read the real clock) builds its times from the real clock, as
`carrier_event` does when given no `now`. `--clock-ahead-days` moves the real clock for a
whole session (tests/future_clock.py), so that a test that mixes them fails at once.

Property tests take their example count from the profile, loaded before any test module
is imported: `dev` (the default) runs Hypothesis's 100 examples for quick feedback and
keeps failing examples in .hypothesis/ to replay them first; `ci` (when CI=true) runs 200
each, twice as many draws where CI has the time (the stack tier runs beside the others for
minutes) while the unit tier stays under 20 s, and prints the blob that reproduces a failure.
HYPOTHESIS_PROFILE=dev|ci picks one. A test sets its own count only when each example is
costly (moto, sockets). Neither profile has a deadline: a test asserts behaviour, never
time (benchmarks are bench/'s).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import settings

from testkit.factories import NOW
from testkit.receivers import ReceiverFactory
from tests import future_clock

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, database=None, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)


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


@pytest.fixture
def receiver_factory() -> Iterator[ReceiverFactory]:
    factory = ReceiverFactory()
    yield factory
    factory.stop_all()
