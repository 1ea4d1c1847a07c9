"""A counting HTTP proxy on 127.0.0.1 in front of MiniStack: every AWS call a function makes.

Each function's AWS_ENDPOINT_URL points at its own listening port, so a call is counted
for the function that made it, by its `X-Amz-Target` (DynamoDB and SQS both speak the
JSON protocol), with request and response bytes and, for DynamoDB, the capacity units its
items take by AWS's item-size rules (chaos/capacity.py). Runs as its own process
(`python -m chaos.proxy`), so its work does not share the harness's GIL with the
receivers whose arrival times are the latency figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaos.capacity import Units, capacity_of

HOST = "127.0.0.1"
COUNTS_PATH = "/_chaos/counts"
MAX_HEAD_BYTES = 64 * 1024
READY_TIMEOUT_S = 30.0
_HEAD_END = b"\r\n\r\n"


@dataclass
class CallCount:
    """What the calls of one function to one operation on one table or queue added up to."""

    calls: int = 0
    errors: int = 0
    request_bytes: int = 0
    response_bytes: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    items_written: int = 0
    item_bytes_written: int = 0
    index_entries_written: int = 0

    def add(self, other: CallCount) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class Counts:
    """Per (function, operation, resource) key: `function|Service.Operation|resource`."""

    by_key: dict[str, CallCount] = field(default_factory=dict)

    def record(self, function: str, operation: str, resource: str, call: CallCount) -> None:
        self.by_key.setdefault(f"{function}|{operation}|{resource}", CallCount()).add(call)

    def to_json(self) -> dict[str, dict[str, float]]:
        return {key: asdict(count) for key, count in sorted(self.by_key.items())}

    @classmethod
    def from_json(cls, document: Mapping[str, Mapping[str, float]]) -> Counts:
        counts = cls()
        for key, values in document.items():
            counts.by_key[key] = CallCount(**values)  # type: ignore[arg-type]
        return counts


def resource_of(operation: str, request: Mapping[str, Any]) -> str:
    """The table or queue a call is about (the first of a batch's tables), else ''."""
    if "TableName" in request:
        return str(request["TableName"])
    if isinstance(request.get("RequestItems"), dict) and request["RequestItems"]:
        return str(next(iter(request["RequestItems"])))
    if "QueueUrl" in request:
        return str(request["QueueUrl"]).rsplit("/", 1)[-1]
    return ""


def count_call(
    target: str, request_body: bytes, status: int, response_body: bytes
) -> tuple[str, str, CallCount]:
    """Operation, resource and the count of one call, from its bytes on the wire."""
    operation = _operation_name(target)
    request = _json_object(request_body)
    response = _json_object(response_body)
    units: Units = capacity_of(operation, request, response, ok=status < 300)
    call = CallCount(
        calls=1,
        errors=int(status >= 300),
        request_bytes=len(request_body),
        response_bytes=len(response_body),
        read_units=units.read,
        write_units=units.write,
        items_written=units.items_written,
        item_bytes_written=units.item_bytes_written,
        index_entries_written=units.index_entries_written,
    )
    return operation, resource_of(operation, request), call


def _operation_name(target: str) -> str:
    """`DynamoDB_20120810.PutItem` -> `DynamoDB.PutItem`; `AmazonSQS.SendMessage` -> `SQS.…`."""
    service, _, action = target.partition(".")
    if service.startswith("DynamoDB"):
        return f"DynamoDB.{action}"
    if service == "AmazonSQS":
        return f"SQS.{action}"
    return target or "unknown"


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


class _Proxy:
    """Forwards each downstream connection over its own upstream connection, one call at
    a time (botocore sends one request per connection and waits for its answer)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.counts = Counts()

    async def serve(self, function: str) -> asyncio.Server:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._connection(function, reader, writer)

        return await asyncio.start_server(handle, HOST, 0, limit=MAX_HEAD_BYTES)

    async def _connection(
        self, function: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await reader.readuntil(_HEAD_END)
                headers = _headers(head)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if head.startswith(f"GET {COUNTS_PATH} ".encode()):
                    writer.write(_json_response(self.counts.to_json()))
                    await writer.drain()
                    continue
                if upstream is None:
                    upstream = await asyncio.open_connection(HOST, self.upstream_port)
                answer_head, answer_body = await _exchange(upstream, head + body)
                writer.write(answer_head + answer_body)
                await writer.drain()
                operation, resource, call = count_call(
                    headers.get("x-amz-target", ""), body, _status(answer_head), answer_body
                )
                self.counts.record(function, operation, resource, call)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError):
            pass  # the client or MiniStack closed the connection: nothing more to forward
        finally:
            writer.close()
            if upstream is not None:
                upstream[1].close()


async def _exchange(
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> tuple[bytes, bytes]:
    reader, writer = upstream
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(_HEAD_END)
    headers = _headers(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return head, await _read_chunked(reader)
    return head, await reader.readexactly(int(headers.get("content-length", "0")))


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """The chunked body as it came (the client decodes it), up to its last chunk."""
    raw = b""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        raw += size_line
        size = int(size_line.split(b";")[0].strip(), 16)
        raw += await reader.readexactly(size + 2)
        if size == 0:
            return raw


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = (line.partition(":") for line in lines if ":" in line)
    return {name.strip().lower(): value.strip() for name, _, value in pairs}


def _status(head: bytes) -> int:
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _json_response(document: object) -> bytes:
    body = json.dumps(document).encode()
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
    return head.encode() + _HEAD_END + body


async def _main(upstream_port: int, functions: list[str]) -> None:
    proxy = _Proxy(upstream_port)
    servers = {name: await proxy.serve(name) for name in functions}
    ports = {name: server.sockets[0].getsockname()[1] for name, server in servers.items()}
    print(json.dumps(ports), flush=True)
    # Runs until its parent closes stdin (or kills it): it never outlives the harness.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


class ProxyProcess:
    """The proxy in its own process: one port per function, counts fetched over HTTP."""

    def __init__(self, process: subprocess.Popen[str], ports: dict[str, int]) -> None:
        self._process = process
        self.ports = ports

    def endpoint(self, function: str) -> str:
        return f"http://{HOST}:{self.ports[function]}"

    def counts(self) -> Counts:
        any_port = next(iter(self.ports.values()))
        url = f"http://{HOST}:{any_port}{COUNTS_PATH}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            return Counts.from_json(json.loads(answer.read()))


@contextlib.contextmanager
def running_proxy(upstream_port: int, functions: list[str]) -> Iterator[ProxyProcess]:
    """Start the proxy process; stop it when the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chaos.proxy", str(upstream_port), *functions],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert process.stdout is not None
        ports = {name: int(port) for name, port in json.loads(process.stdout.readline()).items()}
        yield ProxyProcess(process, ports)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("upstream_port", type=int)
    parser.add_argument("functions", nargs="+")
    args = parser.parse_args()
    asyncio.run(_main(args.upstream_port, args.functions))


if __name__ == "__main__":
    main()
