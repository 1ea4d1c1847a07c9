"""Schemathesis against the deployed local stack, driven by the openapi.json it serves.

Carrier and merchant routes run with their own keys. The checks: no 5xx, every status
code documented, and every response body valid against its schema.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devstack.stack import Deployment
from tests.e2e.conftest import Api

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


def _schemathesis(
    deployment: Deployment, key: str, filters: list[str], phases: str, report: Path
) -> str:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{deployment.api_url}/v1/openapi.json",
        "--url",
        deployment.api_url,
        "-H",
        f"Authorization: Bearer {key}",
        "--checks",
        CHECKS,
        "--phases",
        phases,
        "--max-examples",
        "25",
        "--seed",
        "1",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        *filters,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("role", ["carrier", "merchant"])
def test_schemathesis_finds_no_5xx_and_no_schema_violations(
    stack: Deployment, carrier: Api, merchant: Api, role: str, tmp_path: Path
) -> None:
    if role == "carrier":
        output = _schemathesis(
            stack,
            carrier.key,
            ["--include-path", "/v1/events"],
            "examples,coverage,fuzzing",
            tmp_path / "carrier.xml",
        )
    else:  # stateful too: the links from a created subscription reach every operation on it
        output = _schemathesis(
            stack,
            merchant.key,
            ["--exclude-path", "/v1/events"],
            "examples,coverage,fuzzing,stateful",
            tmp_path / "merchant.xml",
        )
    print(output[-3000:])  # kept in the test log: what ran and what it found
