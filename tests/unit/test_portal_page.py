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
from parcelhooks.merchant_api.models import EndpointHealthOut, EventTypeFilter
from parcelhooks.merchant_api.presets import PRESETS

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


def _scripts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(PORTAL_DIR.glob("*.js"))}


def test_every_key_the_page_and_its_scripts_use_is_in_the_catalogs() -> None:
    prefixes = {key.split(".")[0] for key in _catalog("pt-BR.json")}
    pattern = rf"""["']((?:{"|".join(sorted(prefixes))})\.[a-z_]+)["']"""
    used = set(_page().keys)
    for script in _scripts().values():
        used |= set(re.findall(pattern, script))
    assert len(used) > 150  # the pattern finds the keys
    for name in CATALOGS:
        assert used <= set(_catalog(name)), name


def test_the_event_types_the_editor_offers_are_exactly_those_the_api_takes() -> None:
    for name in CATALOGS:
        catalog = _catalog(name)
        for prefix in ("event_type.", "event_meaning."):
            offered = {key.removeprefix(prefix) for key in catalog if key.startswith(prefix)}
            assert offered == set(get_args(EventTypeFilter)), (name, prefix)


def test_every_preset_and_every_marker_has_a_name_in_both_catalogs() -> None:
    for name in CATALOGS:
        catalog = _catalog(name)
        for preset in PRESETS:
            assert f"preset.{preset.id}" in catalog, (name, preset.id)
            for marker in preset.fill:
                assert f"marker.{marker.name.strip('<>')}" in catalog, (name, marker.name)


def test_every_health_state_has_a_badge_text_in_both_catalogs() -> None:
    states = get_args(EndpointHealthOut.model_fields["state"].annotation)
    for name in CATALOGS:
        assert {f"health.{s}" for s in states} <= set(_catalog(name)), name


def test_every_outcome_of_the_delivery_log_has_a_text_in_both_catalogs() -> None:
    outcomes = get_args(AttemptOut.model_fields["outcome"].annotation)
    for name in CATALOGS:
        assert {f"outcome.{o}" for o in outcomes} <= set(_catalog(name)), name


def test_the_page_has_no_inline_script_style_or_handler() -> None:
    assert _page().inline == []


@pytest.mark.parametrize("script", sorted(_scripts()))
def test_no_script_ever_writes_html_or_keeps_the_session(script: str) -> None:
    text = _scripts()[script]
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in text
    # The only thing the browser keeps is the language.
    assert "sessionStorage" not in text and "document.cookie" not in text
    assert "localStorage" not in text or script == "i18n.js"


@pytest.mark.parametrize(
    "directive", ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"]
)
def test_the_policy_allows_nothing_but_the_page_itself(directive: str) -> None:
    assert directive in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_every_served_file_exists_and_every_file_is_served() -> None:
    assert all((PORTAL_DIR / name).is_file() for name in ASSETS)
    assert {p.name for p in PORTAL_DIR.iterdir()} == set(ASSETS)


# A button's accessible name (its aria-label) holds its visible text (WCAG 2.5.3).
NAMED_BUTTONS = [
    ("subscriptions.deliveries", "subscriptions.deliveries_of"),
    ("subscriptions.edit", "subscriptions.edit_of"),
    ("subscriptions.test", "subscriptions.test_of"),
    ("deliveries.retry", "deliveries.retry_label"),
    ("deliveries.detail", "deliveries.detail_label"),
    ("editor.header_remove", "editor.header_remove_label"),
    ("secret.copy_code", "secret.copy_code_of"),
    ("app.language", "app.language_label"),
]


@pytest.mark.parametrize("catalog", CATALOGS)
def test_each_buttons_spoken_name_holds_its_visible_text(catalog: str) -> None:
    texts = _catalog(catalog)
    for visible, spoken in NAMED_BUTTONS:
        assert texts[visible].lower() in texts[spoken].lower(), (visible, spoken)
