"""The merchant portal's delivery screens in a real browser against the local stack: the log
filtered by tracking code and outcome, held deliveries shown and recovered after the
subscription is enabled again, a test event sent from the list, a shipment's timeline with
the buyer's sentences in Portuguese and in English, and axe-core on each screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Browser, Page, expect

from devstack.stack import Deployment
from tests.e2e.conftest import (
    Api,
    axe_violations,
    carrier_event,
    s10_code,
    sign_in,
    subscribe,
    wait_for_attempts,
)


def _code() -> str:
    return s10_code()


def test_the_log_is_filtered_by_tracking_code_and_outcome(
    stack: Deployment, carrier: Api, merchant: Api, receiver_factory: Any, page: Page
) -> None:
    receiver = receiver_factory(statuses=[204])
    subscription = subscribe(merchant, receiver.url, ["*"])
    codes = [_code(), _code()]
    for code in codes:
        event = carrier_event(merchant.owner_id, tracking_code=code)
        accepted = carrier.call("POST", "/v1/events", event)
        assert accepted.status_code == 202, accepted.text
    wait_for_attempts(merchant, subscription["id"], count=2)
    sign_in(page, stack, merchant)
    page.get_by_role("button", name=f"Ver entregas de {receiver.url}").click()
    rows = page.locator("#delivery-rows tr")
    expect(rows).to_have_count(2)
    page.locator("#deliveries").get_by_label("Código de rastreio").fill(codes[1])
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("button", name="Detalhes").click()
    expect(page.locator("#delivery")).to_contain_text(codes[1])
    page.get_by_role("button", name="Voltar às entregas").click()
    # Back from a delivery, the log is as it was left: filtered.
    expect(page.locator("#deliveries").get_by_label("Código de rastreio")).to_have_value(codes[1])
    expect(rows).to_have_count(1)
    page.locator("#deliveries").get_by_label("Código de rastreio").fill("")
    page.get_by_label("Resultado", exact=True).select_option("failure")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.get_by_text("Nenhuma entrega ainda.")).to_be_visible()


def test_held_deliveries_are_shown_and_recovered_once_the_subscription_is_enabled(
    stack: Deployment, carrier: Api, merchant: Api, receiver_factory: Any, page: Page
) -> None:
    receiver = receiver_factory(statuses=[204])
    subscription = subscribe(merchant, receiver.url, ["shipment.delivered"])
    paused = merchant.call("PATCH", f"/v1/subscriptions/{subscription['id']}", {"enabled": False})
    assert paused.status_code == 200, paused.text
    accepted = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    assert accepted.status_code == 202, accepted.text
    wait_for_attempts(merchant, subscription["id"], outcome="held")
    sign_in(page, stack, merchant)
    row = page.get_by_role("row").filter(has_text=receiver.url)
    expect(row.get_by_text("Desativada")).to_be_visible()
    expect(row.get_by_text("1 retida(s) · 0 na fila")).to_be_visible()

    row.get_by_role("button", name=f"Editar {receiver.url}").click()
    page.get_by_label("Ativa (desmarque para pausar as entregas)").check()
    page.get_by_role("button", name="Salvar").click()
    row = page.get_by_role("row").filter(has_text=receiver.url)
    expect(row.get_by_text("Funcionando")).to_be_visible()
    row.get_by_role("button", name=f"Ver entregas de {receiver.url}").click()
    expect(page.get_by_text("1 entrega(s) retida(s)")).to_be_visible()
    expect(page.get_by_text("Retido (assinatura desativada) — Tentativa 1")).to_be_visible()
    page.get_by_role("button", name="Recuperar").click()  # since a day ago, by default
    expect(page.get_by_role("status")).to_have_text("1 entrega(s) reenviada(s), 1 delas retida(s).")
    receiver.wait_for(1, 30)
    wait_for_attempts(merchant, subscription["id"], outcome="success")
    page.get_by_role("button", name="Atualizar").click()
    expect(page.get_by_text("Entregue — Tentativa 1 · HTTP 204")).to_be_visible()


def test_a_test_event_is_sent_from_the_list(
    stack: Deployment, merchant: Api, receiver_factory: Any, page: Page
) -> None:
    receiver = receiver_factory(statuses=[204])
    subscribe(merchant, receiver.url, ["*"])
    sign_in(page, stack, merchant)
    page.get_by_role("button", name=f"Enviar teste para {receiver.url}").click()
    expect(page.get_by_role("status")).to_have_text(
        "Evento de teste enfileirado. Veja-o nas entregas em alguns segundos."
    )
    assert b'"webhook.test"' in receiver.wait_for(1, 30)[0].body


def test_a_shipments_timeline_tells_each_event_in_the_chosen_language(
    stack: Deployment, carrier: Api, merchant: Api, browser: Browser
) -> None:
    code = _code()
    for status, hours in (("posted", 30), ("out_for_delivery", 3), ("delivered", 1)):
        when = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
        event = carrier_event(
            merchant.owner_id,
            tracking_code=code,
            status=status,
            order_id="A-1001",
            occurred_at=when,
        )
        accepted = carrier.call("POST", "/v1/events", event)
        assert accepted.status_code == 202, accepted.text
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(page, stack, merchant)
    page.get_by_role("button", name="Rastrear encomenda").click()
    page.locator("#shipment").get_by_label("Código de rastreio").fill(code)
    page.get_by_role("button", name="Ver linha do tempo").click()
    timeline = page.locator("#shipment-output")
    expect(timeline).to_contain_text("Situação atual: Entregue")
    expect(timeline.locator("li")).to_have_count(3)
    expect(timeline).to_contain_text("Seu pedido A-1001 foi entregue.")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Switch to English").click()
    expect(timeline).to_contain_text("Current status: Delivered")
    expect(timeline).to_contain_text("Your order A-1001 has been delivered.")
    context.close()


def test_axe_finds_no_violation_in_a_filtered_log_and_a_delivery_in_detail(
    stack: Deployment, carrier: Api, merchant: Api, receiver_factory: Any, browser: Browser
) -> None:
    receiver = receiver_factory(statuses=[500, 204], response_body=b"<b>erro</b>")
    subscription = subscribe(merchant, receiver.url, ["shipment.delivered"])
    accepted = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    assert accepted.status_code == 202, accepted.text
    wait_for_attempts(merchant, subscription["id"])
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(page, stack, merchant)
    page.get_by_role("button", name=f"Ver entregas de {receiver.url}").click()
    page.get_by_label("Resultado", exact=True).select_option("failure")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator("#delivery-rows tr")).to_have_count(1)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Detalhes").first.click()
    expect(page.get_by_role("heading", name="Tentativas")).to_be_visible()
    assert axe_violations(page) == []
    context.close()
