"""HTTP/1.1 wire format without sockets: answers are bytes fed into an asyncio.StreamReader."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from ipaddress import ip_network

import pytest

from parcelhooks.delivery.netguard import GuardPolicy, vet
from parcelhooks.delivery.wire import (
    MAX_HEAD_BYTES,
    RESPONSE_EXCERPT_BYTES,
    HeaderInjectionError,
    ProtocolError,
    Response,
    parse_head,
    read_response,
    request_head,
)

KIB_4 = 4096
OK_EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def _feed[T](data: bytes, read: Callable[[asyncio.StreamReader], Awaitable[T]]) -> T:
    """Run `read` on a reader holding `data` then end of stream, as the pool's reader is."""

    async def run() -> T:
        reader = asyncio.StreamReader(limit=MAX_HEAD_BYTES)
        reader.feed_data(data)
        reader.feed_eof()
        return await read(reader)

    return asyncio.run(run())


def _response(data: bytes) -> Response:
    return _feed(data, read_response)


def _responses(data: bytes, count: int) -> list[Response]:
    """`count` answers read one after another from one stream, as a kept-alive connection."""

    async def read_all(reader: asyncio.StreamReader) -> list[Response]:
        return [await read_response(reader) for _ in range(count)]

    return _feed(data, read_all)


# Status lines and header fields


def test_the_status_line_gives_the_status_code() -> None:
    assert parse_head(b"HTTP/1.1 429 Too Many Requests\r\n\r\n").status == 429


def test_a_status_line_without_a_reason_is_accepted() -> None:
    assert parse_head(b"HTTP/1.1 204\r\n\r\n").status == 204


def test_header_names_are_lower_cased_and_values_stripped() -> None:
    head = parse_head(b"HTTP/1.1 200 OK\r\nRetry-After:   120  \r\nX-Thing:a:b\r\n\r\n")
    assert head.headers == {"retry-after": "120", "x-thing": "a:b"}


def test_http_1_1_keeps_the_connection_by_default() -> None:
    assert parse_head(b"HTTP/1.1 200 OK\r\n\r\n").keep_alive


def test_http_1_1_with_connection_close_is_not_kept() -> None:
    assert not parse_head(b"HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n").keep_alive


def test_http_1_0_is_not_kept_by_default() -> None:
    assert not parse_head(b"HTTP/1.0 200 OK\r\n\r\n").keep_alive


