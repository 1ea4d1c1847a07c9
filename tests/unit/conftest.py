"""The unit tier is pure logic, and this conftest holds every unit test to it (the guard is
testkit/purity.py). Handlers may be imported: they see the template's variables with
placeholder names, and their wiring is handed fakes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testkit.environment import placeholder_environment, reset_cached_builders
from testkit.purity import pure, pytest_runtest_call

__all__ = ["pure", "pytest_runtest_call"]

# The handlers validate their settings when imported.
os.environ.update(placeholder_environment())


@pytest.fixture(autouse=True)
def _fresh_builders() -> Iterator[None]:
    reset_cached_builders()
    yield
    reset_cached_builders()
