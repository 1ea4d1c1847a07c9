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
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    # Code to verify signatures, shown for copying (never run by the page).
    ".txt": "text/plain; charset=utf-8",
}
_FILES = (
    "index.html",
    "portal.css",
    "icon.svg",
    "app.js",
    "api.js",
    "deliveries.js",
    "dom.js",
    "editor.js",
    "event_types.js",
    "fields.js",
    "i18n.js",
    "screens.js",
    "secret.js",
    "shipments.js",
    "subscriptions.js",
    "pt-BR.json",
    "en.json",
    "verify-python.txt",
    "verify-node.txt",
    "verify-php.txt",
)
# Each served file's content type, by its suffix.
ASSETS: dict[str, str] = {name: _TYPES[Path(name).suffix] for name in _FILES}
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