def test_http_1_0_with_keep_alive_is_kept() -> None:
    assert parse_head(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keep_alive


@pytest.mark.parametrize(
    "status_line",
    [
        b"SMTP ready",
        b"HTTP/1.1",
        b"HTTP/1.1 OK 200",
        b"HTTP/2 200 OK",
        b"http/1.1 200 OK",
        b"HTTP/1.1 -200 OK",
        "HTTP/1.1 \u00b200 OK".encode(),
        b"",
    ],
)
def test_a_malformed_status_line_is_a_protocol_error(status_line: bytes) -> None:
    with pytest.raises(ProtocolError, match="not an HTTP/1"):
        parse_head(status_line + b"\r\n\r\n")


def test_a_head_over_64_kib_is_a_protocol_error() -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
    with pytest.raises(ProtocolError, match="over 64 KiB"):
        _response(head)


def test_a_head_cut_off_by_the_close_is_an_incomplete_read() -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        _response(b"HTTP/1.1 200 OK\r\nContent-Len")


# Interim answers


@pytest.mark.parametrize(
    "interim", [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early\r\n\r\n"]
)
def test_an_interim_1xx_answer_is_skipped(interim: bytes) -> None:
    final = _response(interim + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert (final.status, final.excerpt) == (200, b"ok")


def test_several_interim_answers_in_a_row_are_all_skipped() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
    assert _response(interim + OK_EMPTY).status == 200


def test_the_stream_stays_in_step_after_an_interim_answer() -> None:
    first = b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    second = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
    assert [r.status for r in _responses(first + second, 2)] == [200, 500]


def test_101_switching_protocols_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="switch protocols"):
        _response(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")


# Bodies


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body_whatever_their_content_length(status: int) -> None:
    answer = f"HTTP/1.1 {status} X\r\nContent-Length: 5\r\n\r\n".encode()
    [response, after] = _responses(answer + OK_EMPTY, 2)
    assert (response.excerpt, response.reusable, after.status) == (b"", True, 200)


def test_a_short_content_length_body_is_read_whole_and_reusable() -> None:
    response = _response(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nthanks")
    assert (response.excerpt, response.reusable) == (b"thanks", True)


def test_a_body_of_exactly_4_kib_is_read_whole_and_reusable() -> None:
    response = _response(b"HTTP/1.1 500 X\r\nContent-Length: 4096\r\n\r\n" + b"x" * KIB_4)
    assert (len(response.excerpt), response.reusable) == (KIB_4, True)


def test_a_body_over_4_kib_is_capped_and_not_reusable() -> None:
    response = _response(b"HTTP/1.1 500 X\r\nContent-Length: 4097\r\n\r\n" + b"x" * (KIB_4 + 1))
    assert (len(response.excerpt), response.reusable) == (RESPONSE_EXCERPT_BYTES, False)


@pytest.mark.parametrize("length", ["\u00b2", "-1", "1.5", "0x10", "ten", ""])
def test_a_bad_content_length_is_a_protocol_error(length: str) -> None:
    answer = f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode()
    with pytest.raises(ProtocolError, match="bad content-length"):
        _response(answer)


def test_a_body_shorter_than_its_content_length_is_an_incomplete_read() -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        _response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")


def test_a_body_without_length_is_read_until_close_and_not_reusable() -> None:
    response = _response(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
    assert (response.excerpt, response.reusable) == (b"until the end", False)


def test_a_body_until_close_is_capped_at_4_kib() -> None:
    response = _response(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 10_000)
    assert len(response.excerpt) == RESPONSE_EXCERPT_BYTES


# Chunked bodies


def test_a_chunked_body_is_joined_and_reusable() -> None:
    response = _response(CHUNKED + b"2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n")
    assert (response.excerpt, response.reusable) == (b"ok!!!", True)


def test_chunk_extensions_are_ignored() -> None:
    response = _response(CHUNKED + b"2;name=value\r\nok\r\n0;last\r\n\r\n")
    assert response.excerpt == b"ok"


def test_trailer_fields_are_consumed_and_the_stream_stays_in_step() -> None:
    answer = CHUNKED + b"2\r\nok\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
    [first, second] = _responses(answer + OK_EMPTY, 2)
    assert (first.excerpt, first.reusable, second.status) == (b"ok", True, 200)


def test_a_chunked_body_over_4_kib_is_capped_and_not_reusable() -> None:
    chunk = b"1000\r\n" + b"x" * KIB_4 + b"\r\n"
    response = _response(CHUNKED + chunk + chunk + b"0\r\n\r\n")
    assert (len(response.excerpt), response.reusable) == (RESPONSE_EXCERPT_BYTES, False)


def test_chunked_transfer_encoding_wins_over_content_length() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _response(answer + b"2\r\nok\r\n0\r\n\r\n").excerpt == b"ok"


@pytest.mark.parametrize("size", [b"-1", b"zz", b"", b"0x10", b"1" * 17])
def test_a_bad_chunk_size_is_a_protocol_error(size: bytes) -> None:
    with pytest.raises(ProtocolError, match="bad chunk size"):
        _response(CHUNKED + size + b"\r\nok\r\n0\r\n\r\n")


def test_a_chunk_size_line_over_the_reader_limit_overruns() -> None:
    with pytest.raises(asyncio.LimitOverrunError):
        _response(CHUNKED + b"f" * 70_000 + b"\r\n")


def test_a_chunked_body_cut_off_by_the_close_is_an_incomplete_read() -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        _response(CHUNKED + b"10\r\nshort")


# Request heads


def test_the_request_head_names_the_host_type_agent_and_length() -> None:
    assert request_head("merchant.test:8443", "/hooks?a=1", {}, 17) == (
        b"POST /hooks?a=1 HTTP/1.1\r\n"
        b"Host: merchant.test:8443\r\n"
        b"Content-Type: application/json\r\n"
        b"User-Agent: parcelhooks/1\r\n"
        b"Content-Length: 17\r\n"
        b"\r\n"
    )


def test_the_request_head_carries_the_given_headers_after_its_own() -> None:
    head = request_head("h.test", "/", {"webhook-id": "evt_1", "webhook-signature": "v1,a"}, 2)
    assert head.endswith(
        b"Content-Length: 2\r\nwebhook-id: evt_1\r\nwebhook-signature: v1,a\r\n\r\n"
    )


@pytest.mark.parametrize("bad", ["\r", "\n", "\0", "\r\nX-Evil: 1"])
@pytest.mark.parametrize("where", ["name", "value"])
def test_a_header_with_a_cr_lf_or_nul_is_refused(bad: str, where: str) -> None:
    name, value = ("x" + bad, "v") if where == "name" else ("x", "v" + bad)
    with pytest.raises(HeaderInjectionError, match="CR, LF or NUL"):
        request_head("h.test", "/", {name: value}, 0)


def test_a_non_ascii_path_goes_out_as_the_guard_encoded_it() -> None:
    local = GuardPolicy(allow_http=True, allowed_networks=(ip_network("127.0.0.0/8"),))
    target = vet("http://loja-são.test/h/pedido?q=€", local, lambda host, port: ["127.0.0.1"])
    head = request_head(target.host_header, target.path, {}, 0)
    assert head.startswith(b"POST /h/pedido?q=%E2%82%AC HTTP/1.1\r\nHost: xn--loja-so-2wa.test\r\n")
