"""The unit tier's guard (testkit/purity.py, loaded by tests/unit/conftest.py) refuses what a
unit test may not do, with the message that says where such a test belongs, even when the
code under test swallows the refusal. It is run here on a probe file, in a pytest of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import asyncio
import contextlib
import socket
import subprocess

import boto3
import pytest_socket


def test_a_socket_to_loopback():
    socket.create_connection(("127.0.0.1", 9), timeout=0.1)


def test_a_unix_socket():
    socket.socket(socket.AF_UNIX)


def test_a_socket_the_code_swallows():
    with contextlib.suppress(Exception):
        socket.socket()


def test_sockets_turned_back_on():
    pytest_socket.enable_socket()


def test_moto():
    from moto import mock_aws

    with mock_aws():
        pass


def test_a_boto3_client():
    boto3.client("sqs", region_name="us-east-1")


def test_a_process():
    subprocess.run(["true"], check=False)


def test_an_event_loop():
    async def answer():
        await asyncio.sleep(0)
        return 42

    assert asyncio.run(answer()) == 42
"""
# What the guard says each probe did: in the failure, or at teardown when it was swallowed.
REFUSED = {
    "test_a_socket_to_loopback": "resolved a host name",
    "test_a_unix_socket": "opened a socket",
    "test_a_socket_the_code_swallows": "opened a socket",
    "test_sockets_turned_back_on": "turned sockets back on",
    "test_moto": r"(imported|started) moto",
    "test_a_boto3_client": "made a boto3 client",
    "test_a_process": "spawned a process",
}
# The unit tier's conftest as a plugin, for a probe file outside tests/unit.
PYTEST = (sys.executable, "-m", "pytest", "-p", "tests.unit.conftest", "-p", "no:cacheprovider")
MESSAGE = r"unit tests are pure: move this test to tests/component(: it| \(it) {}"


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("probe")
    (folder / "test_probe.py").write_text(textwrap.dedent(PROBE))
    done = subprocess.run(
        [*PYTEST, "-q", "-rfEp", "--tb=line", "-W", "ignore", str(folder / "test_probe.py")],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return done.stdout + done.stderr


def _outcomes(output: str, test: str) -> set[str]:
    """How the short test summary reports `test`: FAILED, ERROR (at teardown), PASSED."""
    summary = output.split("short test summary info", 1)[-1].splitlines()
    return {line.split()[0] for line in summary if line.split(" - ", 1)[0].endswith(f"::{test}")}


@pytest.mark.parametrize("test", sorted(REFUSED))
def test_the_guard_refuses_it_naming_the_tier(probe_run: str, test: str) -> None:
    assert _outcomes(probe_run, test) & {"FAILED", "ERROR"}, probe_run
    assert re.search(MESSAGE.format(REFUSED[test]), probe_run), probe_run


def test_an_event_loop_still_starts(probe_run: str) -> None:
    assert _outcomes(probe_run, "test_an_event_loop") == {"PASSED"}, probe_run
