"""Schemathesis against the deployed local stack, driven by the openapi.json it serves.

Carrier and merchant routes run with their own keys, at the same time, in the background
from the session's start (tests/e2e/conftest.py), beside the rest of the tier; these tests,
collected last, wait for their results. The checks: no 5xx, every status code documented,
and every response body valid against its schema.
"""

from __future__ import annotations

import pytest

from tests.e2e.schemathesis_runs import Run


@pytest.mark.parametrize("role", ["carrier", "merchant"])
def test_schemathesis_finds_no_5xx_and_no_schema_violations(
    schemathesis_runs: dict[str, Run], role: str
) -> None:
    output = schemathesis_runs[role].result()
    print(output[-3000:])  # kept in the test log: what ran and what it found
