"""Schemathesis runs against the deployed local stack, in the background: started at the
e2e session's start (conftest.py), read by tests/e2e/test_schemathesis.py at its end."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devstack.stack import Deployment

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


def start_run(
    deployment: Deployment, key: str, filters: list[str], phases: str, folder: Path
) -> Run:
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
