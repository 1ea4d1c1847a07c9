"""An HTTP answer as bytes fed to a StreamReader: the wire's parsers without a socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from parcelhooks.delivery.http.wire import MAX_HEAD_BYTES


def fed[T](data: bytes, read: Callable[[asyncio.StreamReader], Awaitable[T]]) -> T:
    """Run `read` on a reader holding `data` then end of stream, as the pool's reader is."""

    async def run() -> T:
        reader = asyncio.StreamReader(limit=MAX_HEAD_BYTES)
        reader.feed_data(data)
        reader.feed_eof()
        return await read(reader)

    return asyncio.run(run())
