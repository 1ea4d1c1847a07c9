"""POSTs webhooks over pooled keep-alive connections (urllib3), never following redirects."""

import time
from dataclasses import dataclass

import urllib3

from parcelhooks.outcomes import AttemptResult

RESPONSE_EXCERPT_BYTES = 4096


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    url: str
    headers: dict[str, str]
    body: bytes


class HttpSender:
    """One pool per warm Lambda container: connections outlive a single invocation."""

    def __init__(self, connect_timeout_s: float, total_timeout_s: float, max_connections: int):
        self._timeout = urllib3.Timeout(total=total_timeout_s, connect=connect_timeout_s)
        self._pool = urllib3.PoolManager(
            num_pools=max_connections,
            maxsize=max_connections,
            block=False,
            retries=False,
            timeout=self._timeout,
        )

    def send(self, request: WebhookRequest) -> AttemptResult:
        started = time.perf_counter()
        try:
            response = self._pool.request(
                "POST",
                request.url,
                body=request.body,
                headers={"content-type": "application/json", **request.headers},
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as error:
            return AttemptResult(
                status_code=None,
                latency_ms=_elapsed_ms(started),
                error=_error_class(error),
            )
        try:
            excerpt = response.read(RESPONSE_EXCERPT_BYTES)
        except urllib3.exceptions.HTTPError:
            excerpt = b""
        finally:
            # Reuse the connection only when the whole body was read; else it is dirty.
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
    reason = getattr(error, "reason", None)
    if isinstance(error, urllib3.exceptions.TimeoutError) or isinstance(
        reason, urllib3.exceptions.TimeoutError
    ):
        return "timeout"
    if isinstance(error, urllib3.exceptions.NewConnectionError) or isinstance(
        reason, urllib3.exceptions.NewConnectionError
    ):
        return "connection_error"
    return type(error).__name__
