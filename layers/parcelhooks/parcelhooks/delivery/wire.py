"""HTTP/1.1 as bytes: the request head we write, and reading the answer from a stream.

Everything here takes bytes or an `asyncio.StreamReader` and returns values: no socket,
no pool, no guard. At most 4 KiB of a body is read; an answer's head may be 64 KiB (the
reader's limit, which the connection pool sets to MAX_HEAD_BYTES).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

RESPONSE_EXCERPT_BYTES = 4096
MAX_HEAD_BYTES = 64 * 1024
USER_AGENT = "parcelhooks/1"
_NO_BODY_STATUSES = frozenset({204, 304})
_SWITCHING_PROTOCOLS = 101
_FORBIDDEN_IN_HEADERS = "\r\n\0"
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


class ProtocolError(Exception):
    """The receiver's answer is not HTTP/1.x we can read."""


class HeaderInjectionError(ValueError):
    """A request header name or value holds a CR, LF or NUL: writing it would forge the request."""


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """A status line and its header fields (names lower-cased)."""

    status: int
    headers: dict[str, str]
    keep_alive: bool


@dataclass(frozen=True, slots=True)
class Response:
    """A final answer: its head, up to 4 KiB of its body, and whether the stream can be reused."""

    status: int
    headers: dict[str, str]
    excerpt: bytes
    reusable: bool


def request_head(host_header: str, path: str, headers: dict[str, str], body_length: int) -> bytes:
    """The head of a JSON POST, ready to be followed by the body."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host_header}",
        "Content-Type: application/json",
        f"User-Agent: {USER_AGENT}",
        f"Content-Length: {body_length}",
    ]
    for name, value in headers.items():
        _refuse_injection(name, value)
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _refuse_injection(name: str, value: str) -> None:
    """Raise HeaderInjectionError if the header could end its line early."""
    if any(c in name or c in value for c in _FORBIDDEN_IN_HEADERS):
        raise HeaderInjectionError(f"header {name!r} contains a CR, LF or NUL")


async def read_response(reader: asyncio.StreamReader) -> Response:
    """The final answer to one request, read so that the stream stays in step if it can."""
    head = await read_final_head(reader)
    if head.status in _NO_BODY_STATUSES:
        return Response(head.status, head.headers, b"", head.keep_alive)
    excerpt, complete = await read_body(reader, head.headers)
    return Response(head.status, head.headers, excerpt, head.keep_alive and complete)


async def read_final_head(reader: asyncio.StreamReader) -> ResponseHead:
    """The first non-1xx head; interim answers (100 Continue, 103 Early Hints) are skipped."""
    head = parse_head(await read_head(reader))
    while 100 <= head.status < 200:
        if head.status == _SWITCHING_PROTOCOLS:
            raise ProtocolError("the receiver tried to switch protocols")
        head = parse_head(await read_head(reader))
    return head


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """A status line and header fields, up to and with the blank line that ends them."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ProtocolError("response headers over 64 KiB") from None


def parse_head(head: bytes) -> ResponseHead:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not _is_number(parts[1]):
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return ResponseHead(int(parts[1]), headers, _keeps_alive(parts[0], headers))


def _keeps_alive(version: str, headers: dict[str, str]) -> bool:
    """HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only if asked to keep it."""
    connection = headers.get("connection", "").lower()
    return "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[bytes, bool]:
    """Up to 4 KiB of the body, and whether the whole body was read (so the socket is clean)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await read_chunked(reader)
    length = headers.get("content-length")
    if length is not None:
        return await read_sized(reader, length)
    return await reader.read(RESPONSE_EXCERPT_BYTES), False  # ends at close: never reusable


async def read_sized(reader: asyncio.StreamReader, content_length: str) -> tuple[bytes, bool]:
    """A body of `content_length` bytes; complete only if it fits in the excerpt."""
    if not _is_number(content_length):
        raise ProtocolError(f"bad content-length {content_length!r}")
    size = int(content_length)
    excerpt = await reader.readexactly(min(size, RESPONSE_EXCERPT_BYTES))
    return excerpt, size <= RESPONSE_EXCERPT_BYTES


async def read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    """A chunked body and its trailer fields; complete only if it fits in the excerpt."""
    excerpt = b""
    while True:
        size = await _read_chunk_size(reader)
        if size == 0:
            await _skip_trailers(reader)
            return excerpt, True
        if len(excerpt) + size > RESPONSE_EXCERPT_BYTES:
            excerpt += await reader.readexactly(RESPONSE_EXCERPT_BYTES - len(excerpt))
            return excerpt, False
        excerpt += await reader.readexactly(size)
        await reader.readexactly(2)  # the CRLF after the chunk's data


async def _read_chunk_size(reader: asyncio.StreamReader) -> int:
    """The size on a chunk's first line, its extensions (after ';') ignored."""
    size_text = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
    if not _HEX.fullmatch(size_text):
        raise ProtocolError(f"bad chunk size {size_text[:20]!r}")
    return int(size_text, 16)


async def _skip_trailers(reader: asyncio.StreamReader) -> None:
    """Trailer fields, up to the blank line that ends the body."""
    while await reader.readuntil(b"\r\n") != b"\r\n":
        pass


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()
