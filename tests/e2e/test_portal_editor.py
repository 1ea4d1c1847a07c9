"""The merchant portal's editor in a real browser against the local stack: a WhatsApp
subscription from its preset, previewed with its secret masked, saved, its signing secret
shown once, a carrier event's delivery seen in detail; an e-mail subscription whose mail
arrives; the API's problems at the form's fields; a secret rotated; keyboard-only use; and
merchant B's session reaching nothing of merchant A's."""

from __future__ import annotations

import json
import uuid
from typing import Any

from playwright.sync_api import Browser, Page, expect

from devstack.mail import Mailbox
from devstack.stack import Deployment
from tests.e2e.conftest import (
    Api,
    axe_violations,
    carrier_event,
    portal_url,
    s10_code,
    sign_in,
    subscribe,
    wait_for_attempts,
)

WHATSAPP = "WhatsApp (Meta Cloud API): quando o comprador precisa agir"
TOKEN = "EAAG-very-secret-token"
BUYER = {"buyer_name": "Maria", "buyer_phone": "+55 (11) 98765-4321"}


def _use_whatsapp_preset(page: Page, url: str) -> None:
    page.get_by_role("button", name="Nova assinatura").click()
    expect(page.get_by_role("heading", name="Nova assinatura")).to_be_focused()
    page.get_by_label("Modelo", exact=True).select_option(label=WHATSAPP)
    page.get_by_label("<GRAPH_API_VERSION>").fill("v23.0")
    page.get_by_label("<PHONE_NUMBER_ID>").fill("106540352242922")
    page.get_by_label("<WHATSAPP_ACCESS_TOKEN>").fill(TOKEN)
    page.get_by_label("<WHATSAPP_TEMPLATE_NAME>").fill("pedido_atualizado")
    page.get_by_role("button", name="Usar este modelo").click()
    page.get_by_label("Endereço (URL)").fill(url)


def test_a_whatsapp_preset_is_previewed_saved_and_its_delivery_seen_in_detail(
    stack: Deployment, carrier: Api, merchant: Api, receiver_factory: Any, page: Page
) -> None:
    receiver = receiver_factory(statuses=[200], response_body=b'{"messages":[{"id":"wamid.1"}]}')
    sign_in(page, stack, merchant)
    url = f"{receiver.url}/v23.0/106540352242922/messages"
    _use_whatsapp_preset(page, url)
    # The live preview: the request Meta would get, the token masked, the buyer's sentence.
    preview = page.locator("#preview")
    expect(preview).to_contain_text(f"POST {url}")
    expect(preview).to_contain_text('"name": "pedido_atualizado"')
    expect(preview.get_by_role("row", name="Authorization ********")).to_be_visible()
    assert TOKEN not in preview.inner_text()
    page.get_by_role("button", name="Salvar").click()

    # The signing secret, once, with code to verify it.
    expect(page.get_by_role("heading", name="Segredo de assinatura")).to_be_focused()
    secret = page.locator("#secret-value").inner_text()
    assert secret.startswith("whsec_")
    expect(page.get_by_role("heading", name="PHP")).to_be_visible()
    expect(page.get_by_text("pip install standardwebhooks")).to_be_visible()
    page.get_by_role("button", name="Já guardei, continuar").click()
    row = page.get_by_role("row").filter(has_text=url)
    expect(row.get_by_text("Funcionando")).to_be_visible()
    assert page.locator("#secret-value").inner_text() == ""

    # A carrier event the preset's filter takes: the buyer must collect the parcel.
    event = carrier_event(
        merchant.owner_id,
        status="available_for_pickup",
        status_detail="post_office",
        metadata=BUYER,
        tracking_code=s10_code(),
    )
    accepted = carrier.call("POST", "/v1/events", event)
    assert accepted.status_code == 202, accepted.text
    sent = json.loads(receiver.wait_for(1, 30)[0].body)
    assert sent["to"] == "5511987654321" and sent["template"]["name"] == "pedido_atualizado"
    assert receiver.received[0].headers["authorization"] == f"Bearer {TOKEN}"
    subscription_id = merchant.call("GET", "/v1/subscriptions").json()["data"][0]["id"]
    wait_for_attempts(merchant, subscription_id, outcome="success")

    row.get_by_role("button", name=f"Ver entregas de {url}").click()
    expect(page.get_by_text("Entregue — Tentativa 1 · HTTP 200")).to_be_visible()
    page.get_by_role("button", name="Detalhes da entrega de shipment.available_for_pickup").click()
    expect(page.get_by_role("heading", name="Entrega", exact=True)).to_be_focused()
    detail = page.locator("#delivery")
    expect(detail).to_contain_text(f"POST {url}")
    expect(detail).to_contain_text('"wamid.1"')  # the answer's excerpt
    expect(detail).to_contain_text(event["tracking_code"])  # the event
    assert TOKEN not in detail.inner_text()


