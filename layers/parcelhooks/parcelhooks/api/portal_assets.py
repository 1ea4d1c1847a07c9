"""The merchant portal's files (parcelhooks/portal/), served by the admin function with the
headers that keep the page to itself: a Content-Security-Policy with no inline script and
no third party, no framing, no sniffing, no referrer.

Only the files named here are served: a name from the URL never becomes a path.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from parcelhooks.core.errors import NotFoundError

PORTAL_DIR = Path(__file__).resolve().parent.parent / "portal"
ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "deliveries.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "editor.js": "text/javascript; charset=utf-8",
    "event_types.js": "text/javascript; charset=utf-8",
    "fields.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "screens.js": "text/javascript; charset=utf-8",
    "secret.js": "text/javascript; charset=utf-8",
    "shipments.js": "text/javascript; charset=utf-8",
    "subscriptions.js": "text/javascript; charset=utf-8",
    "portal.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "pt-BR.json": "application/json",
    "en.json": "application/json",
    # Code to verify signatures, shown for copying (never run by the page).
    "verify-python.txt": "text/plain; charset=utf-8",
    "verify-node.txt": "text/plain; charset=utf-8",
    "verify-php.txt": "text/plain; charset=utf-8",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@cache
def asset(name: str) -> str:
    if name not in ASSETS:
        raise NotFoundError("no such portal file")
    return (PORTAL_DIR / name).read_text(encoding="utf-8")


def portal_asset_response(name: str) -> Response[str]:
    return Response(
        status_code=200,
        content_type=ASSETS.get(name, "text/plain"),
        body=asset(name),
        headers=dict(SECURITY_HEADERS),
    )
