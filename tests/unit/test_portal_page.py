"""The portal page's texts come only from its two message catalogs, which have the same keys;
the page has no inline script or style, and is served with a strict CSP."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import get_args

import pytest

from parcelhooks.api.portal_assets import ASSETS, CONTENT_SECURITY_POLICY, PORTAL_DIR
from parcelhooks.merchant_api.deliveries import AttemptOut

CATALOGS = ("pt-BR.json", "en.json")


def _catalog(name: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((PORTAL_DIR / name).read_text(encoding="utf-8"))
    return loaded


class _Page(HTMLParser):
    """What the page says of itself: text outside tags, its keys, and inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.keys: set[str] = set()
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for attribute in ("data-i18n", "data-i18n-aria"):
            if named.get(attribute):
                self.keys.add(str(named[attribute]))
        if tag == "script" and not named.get("src"):
            self.inline.append("script")
        if tag == "style" or "style" in named or any(a.startswith("on") for a in named):
            self.inline.append(tag)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def _page() -> _Page:
    page = _Page()
    page.feed((PORTAL_DIR / "index.html").read_text(encoding="utf-8"))
    return page


def test_both_catalogs_have_the_same_keys_and_no_empty_text() -> None:
    pt, en = (_catalog(name) for name in CATALOGS)
    assert set(pt) == set(en)
    assert all(value.strip() for value in (*pt.values(), *en.values()))


def test_both_catalogs_name_the_same_placeholders_in_each_text() -> None:
    pt, en = (_catalog(name) for name in CATALOGS)
    for key in pt:
        assert set(re.findall(r"\{(\w+)\}", pt[key])) == set(re.findall(r"\{(\w+)\}", en[key]))


def test_the_page_writes_no_text_of_its_own() -> None:
    assert _page().text == []


def test_every_key_the_page_and_its_script_use_is_in_the_catalogs() -> None:
    script = (PORTAL_DIR / "app.js").read_text(encoding="utf-8")
    used = _page().keys | set(
        re.findall(r"""["']((?:app|signin|subscriptions|deliveries)\.[a-z_]+)["']""", script)
    )
    for name in CATALOGS:
        assert used <= set(_catalog(name)), name


def test_every_outcome_of_the_delivery_log_has_a_text_in_both_catalogs() -> None:
    outcomes = get_args(AttemptOut.model_fields["outcome"].annotation)
    for name in CATALOGS:
        assert {f"outcome.{o}" for o in outcomes} <= set(_catalog(name)), name


def test_the_page_has_no_inline_script_style_or_handler() -> None:
    assert _page().inline == []


def test_the_script_never_writes_html() -> None:
    script = (PORTAL_DIR / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


@pytest.mark.parametrize(
    "directive", ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"]
)
def test_the_policy_allows_nothing_but_the_page_itself(directive: str) -> None:
    assert directive in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_every_served_file_exists() -> None:
    assert all((PORTAL_DIR / name).is_file() for name in ASSETS)