def test_an_email_subscription_from_its_preset_mails_the_buyer(
    stack: Deployment, carrier: Api, merchant: Api, mailbox: Mailbox, page: Page
) -> None:
    buyer = f"comprador-{uuid.uuid4().hex[:8]}@example.com"
    sign_in(page, stack, merchant)
    page.get_by_role("button", name="Nova assinatura").click()
    page.get_by_label("Modelo", exact=True).select_option(
        label="E-mail: agradecer o comprador na entrega"
    )
    page.get_by_label("<STORE_NAME>").fill("Loja da Ana")
    page.get_by_role("button", name="Usar este modelo").click()
    expect(page.get_by_label("E-mail", exact=True)).to_be_checked()
    expect(page.get_by_label("Endereço (URL)")).to_be_hidden()
    page.get_by_label("Para", exact=True).fill(buyer)
    expect(page.locator("#preview")).to_contain_text(f"Para: {buyer}")
    page.get_by_role("button", name="Salvar").click()
    page.get_by_role("button", name="Já guardei, continuar").click()
    expect(page.get_by_role("cell", name=f"E-mail para {buyer}", exact=True)).to_be_visible()

    accepted = carrier.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    assert accepted.status_code == 202, accepted.text
    mail = mailbox.wait_for(lambda message: message["To"] == buyer)
    assert "Loja da Ana" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_the_apis_problems_are_shown_at_their_fields_and_nothing_is_saved(
    stack: Deployment, merchant: Api, page: Page
) -> None:
    sign_in(page, stack, merchant)
    page.get_by_role("button", name="Nova assinatura").click()
    page.get_by_label("Endereço (URL)").fill("ftp://example.com/hooks")
    page.get_by_label("Filtro (opcional)").fill('{"data": ')
    page.get_by_role("button", name="Salvar").click()
    # The filter is not JSON: found in the browser, said at its field, nothing sent.
    problems = page.locator("#editor-problems")
    expect(problems).to_be_focused()
    expect(problems).to_contain_text("Filtro (opcional): Não é JSON válido")
    expect(page.get_by_label("Filtro (opcional)")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Filtro (opcional)").fill('{"data": {"status": ["delivered"]}}')
    page.get_by_role("button", name="Salvar").click()
    # The API's problem, at its field; the filter is fine now.
    expect(problems).to_contain_text("Eventos: Escolha ao menos um.")
    expect(page.locator("#event-types-field")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Filtro (opcional)")).not_to_have_attribute("aria-invalid", "true")
    # A link of the list leads to its field (a group's first choice).
    problems.get_by_role("link", name="Eventos: Escolha ao menos um.").click()
    expect(page.get_by_label("Todos os eventos de envio")).to_be_focused()

    # The events chosen, the address is refused (ftp), said at the address.
    page.get_by_label("Entregue").check()
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_label("Endereço (URL)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#event-types-field")).not_to_have_attribute("aria-invalid", "true")

    # That fixed, the template's own error is said at the template, with its line.
    page.get_by_label("Endereço (URL)").fill("http://127.0.0.1:9/hooks")
    page.get_by_label("Modelo do corpo (opcional)").fill('{"a": {{ data.status }')
    page.get_by_role("button", name="Salvar").click()
    expect(problems).to_contain_text("O modelo tem um erro: line 1")
    expect(page.get_by_label("Modelo do corpo (opcional)")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_label("Endereço (URL)")).not_to_have_attribute("aria-invalid", "true")
    assert merchant.call("GET", "/v1/subscriptions").json()["data"] == []


def test_a_secret_is_rotated_in_the_editor_and_shown_once_with_the_overlap(
    stack: Deployment, merchant: Api, page: Page
) -> None:
    created = subscribe(merchant, "http://127.0.0.1:9/hooks", ["shipment.delivered"])
    sign_in(page, stack, merchant)
    page.get_by_role("button", name="Editar http://127.0.0.1:9/hooks").click()
    expect(page.get_by_role("heading", name="Editar assinatura")).to_be_focused()
    page.get_by_role("button", name="Trocar o segredo").click()
    expect(page.get_by_role("heading", name="Segredo de assinatura")).to_be_focused()
    expect(page.get_by_text("O segredo anterior continua assinando por 24 horas")).to_be_visible()
    rotated = page.locator("#secret-value").inner_text()
    assert rotated.startswith("whsec_") and rotated != created["secret"]
    # The API shows it masked from now on.
    shown = merchant.call("GET", f"/v1/subscriptions/{created['id']}").json()["secret"]
    assert shown.endswith("********") and rotated.startswith(shown.removesuffix("********"))


def test_the_editor_saves_changes_and_deletes_after_confirmation(
    stack: Deployment, merchant: Api, page: Page
) -> None:
    created = subscribe(merchant, "http://127.0.0.1:9/hooks", ["shipment.delivered"])
    sign_in(page, stack, merchant)
    page.get_by_role("button", name="Editar http://127.0.0.1:9/hooks").click()
    page.get_by_label("Saiu para entrega").check()
    page.get_by_label("Descrição (opcional)").fill("ERP da loja")
    page.get_by_label("Ativa (desmarque para pausar as entregas)").uncheck()
    page.get_by_role("button", name="Salvar").click()
    row = page.get_by_role("row").filter(has_text="ERP da loja")
    expect(row.get_by_text("Desativada")).to_be_visible()
    saved = merchant.call("GET", f"/v1/subscriptions/{created['id']}").json()
    assert set(saved["event_types"]) == {"shipment.delivered", "shipment.out_for_delivery"}
    assert saved["enabled"] is False

    page.get_by_role("button", name="Editar http://127.0.0.1:9/hooks").click()
    page.get_by_role("button", name="Excluir assinatura").click()
    expect(page.get_by_role("button", name="Não, manter")).to_be_focused()
    page.get_by_role("button", name="Sim, excluir").click()
    expect(page.get_by_text("Você ainda não tem assinaturas.")).to_be_visible()
    assert merchant.call("GET", f"/v1/subscriptions/{created['id']}").status_code == 404


def test_the_portal_can_be_used_with_the_keyboard_alone(
    stack: Deployment, merchant: Api, page: Page
) -> None:
    subscribe(merchant, "http://127.0.0.1:9/hooks", ["shipment.delivered"])
    page.goto(portal_url(stack))
    expect(page.get_by_role("heading", name="Entrar")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Chave de lojista")).to_be_focused()
    page.keyboard.type(merchant.key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Assinaturas")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Nova assinatura")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Nova assinatura")).to_be_focused()
    # Through the form to its save button, and the problems come into focus.
    page.get_by_role("button", name="Salvar").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#editor-problems")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first problem's link: into its field
    assert page.evaluate("document.activeElement.closest('[aria-invalid=true]') !== null")


def test_merchant_bs_session_reaches_nothing_of_merchant_as(
    stack: Deployment, merchant: Api, other_merchant: Api, page: Page
) -> None:
    theirs = subscribe(merchant, "http://127.0.0.1:9/a-only", ["shipment.delivered"])
    sign_in(page, stack, other_merchant)
    expect(page.get_by_text("Você ainda não tem assinaturas.")).to_be_visible()
    # The page's own calls, with B's session and CSRF token, for A's subscription.
    status = page.evaluate(
        """async (id) => (await fetch(`api/v1/subscriptions/${id}`)).status""", theirs["id"]
    )
    assert status == 404
    assert "a-only" not in page.content()


def test_axe_finds_no_violation_in_the_editor_with_its_preview_and_problems(
    stack: Deployment, merchant: Api, browser: Browser, receiver_factory: Any
) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    receiver = receiver_factory(statuses=[200])
    sign_in(page, stack, merchant)
    _use_whatsapp_preset(page, f"{receiver.url}/messages")
    expect(page.locator("#preview")).to_contain_text("POST")
    assert axe_violations(page) == []
    # A header added and left empty: the preview waits, saying why.
    page.get_by_role("button", name="Adicionar cabeçalho").click()
    expect(page.locator("#preview")).to_contain_text("Nome: Curto demais.")
    page.get_by_label("Endereço (URL)").fill("")
    page.get_by_role("button", name="Salvar").click()
    expect(page.locator("#editor-problems")).to_be_focused()
    assert axe_violations(page) == []
    page.get_by_label("Endereço (URL)").fill(f"{receiver.url}/messages")
    page.locator("#header-1-name").fill("X-Loja")  # the header added after the preset's
    page.locator("#header-1-value").fill("1")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_role("heading", name="Segredo de assinatura")).to_be_visible()
    assert axe_violations(page) == []
    context.close()


def test_an_edit_keeps_a_secret_header_and_the_breaker_it_did_not_touch(
    stack: Deployment, merchant: Api, receiver_factory: Any, page: Page
) -> None:
    receiver = receiver_factory(statuses=[204])
    created = merchant.call(
        "POST",
        "/v1/subscriptions",
        {
            "url": receiver.url,
            "event_types": ["*"],
            "headers": [{"name": "X-Api-Key", "value": "s3cret-value", "secret": True}],
        },
    )
    assert created.status_code == 201, created.text
    sign_in(page, stack, merchant)
    page.get_by_role("button", name=f"Editar {receiver.url}").click()
    value = page.locator("#header-0-value")
    expect(value).to_have_value("")  # write-only: never shown
    expect(page.get_by_text("Valor secreto guardado.")).to_be_visible()
    # Made public with no value: refused at the field, nothing saved.
    page.locator("#header-0-secret").uncheck()
    page.get_by_role("button", name="Salvar").click()
    expect(value).to_have_attribute("aria-invalid", "true")
    page.locator("#header-0-secret").check()
    page.get_by_label("Descrição (opcional)").fill("ERP com chave")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_role("cell", name="ERP com chave")).to_be_visible()
    page.get_by_role("button", name=f"Enviar teste para {receiver.url}").click()
    # The stored secret still goes out, unchanged by the edit.
    assert receiver.wait_for(1, 30)[0].headers["x-api-key"] == "s3cret-value"
