"""Fixtures every tier shares: real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.receivers import Receiver, serving


class ReceiverFactory:
    """Starts real receivers on 127.0.0.1 on demand; stops them all at the end of the test."""

    def __init__(self) -> None:
        self._running: list[Any] = []

    def __call__(self, **options: Any) -> Receiver:
        context = serving(Receiver(**options))
        self._running.append(context)
        return context.__enter__()

    def stop_all(self) -> None:
        while self._running:
            self._running.pop().__exit__(None, None, None)


@pytest.fixture
def receiver_factory() -> Iterator[ReceiverFactory]:
    factory = ReceiverFactory()
    yield factory
    factory.stop_all()
