"""HTTP/1.1 as bytes: the request head we write, and reading the answer from a stream.

Everything here takes bytes or an `asyncio.StreamReader` and returns values: no socket,
no pool, no guard. At most 4 KiB of a body is read; an answer's head may be 64 KiB (the
reader's limit, which the connection pool sets to MAX_HEAD_BYTES).

Answers are read strictly (RFC 9112): a status line is `HTTP/1.0` or `HTTP/1.1`, exactly
three digits from 100 to 599 (RFC 9110 §15: others are invalid) and a reason of visible
characters; header fields are token names and values without control characters. Whatever
a receiver sends, reading it returns a value or raises ProtocolError, or
asyncio.IncompleteReadError when the stream ends early; nothing else.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass

from parcelhooks.core.deliveries import MAX_STATUS, MIN_STATUS, is_valid_status

RESPONSE_EXCERPT_BYTES = 4096
MAX_HEAD_BYTES = 64 * 1024
USER_AGENT = "parcelhooks/1"
_NO_BODY_STATUSES = frozenset({204, 304})
_SWITCHING_PROTOCOLS = 101
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
# RFC 9112 §4: version SP 3DIGIT [SP reason]; the reason is HTAB, SP, VCHAR or obs-text.
_STATUS_LINE = re.compile(r"(HTTP/1\.[01]) ([0-9]{3})(?: [\t\x20-\x7e\x80-\xff]*)?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2: a field name
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # RFC 9110 §5.5, obs-text kept
_REQUEST_VALUE = re.compile(r"[\t\x20-\x7e]*")  # what we send: visible ASCII, SP, HTAB
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")  # longer would be over an exabyte
_CRLF = b"\r\n"


class ProtocolError(Exception):
    """The receiver's answer is not HTTP/1.x we can read."""


class HeaderInjectionError(ValueError):
    """A request header HTTP/1.1 cannot carry: a CR, LF or NUL would forge the request, and
    a name that is not a token or a value outside visible ASCII would not encode as sent."""


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


def request_head(
    host_header: str,
    path: str,
    headers: dict[str, str],
    body_length: int,
    *,
    method: str = "POST",
    content_type: str = "application/json",
) -> bytes:
    """The head of a request with a body (a JSON POST unless told), ready for the body."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host_header}",
        f"Content-Type: {content_type}",
        f"User-Agent: {USER_AGENT}",
        f"Content-Length: {body_length}",
    ]
    for name, value in headers.items():
        _refuse_unsendable(name, value)
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _refuse_unsendable(name: str, value: str) -> None:
    """Raise HeaderInjectionError unless the header is a token name and a plain ASCII value."""
    if not (_TOKEN.fullmatch(name) and _REQUEST_VALUE.fullmatch(value)):
        raise HeaderInjectionError(
            f"header {name!r} must be a token with a value of visible ASCII, space or tab "
            "(no CR, LF or NUL)"
        )


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
    return await _read_until(reader, b"\r\n\r\n", "response headers over 64 KiB")


async def _read_until(reader: asyncio.StreamReader, separator: bytes, too_long: str) -> bytes:
    """Bytes up to and with `separator`; ProtocolError(too_long) past the reader's limit."""
    try:
        return await reader.readuntil(separator)
    except asyncio.LimitOverrunError:
        raise ProtocolError(too_long) from None


def parse_head(head: bytes) -> ResponseHead:
    """The status and header fields of a head; ProtocolError for anything not HTTP/1.x."""
    lines = head.decode("latin-1").split("\r\n")
    version, status = parse_status_line(lines[0])
    headers = parse_fields(line for line in lines[1:] if line)
    return ResponseHead(status, headers, _keeps_alive(version, headers))


def parse_status_line(line: str) -> tuple[str, int]:
    """The version and status code of a status line, read strictly."""
    match = _STATUS_LINE.fullmatch(line)
    if match is None:
        raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
    status = int(match[2])
    if not is_valid_status(status):
        raise ProtocolError(f"status {status} is outside {MIN_STATUS}-{MAX_STATUS}")
    return match[1], status


def parse_fields(lines: Iterable[str]) -> dict[str, str]:
    """Header fields by lower-cased name; repeats joined with ", " (RFC 9110 §5.3)."""
    fields: dict[str, str] = {}
    name = ""
    for line in lines:
        if line[0] in " \t" and name:  # obs-fold: a continuation of the previous value
            fields[name] = f"{fields[name]} {_field_value(line)}".strip()
            continue
        raw_name, colon, raw_value = line.partition(":")
        name = raw_name.rstrip(" \t").lower()
        if not colon or not _TOKEN.fullmatch(name):
            raise ProtocolError(f"not a header field: {line[:80]!r}")
        value = _field_value(raw_value)
        fields[name] = f"{fields[name]}, {value}" if name in fields else value
    return fields


def _field_value(text: str) -> str:
    value = text.strip(" \t")
    if not _FIELD_VALUE.fullmatch(value):
        raise ProtocolError(f"control character in a header value: {value[:80]!r}")
    return value


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
    if not _CONTENT_LENGTH.fullmatch(content_length):
        raise ProtocolError(f"bad content-length {content_length[:20]!r}")
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
        if await reader.readexactly(2) != _CRLF:  # a chunk's data ends with CRLF
            raise ProtocolError("chunk data longer than its size")


async def _read_chunk_size(reader: asyncio.StreamReader) -> int:
    """The size on a chunk's first line, its extensions (after ';') ignored."""
    line = await _read_until(reader, _CRLF, "chunk size line over 64 KiB")
    size_text = line.split(b";", 1)[0].strip()
    if not _HEX.fullmatch(size_text):
        raise ProtocolError(f"bad chunk size {size_text[:20]!r}")
    return int(size_text, 16)


async def _skip_trailers(reader: asyncio.StreamReader) -> None:
    """Trailer fields, up to the blank line that ends the body."""
    while await _read_until(reader, _CRLF, "trailer field over 64 KiB") != _CRLF:
        pass
