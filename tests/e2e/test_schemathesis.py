"""Schemathesis against the deployed local stack, driven by the openapi.json it serves.

Carrier and merchant routes run with their own keys, at the same time. The checks: no 5xx,
every status code documented, and every response body valid against its schema.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.stack import Deployment, issue_key
from parcelhooks.core.api_keys import Role
from tests.e2e.conftest import Api

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


@dataclass
class Run:
    """A schemathesis run in the background: its process and the file it writes to."""

    process: subprocess.Popen[bytes]
    output: Path

    def result(self) -> str:
        self.process.wait(timeout=600)
        text = self.output.read_text(errors="replace")
        assert self.process.returncode == 0, text[-8000:]
        return text


def _start(deployment: Deployment, key: str, filters: list[str], phases: str, folder: Path) -> Run:
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
        str(folder / "report.xml"),
        *filters,
    ]
    output = folder / "output.txt"
    with output.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    return Run(process, output)


@pytest.fixture(scope="module")
def runs(
    stack: Deployment, carrier: Api, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    """Both runs at once: they call different functions (ingest, admin), which MiniStack runs
    in different workers, so the tier waits for the longer one instead of their sum."""
    owner = f"it-merchant-{uuid.uuid4().hex[:8]}"
    merchant_key = issue_key(stack, Role.MERCHANT, owner)
    started = {
        "carrier": _start(
            stack,
            carrier.key,
            ["--include-path", "/v1/events"],
            "examples,coverage,fuzzing",
            tmp_path_factory.mktemp("carrier"),
        ),
        # stateful too: the links from a created subscription reach every operation on it
        "merchant": _start(
            stack,
            merchant_key,
            ["--exclude-path", "/v1/events"],
            "examples,coverage,fuzzing,stateful",
            tmp_path_factory.mktemp("merchant"),
        ),
    }
    yield started
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


@pytest.mark.parametrize("role", ["carrier", "merchant"])
def test_schemathesis_finds_no_5xx_and_no_schema_violations(
    runs: dict[str, Run], role: str
) -> None:
    output = runs[role].result()
    print(output[-3000:])  # kept in the test log: what ran and what it found
