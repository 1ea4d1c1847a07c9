"""The session's clock is where `--clock-ahead-days` puts it (`make future`)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import future_clock


def test_the_wall_clock_runs_as_far_ahead_as_the_session_asks(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    # The file system stamps a file with the machine's own clock, which no travel moves.
    stamp = tmp_path / "stamp"
    stamp.touch()
    machine = datetime.fromtimestamp(stamp.stat().st_mtime, UTC)
    ahead = datetime.now(UTC) - machine
    expected = timedelta(days=future_clock.days_ahead(pytestconfig))
    assert abs(ahead - expected) < timedelta(minutes=1)
