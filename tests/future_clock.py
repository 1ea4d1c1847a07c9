"""A session whose clock runs ahead: `pytest --clock-ahead-days=N` (`make future`).

Every wall clock the tests and the code read (`datetime.now`, `time.time`, ...) runs N days
ahead of the machine's and keeps ticking; `time.monotonic` is left alone, so timeouts and
wait-untils behave. A test that mixes a fixed date with the real clock, or a sample whose
dates go stale, fails in such a session before it fails on the calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

OPTION = "--clock-ahead-days"
_TRAVEL = pytest.StashKey[time_machine.travel]()


def add_option(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        type=int,
        default=0,
        metavar="DAYS",
        help="run the whole session with the wall clock DAYS days ahead (time-machine)",
    )


def days_ahead(config: pytest.Config) -> int:
    days: int = config.getoption(OPTION)
    return days


def start(config: pytest.Config) -> None:
    """Before collection, so that module-level times are read from the moved clock too."""
    if days := days_ahead(config):
        travel = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        travel.start()
        config.stash[_TRAVEL] = travel


def stop(config: pytest.Config) -> None:
    if travel := config.stash.get(_TRAVEL, None):
        travel.stop()


def header(config: pytest.Config) -> str | None:
    if days := days_ahead(config):
        return f"clock: {days} days ahead, at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return None
