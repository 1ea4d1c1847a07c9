"""The unit tier's guard, a pytest plugin its conftest loads: for the length of each test no
socket can be made (pytest-socket, loopback and Unix sockets included; the one exception is
an in-process `socket.socketpair()`, which asyncio's event loop needs to start and which
reaches nothing), and starting moto, making a boto3 client or spawning a process fails,
naming the tier such a test belongs in. A guard the code under test swallows still fails
the test at teardown.
"""

from __future__ import annotations

import _posixsubprocess
import _socket
import importlib.abc
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import botocore.session
import pytest
import pytest_socket

PURE = "unit tests are pure: move this test to tests/component"
_REAL_SOCKET = socket.socket


class ImpureTestError(AssertionError):
    """A unit test reached for a socket, moto, a boto3 client or a process."""


class _Guard:
    def __init__(self) -> None:
        self.violations: list[str] = []
        self.failed = False

    def refuse(self, what: str) -> ImpureTestError:
        self.violations.append(what)
        return ImpureTestError(f"{PURE} (it {what})")

    def refusing(self, what: str) -> Any:
        def refused(*_: object, **__: object) -> Any:
            raise self.refuse(what)

        return refused


class _NoMoto(importlib.abc.MetaPathFinder):
    """Refuses importing moto during a unit test (when no other tier imported it already)."""

    def __init__(self, guard: _Guard) -> None:
        self._guard = guard

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname == "moto" or fullname.startswith("moto."):
            raise self._guard.refuse("imported moto")


def _socketpair(
    family: int = socket.AF_UNIX, type: int = socket.SOCK_STREAM, proto: int = 0
) -> tuple[socket.socket, socket.socket]:
    """An in-process pair (asyncio's self-pipe), made while every other socket is refused."""
    pair = _socket.socketpair(family, type, proto)
    first, second = (_REAL_SOCKET(family, type, proto, end.detach()) for end in pair)
    return first, second


def _disable_sockets(guard: _Guard, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest_socket.disable_socket(allow_unix_socket=False)
    guarded = socket.socket

    class Refused(guarded):  # type: ignore[misc,valid-type]
        """pytest-socket's guard, failing with the tier's message (and counted if caught)."""

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().__new__(cls, *args, **kwargs)
            except pytest_socket.SocketBlockedError as blocked:
                raise guard.refuse("opened a socket") from blocked

    monkeypatch.setattr(socket, "socket", Refused)
    monkeypatch.setattr(socket, "socketpair", _socketpair)
    monkeypatch.setattr(socket, "getaddrinfo", guard.refusing("resolved a host name"))
    monkeypatch.setattr(socket, "gethostbyname", guard.refusing("resolved a host name"))


def _refuse_moto(guard: _Guard, monkeypatch: pytest.MonkeyPatch) -> None:
    models = sys.modules.get("moto.core.models")
    if models is None:
        monkeypatch.setattr(sys, "meta_path", [_NoMoto(guard), *sys.meta_path])
        return
    for name in ("MockAWS", "ServerModeMockAWS", "ProxyModeMockAWS"):
        monkeypatch.setattr(getattr(models, name), "start", guard.refusing("started moto"))


def _refuse_processes(guard: _Guard, monkeypatch: pytest.MonkeyPatch) -> None:
    spawn = guard.refusing("spawned a process")
    monkeypatch.setattr(subprocess.Popen, "_execute_child", spawn)
    monkeypatch.setattr(_posixsubprocess, "fork_exec", spawn)
    for name in ("system", "fork", "forkpty", "posix_spawn", "posix_spawnp"):
        monkeypatch.setattr(os, name, spawn)


_GUARD = pytest.StashKey[_Guard]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test that turns sockets back on (pytest_socket.enable_socket) is caught here: by
    teardown pytest-socket has restored them for every test."""
    guard = item.stash.get(_GUARD, None)
    try:
        return (yield)
    except BaseException:
        if guard is not None:
            guard.failed = True  # the test fails already: no second report at teardown
        raise
    finally:
        if guard is not None and socket.socket is _REAL_SOCKET:
            guard.violations.append("turned sockets back on")


@pytest.fixture(autouse=True)
def pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = _Guard()
    with monkeypatch.context() as patched:
        _disable_sockets(guard, patched)
        _refuse_moto(guard, patched)
        _refuse_processes(guard, patched)
        patched.setattr(
            botocore.session.Session, "create_client", guard.refusing("made a boto3 client")
        )
        request.node.stash[_GUARD] = guard
        yield
    pytest_socket.enable_socket()
    if guard.violations and not guard.failed:
        pytest.fail(f"{PURE}: it {'; '.join(dict.fromkeys(guard.violations))}", pytrace=False)
