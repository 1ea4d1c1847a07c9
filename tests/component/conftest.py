"""The component tier: handlers and adapters on moto, the HTTP client against loopback
receivers, and the template as SAM transforms it. Fake AWS credentials; no real endpoint.

`moto_stack` builds template.yaml's tables and queues in moto and gives every function the
environment the template gives it (tests/component/stack.py). tests/iam replays every test
here that uses it with each function under its own IAM role. Receivers listen on a port the
system picks and files go to tmp_path (the one shared file, the SAM transform's cache, is
written whole by each process), so the tier runs under pytest-xdist: `pytest -n 2`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import pytest_socket
from moto import mock_aws

from parcelhooks.wiring import admin as admin_wiring
from parcelhooks.wiring import fanout as fanout_wiring
from testkit.environment import placeholder_environment, reset_cached_builders
from testkit.fakes import fake_resolver
from tests.component.stack import build_stack

# The handlers validate their settings when imported; until a test builds its moto stack
# they see placeholder names.
os.environ.update(placeholder_environment())


@pytest.fixture(autouse=True)
def _fresh_builders() -> Iterator[None]:
    reset_cached_builders()
    yield
    reset_cached_builders()


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The template's tables and queues in moto; yields the functions' environment."""
    with mock_aws():
        env = build_stack()
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setattr(fanout_wiring, "resolver", lambda: fake_resolver)
        monkeypatch.setattr(admin_wiring, "resolver", lambda: fake_resolver)
        reset_cached_builders()
        yield env
        reset_cached_builders()


def pytest_runtest_setup() -> None:
    """The network is 127.0.0.1 only: loopback receivers, nothing beyond the machine."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)
