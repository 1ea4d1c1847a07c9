"""Loopback receivers for the benchmarks: nginx answering 204, and a slow asyncio server.

Both run as separate processes so they never compete with the client for the GIL.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.stack import free_port, wait_until

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 204; }}
    }}
}}
"""


def _wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    def listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, timeout_s, f"a server on 127.0.0.1:{port}", interval_s=0.05)


@contextmanager
def _serving(command: list[str], port: int) -> Iterator[int]:
    """Run a server process until the block ends; yield its port once it listens."""
    process = subprocess.Popen(command)
    try:
        _wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not found:
        raise RuntimeError("nginx is not installed: apt-get install nginx-light (make bench does)")
    return found


@contextmanager
def nginx_204() -> Iterator[int]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as folder:
        conf = Path(folder) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=folder, port=port))
        with _serving([nginx_binary(), "-c", str(conf), "-p", folder], port):
            yield port


async def _serve_slow(port: int, delay_s: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                await asyncio.sleep(delay_s)
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


@contextmanager
def slow_server(delay_s: float) -> Iterator[int]:
    """A receiver answering 204 after `delay_s` seconds, to many connections at once."""
    port = free_port()
    with _serving([sys.executable, __file__, str(port), str(delay_s)], port):
        yield port


if __name__ == "__main__":
    asyncio.run(_serve_slow(int(sys.argv[1]), float(sys.argv[2])))
