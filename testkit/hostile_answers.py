"""HTTP answers drawn by hypothesis, well-formed or not: status lines, header blocks, chunk
framing that may lie, and whole answers of them (or of any bytes). The unit tier reads them
with the wire's parsers; the component tier has a raw-byte receiver send them to HttpSender.
"""

from __future__ import annotations

from hypothesis import strategies as st

CRLF = b"\r\n"
TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def latin1(text: str) -> bytes:
    return text.encode("latin-1", "replace")


versions = st.sampled_from(
    ["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/1.2", "http/1.1", "HTTP/1.", "HTTP/1.10", ""]
) | st.text(max_size=10)
codes = (
    st.integers(-1000, 10**45).map(str)
    | st.text("0123456789", max_size=60)
    | st.integers(0, 999).map(lambda n: f"{n:03d}")
    | st.text(max_size=6)
)
status_lines = st.builds(
    lambda version, gap, code, reason: latin1(version) + gap + latin1(code) + reason,
    versions,
    st.sampled_from([b" ", b"  ", b"\t", b""]),
    codes,
    st.binary(max_size=30) | st.text(max_size=30).map(lambda r: b" " + latin1(r)),
)
field_lines = st.binary(max_size=60).filter(lambda line: CRLF not in line) | st.builds(
    lambda name, value: name + b":" + value,
    st.binary(max_size=15) | st.text(TOKEN_CHARS, min_size=1, max_size=15).map(latin1),
    st.binary(max_size=40).filter(lambda value: CRLF not in value),
)
header_blocks = st.lists(field_lines, max_size=8).map(
    lambda lines: b"".join(line + CRLF for line in lines)
)


@st.composite
def chunked_bodies(draw: st.DrawFn) -> bytes:
    """Chunk framing that may lie: sizes that disagree with the data, odd ends, bad hex."""
    framed = b""
    for data in draw(st.lists(st.binary(max_size=64), max_size=6)):
        size = draw(
            st.just(f"{len(data):x}".encode())
            | st.integers(0, 2**70).map(lambda n: f"{n:x}".encode())
            | st.binary(max_size=20)
        )
        extension = draw(st.sampled_from([b"", b";name=value", b";"]))
        end = draw(st.sampled_from([CRLF, CRLF, b"", b"\n", b"xx"]))
        framed += size + extension + CRLF + data + end
    last = draw(st.sampled_from([b"0\r\n\r\n", b"0\r\nX-Trailer: 1\r\n\r\n", b"", b"0\r\n"]))
    return framed + last


framing_headers = st.sampled_from(
    [
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 5\r\n",
        b"Content-Length: 99999999999999999999\r\n",
        b"Content-Length: -1\r\n",
        b"",
    ]
)
answers = st.one_of(
    st.binary(max_size=512),
    st.builds(
        lambda status, headers, framing, body: status + CRLF + headers + framing + CRLF + body,
        status_lines,
        header_blocks,
        framing_headers,
        st.binary(max_size=200) | chunked_bodies(),
    ),
    st.builds(
        lambda code, framing, body: latin1(f"HTTP/1.1 {code} X\r\n") + framing + CRLF + body,
        st.integers(100, 599).map(str) | codes,
        framing_headers,
        st.binary(max_size=200) | chunked_bodies(),
    ),
)
