"""`parcelhooks listen`: a local receiver that verifies Standard Webhooks signatures and prints."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], webhook: Webhook | None, answer: int, out: TextIO
    ) -> None:
        super().__init__(address, _Handler)
        self.webhook = webhook
        self.answer = answer
        self.out = out


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        verdict, payload = _verify(self.server.webhook, body, headers)
        status = self.server.answer if verdict != "INVALID signature" else 401
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()
        _print_delivery(
            self.server.out,
            headers=headers,
            verdict=verdict,
            payload=payload,
            body=body,
            status=status,
        )

    # Destinations may be sent with PUT or PATCH (an ERP's update call): received alike.
    do_PUT = do_POST  # noqa: N815 - the name http.server calls
    do_PATCH = do_POST  # noqa: N815 - the name http.server calls

    def log_message(self, format: str, *args: Any) -> None:
        return  # our own line per delivery is enough


def _verify(webhook: Webhook | None, body: bytes, headers: dict[str, str]) -> tuple[str, Any]:
    if webhook is None:
        try:
            return "not checked (no --secret)", json.loads(body)
        except ValueError:
            return "not checked (no --secret)", None
    try:
        return "verified", webhook.verify(body, headers)
    except WebhookVerificationError:
        return "INVALID signature", None


def _print_delivery(
    out: TextIO, *, headers: dict[str, str], verdict: str, payload: Any, body: bytes, status: int
) -> None:
    summary = f"webhook {headers.get('webhook-id', '?')} signature {verdict}, answered {status}"
    if isinstance(payload, dict):
        data = payload.get("data") or {}
        summary += (
            f"\n  type={payload.get('type')} tracking_code={data.get('tracking_code')}"
            f" order_id={data.get('order_id')} merchant_id={data.get('merchant_id')}"
        )
    # One write per delivery: `make run` has two receivers printing to the same terminal.
    out.write(f"{summary}\n  {body.decode('utf-8', 'replace')}\n")
    out.flush()


def serve(host: str, port: int, secret: str | None, answer: int, out: TextIO = sys.stdout) -> None:
    webhook = Webhook(secret) if secret else None
    server = _Receiver((host, port), webhook, answer, out)
    checked = "checked" if secret else "NOT checked"
    out.write(f"listening on http://{host}:{port}/ (signatures {checked})\n")
    out.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
