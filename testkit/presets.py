"""Presets as a merchant uses them: every `<MARKER>` filled in, and, for the tests, the
target's origin swapped for a loopback receiver's."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from parcelhooks.merchant_api.presets import Preset

MARKER = re.compile(r"<[A-Z][A-Z0-9_]*>")


def markers(value: Any) -> set[str]:
    return set(MARKER.findall(json.dumps(value)))


def filled(preset: Preset, values: dict[str, str] | None = None) -> dict[str, Any]:
    """The preset's subscription body with each marker replaced (by its example unless
    `values` says otherwise)."""
    text = json.dumps(preset.subscription)
    for placeholder in preset.fill:
        value = (values or {}).get(placeholder.name, placeholder.example)
        text = text.replace(placeholder.name, json.dumps(value)[1:-1])
    body: dict[str, Any] = json.loads(text)
    return body


def pointed_at(body: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The same body with its URL's scheme, host and port those of `base_url` (a receiver),
    its path kept after the receiver's own path."""
    url = body.get("url")
    if not url:
        return body
    target = urlsplit(url)
    base = base_url.rstrip("/")
    rest = url[len(f"{target.scheme}://{target.netloc}") :]
    return {**body, "url": base + rest}
