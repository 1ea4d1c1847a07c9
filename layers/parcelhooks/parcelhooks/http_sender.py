"""POSTs webhooks over pooled keep-alive connections (urllib3) to vetted addresses only.

Each delivery vets its URL again (netguard) and connects to the address that passed,
sending the original Host header and TLS server name, so certificates are checked
against the merchant's host name. Redirects are never followed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import urllib3
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from parcelhooks.netguard import GuardPolicy, Resolver, Target, UnsafeTargetError, vet
from parcelhooks.outcomes import AttemptResult

RESPONSE_EXCERPT_BYTES = 4096
RESOLVE_CACHE_S = 30.0
BLOCKED_TARGET = "blocked_target"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    url: str
    headers: dict[str, str]
    body: bytes


class CachingResolver:
    """Remembers answers briefly: deliveries to one endpoint need not ask DNS each time.

    Safe against rebinding because whatever address is used was checked, and is the
    one connected to.
    """

    def __init__(self, resolve: Resolver, ttl_s: float = RESOLVE_CACHE_S) -> None:
        self._resolve = resolve
        self._ttl_s = ttl_s
        self._answers: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, host: str, port: int) -> list[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._answers.get((host, port))
        if cached and cached[0] > now:
            return cached[1]
        answer = list(self._resolve(host, port))
        with self._lock:
            self._answers[(host, port)] = (now + self._ttl_s, answer)
        return answer


class HttpSender:
    """One instance per warm container: its connection pools outlive an invocation."""

    def __init__(
        self,
        *,
        connect_timeout_s: float,
        total_timeout_s: float,
        max_connections: int,
        policy: GuardPolicy,
        resolve: Resolver,
    ) -> None:
        self._timeout = urllib3.Timeout(
            connect=connect_timeout_s, read=total_timeout_s, total=total_timeout_s
        )
        self._max_connections = max_connections
        self._policy = policy
        self._resolve = CachingResolver(resolve)
        self._pools: dict[tuple[str, str, int, str], HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def send(self, request: WebhookRequest) -> AttemptResult:
        started = time.perf_counter()
        try:
            target = vet(request.url, self._policy, self._resolve)
        except UnsafeTargetError as error:
            return AttemptResult(
                status_code=None,
                latency_ms=_elapsed_ms(started),
                error=BLOCKED_TARGET,
                response_excerpt=str(error)[:RESPONSE_EXCERPT_BYTES],
            )
        headers = {
            "host": target.host_header,
            "content-type": "application/json",
            "user-agent": "parcelhooks/1",
            **request.headers,
        }
        try:
            response = self._pool(target).urlopen(
                "POST",
                target.path,
                body=request.body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as error:
            return AttemptResult(
                status_code=None, latency_ms=_elapsed_ms(started), error=_error_class(error)
            )
        return _read_result(response, started)

    def _pool(self, target: Target) -> HTTPConnectionPool:
        key = (target.scheme, target.address, target.port, target.host)
        pool = self._pools.get(key)
        if pool is not None:
            return pool
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._new_pool(target)
                self._pools[key] = pool
        return pool

    def _new_pool(self, target: Target) -> HTTPConnectionPool:
        options = {
            "host": target.address,
            "port": target.port,
            "maxsize": self._max_connections,
            "block": False,
            "timeout": self._timeout,
            "retries": False,
        }
        if target.scheme == "https":
            return HTTPSConnectionPool(
                **options,  # type: ignore[arg-type]
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
            )
        return HTTPConnectionPool(**options)  # type: ignore[arg-type]


def _read_result(response: urllib3.BaseHTTPResponse, started: float) -> AttemptResult:
    try:
        excerpt = response.read(RESPONSE_EXCERPT_BYTES)
    except urllib3.exceptions.HTTPError:
        excerpt = b""
    finally:
        # Reuse the connection only when the whole body was read; otherwise it is dirty.
        if response.length_remaining == 0:
            response.release_conn()
        else:
            response.close()
    return AttemptResult(
        status_code=response.status,
        latency_ms=_elapsed_ms(started),
        response_excerpt=excerpt.decode("utf-8", "replace"),
        retry_after=response.headers.get("retry-after"),
    )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _error_class(error: Exception) -> str:
    """A short, stable name for what went wrong, for the log and the dead letter."""
    reason = getattr(error, "reason", None) or error
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: test it first.
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return "connection_error"
    if isinstance(reason, urllib3.exceptions.TimeoutError):
        return "timeout"
    if isinstance(reason, urllib3.exceptions.SSLError):
        return "tls_error"
    if isinstance(reason, urllib3.exceptions.ProtocolError):
        return "protocol_error"
    return type(reason).__name__
