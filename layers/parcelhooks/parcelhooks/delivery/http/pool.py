"""Kept-alive connections to vetted targets, idle ones kept per destination and bounded.

A connection is opened to the address netguard checked, with the merchant's host name as
TLS server name, and goes back to the pool only if its answer was read whole. The pool
belongs to one event loop at a time: streams cannot move to another.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque

from parcelhooks.delivery.http.netguard import Target
from parcelhooks.delivery.http.wire import MAX_HEAD_BYTES

MAX_IDLE_TOTAL = 512

# scheme, address, port, host: the same address under another name is another server.
PoolKey = tuple[str, str, int, str]


class Connection:
    """One open stream pair to a receiver."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        """An idle connection the server has closed is not reused."""
        return not (self.reader.at_eof() or self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class ConnectionPool:
    """Idle connections by destination; at most `max_idle_per_key` each, MAX_IDLE_TOTAL in all."""

    def __init__(
        self,
        *,
        connect_timeout_s: float,
        max_idle_per_key: int,
        max_idle_total: int = MAX_IDLE_TOTAL,
    ) -> None:
        self._connect_timeout_s = connect_timeout_s
        self._max_idle_per_key = max_idle_per_key
        self._max_idle_total = max_idle_total
        self._context = ssl.create_default_context()
        self._idle: dict[PoolKey, deque[Connection]] = {}
        self._idle_total = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self, target: Target, *, fresh: bool = False) -> tuple[Connection, bool]:
        """A connection to `target` and whether it was reused; `fresh` skips the idle ones."""
        self._bind_to_running_loop()
        if not fresh:
            reused = self._take_idle(_key(target))
            if reused is not None:
                return reused, True
        return await self._open(target), False

    def release(self, target: Target, connection: Connection) -> None:
        """Keep a connection whose answer was read whole, if the bounds allow; else close it."""
        idle = self._idle.setdefault(_key(target), deque())
        # Every idle connection holds a file descriptor (a Lambda has 1,024): bound them all.
        if len(idle) < self._max_idle_per_key and self._idle_total < self._max_idle_total:
            idle.append(connection)
            self._idle_total += 1
        else:
            connection.close()

    def _bind_to_running_loop(self) -> None:
        # Streams belong to one event loop; a new loop cannot use the old one's connections.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._idle.clear()
            self._idle_total = 0
            self._loop = loop

    def _take_idle(self, key: PoolKey) -> Connection | None:
        """The most recently used idle connection still open, closing dead ones on the way."""
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            self._idle_total -= 1
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _open(self, target: Target) -> Connection:
        tls = target.scheme == "https"
        async with asyncio.timeout(self._connect_timeout_s):
            reader, writer = await asyncio.open_connection(
                target.address,
                target.port,
                ssl=self._context if tls else None,
                server_hostname=target.host if tls else None,
                limit=MAX_HEAD_BYTES,
            )
        return Connection(reader, writer)


def _key(target: Target) -> PoolKey:
    return (target.scheme, target.address, target.port, target.host)
