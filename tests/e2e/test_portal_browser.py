"""The merchant portal in a real browser (Debian's Chromium, driven by Playwright) against
the local stack: sign-in by link (once only) and by key, the language switch remembered,
hostile text shown as text, and no WCAG 2.1 A/AA violation found by axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.stack import Deployment
from tests.e2e.conftest import (
    AXE,
    HOSTILE,
    Api,
    axe_violations,
    carrier_event,
    portal_link,
    portal_url,
    subscribe,
    wait_for_attempts,
)


def test_a_link_signs_in_once_and_leaves_the_address_bar(
    stack: Deployment, merchant: Api, page: Page, browser: Browser
) -> None:
    token = portal_link(merchant)
    page.goto(f"{portal_url(stack)}#link={token}")
    expect(page.get_by_role("heading", name="Assinaturas")).to_be_visible()
    assert "link=" not in page.url
    expect(page.get_by_text(f"Loja: {merchant.owner_id}")).to_be_visible()
    # The same link in another browser: used up.
    other = browser.new_context().new_page()
    other.goto(f"{portal_url(stack)}#link={token}")
    expect(other.get_by_role("alert")).to_have_text(
        "Este link de acesso já foi usado ou expirou. Peça um novo link."
    )
    expect(other.get_by_role("heading", name="Entrar")).to_be_visible()
    other.context.close()


def test_a_merchant_key_signs_in_and_the_english_switch_is_remembered(
    stack: Deployment, merchant: Api, page: Page
) -> None:
    page.goto(portal_url(stack))
    page.get_by_label("Chave de lojista").fill(merchant.key)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Assinaturas")).to_be_visible()
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()
    page.reload()  # the session is the cookie's, the language the browser's choice
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"


def test_hostile_text_from_the_api_is_shown_as_text_and_runs_nothing(
    stack: Deployment, merchant: Api, page: Page
) -> None:
    created = merchant.call(
        "POST",
        "/v1/subscriptions",
        {"url": "http://127.0.0.1:9/hooks", "event_types": ["*"], "description": HOSTILE},
    )
    assert created.status_code == 201, created.text
    page.goto(f"{portal_url(stack)}#link={portal_link(merchant)}")
    expect(page.get_by_role("cell", name=HOSTILE)).to_be_visible()
    assert page.evaluate("window.__hostile") is None
    assert page.locator("img").count() == 0


@pytest.mark.parametrize("screen", ["sign-in", "subscriptions", "deliveries"])
def test_axe_finds_no_wcag_a_or_aa_violation(
    stack: Deployment, merchant: Api, browser: Browser, screen: str
) -> None:
    # axe is injected into the page, which the page's own policy would refuse.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    if screen == "sign-in":
        page.goto(portal_url(stack))
        heading = "Entrar"
    else:
        url = "http://127.0.0.1:9/hooks"
        subscribe(merchant, url, ["*"])
        page.goto(f"{portal_url(stack)}#link={portal_link(merchant)}")
        heading = "Assinaturas"
        if screen == "deliveries":
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            page.get_by_role("button", name=f"Ver entregas de {url}").click()
            heading = "Entregas"
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert axe_violations(page) == []
    context.close()


def test_the_page_is_usable_at_360_pixels(
    stack: Deployment, merchant: Api, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{portal_url(stack)}#link={portal_link(merchant)}")
    expect(page.get_by_role("heading", name="Assinaturas")).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_axe_is_installed_by_make_not_fetched() -> None:
    assert Path(AXE).is_file()


def test_a_failed_delivery_is_seen_with_its_answer_as_text_and_retried_from_the_page(
    stack: Deployment,
    carrier: Api,
    merchant: Api,
    receiver_factory: Any,
    page: Page,
) -> None:
    # Four failures (the local schedule's attempts), each answering hostile HTML; then 204.
    receiver = receiver_factory(statuses=[500, 500, 500, 500, 204], response_body=HOSTILE.encode())
    subscription = subscribe(merchant, receiver.url, ["shipment.delivered"])
    accepted = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    assert accepted.status_code == 202, accepted.text
    wait_for_attempts(merchant, subscription["id"], outcome="exhausted")
    page.goto(f"{portal_url(stack)}#link={portal_link(merchant)}")
    page.get_by_role("button", name=f"Ver entregas de {receiver.url}").click()
    expect(page.get_by_role("heading", name="Entregas", exact=True)).to_be_visible()
    expect(
        page.get_by_text("Falhou, tentativas esgotadas — Tentativa 4 · HTTP 500")
    ).to_be_visible()
    expect(page.get_by_role("cell", name=HOSTILE).first).to_be_visible()
    assert page.evaluate("window.__hostile") is None and page.locator("img").count() == 0
    page.get_by_role("button", name="Reenviar a entrega de shipment.delivered").first.click()
    expect(page.get_by_role("status")).to_have_text(
        "Reenvio enfileirado. Atualize a lista em alguns segundos."
    )
    receiver.wait_for(5, 30)  # the retry reached the endpoint, which answered 204
    wait_for_attempts(merchant, subscription["id"], outcome="success")
    page.get_by_role("button", name="Atualizar").click()
    expect(page.get_by_text("Entregue — Tentativa 5 · HTTP 204")).to_be_visible()
