"""`make screenshots`: the merchant portal's pictures in docs/portal/, taken from the stack
`make run` keeps running: the subscription list, the editor with its live preview and a
delivery log, at desktop width and at 360 px, in Portuguese and in English.

It makes what it shows through the merchant API, as a shop would: a WhatsApp subscription
from its preset and an e-mail one (both pointed at the open receiver `make run` starts), a
carrier event each receives, and one delivery to an address where nothing listens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from playwright.sync_api import Page, expect, sync_playwright

from devstack.stack import ROOT

LOCAL_JSON = ROOT / ".parcelhooks" / "local.json"
OUT = ROOT / "docs" / "portal"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": {"width": 1280, "height": 860}, "360px": {"width": 360, "height": 780}}
LANGUAGES = {"pt-BR": "Portuguese", "en": "English"}


def new_merchant_key(merchant_id: str) -> str:
    """A key for a merchant of its own, so each run pictures only what it made."""
    made = subprocess.run(
        [
            *(sys.executable, "-m", "parcelhooks_cli.main", "--local", "--json", "keys"),
            *("create", "--role", "merchant", "--owner", merchant_id),
            *("--description", "screenshots"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    key: str = json.loads(made.stdout)["key"]
    return key


class Merchant:
    def __init__(self, settings: dict[str, Any]) -> None:
        self.merchant_id = f"loja-exemplo-{uuid.uuid4().hex[:6]}"
        self.base = settings["api_url"]
        self.headers = {"authorization": f"Bearer {new_merchant_key(self.merchant_id)}"}
        self.carrier = {"authorization": f"Bearer {settings['carrier_key']}"}
        self.open_receiver = settings["open_receiver_url"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = requests.request(
            method, self.base + path, json=body, headers=self.headers, timeout=30
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def link(self) -> str:
        return f"{self.base}/portal/#link={self.call('POST', '/v1/portal/links', {})['token']}"

    def event(self, **fields: Any) -> None:
        body = {
            "carrier_event_id": f"shot-{uuid.uuid4().hex}",
            "merchant_id": self.merchant_id,
            "tracking_code": "QB123456785BR",
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "order_id": "A-1001",
            "location": {"city": "Recife", "state": "PE", "country": "BR"},
            "metadata": {"buyer_name": "Maria", "buyer_phone": "+55 81 98765-4321"},
            **fields,
        }
        answer = requests.post(
            f"{self.base}/v1/events", json=body, headers=self.carrier, timeout=30
        )
        answer.raise_for_status()


def _preset(merchant: Merchant, preset_id: str) -> dict[str, Any]:
    presets = merchant.call("GET", "/v1/presets")["data"]
    chosen: dict[str, Any] = next(p for p in presets if p["id"] == preset_id)["subscription"]
    return chosen


def seed(merchant: Merchant) -> str:
    """The subscriptions the pictures show; the URL of the one whose log is pictured (an
    ERP that is down: its deliveries fail and wait for their retries)."""
    whatsapp = json.loads(
        json.dumps(_preset(merchant, "whatsapp-cloud-action-required"))
        .replace("<GRAPH_API_VERSION>", "v23.0")
        .replace("<PHONE_NUMBER_ID>", "106540352242922")
        .replace("<WHATSAPP_ACCESS_TOKEN>", "EAAG-example")
        .replace("<WHATSAPP_TEMPLATE_NAME>", "pedido_atualizado")
    )
    whatsapp["url"] = f"{merchant.open_receiver}v23.0/106540352242922/messages"
    whatsapp["event_types"] = ["*"]
    created = merchant.call("POST", "/v1/subscriptions", whatsapp)
    email = json.loads(
        json.dumps(_preset(merchant, "email-delivered-thank-you")).replace(
            "<STORE_NAME>", "Loja da Ana"
        )
    )
    email["email"]["to"] = "maria@example.com"
    merchant.call("POST", "/v1/subscriptions", email)
    erp = merchant.call(
        "POST",
        "/v1/subscriptions",
        {
            "url": "http://127.0.0.1:9/erp/pedidos",
            "event_types": ["*"],
            "description": "ERP (fora do ar)",
        },
    )
    merchant.event(status="available_for_pickup", status_detail="post_office")
    merchant.event(status="delivered")
    _wait_for_log(merchant, created["id"])
    _wait_for_log(merchant, erp["id"])
    return str(erp["url"])


def _wait_for_log(merchant: Merchant, subscription_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log = merchant.call("GET", f"/v1/subscriptions/{subscription_id}/deliveries")
        if log["data"]:
            return
        time.sleep(0.5)
    raise SystemExit("no delivery logged within 60 s: is `make run` running?")


def _shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.wait_for_timeout(300)  # the last paint after the text settled
    page.screenshot(path=OUT / f"{name}.png", full_page=full_page)
    print(f"docs/portal/{name}.png")


def pictures(merchant: Merchant, url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for size, viewport in SIZES.items():
            for language in LANGUAGES:
                # The browser's own locale too: it writes the date fields' formats.
                context = browser.new_context(viewport=viewport, locale=language)  # type: ignore[arg-type]
                page = context.new_page()
                # The language first (the browser remembers it), then the link signs in.
                page.goto(f"{merchant.base}/portal/")
                page.evaluate(f"localStorage.setItem('parcelhooks.language', '{language}')")
                page.goto("about:blank")  # else the link below is only a new fragment
                page.goto(merchant.link())
                page.locator("#subscription-rows tr").first.wait_for()
                expect(page.locator(".badge").first).to_be_visible()
                _shoot(page, f"subscriptions-{language}-{size}")
                page.locator("#new-subscription").click()
                page.locator("#preset").select_option("zapi-status-updates")
                page.locator("#use-preset").click()
                page.locator("#url").fill(f"{merchant.open_receiver}instances/1/send-text")
                expect(page.locator("#preview-output pre")).to_be_visible(timeout=15_000)
                # The form beside its preview; on a phone the preview comes after the form.
                shown = "#preview" if size == "360px" else ".editor-grid"
                page.locator(shown).evaluate("element => element.scrollIntoView()")
                _shoot(page, f"editor-{language}-{size}", full_page=False)
                page.locator("#editor-cancel").click()
                page.locator("#subscription-rows tr").filter(has_text=url).locator(
                    "button"
                ).first.click()
                page.locator("#delivery-rows tr").first.wait_for()
                _shoot(page, f"deliveries-{language}-{size}")
                context.close()
        browser.close()


def main() -> int:
    if not LOCAL_JSON.is_file():
        print("start the stack first: make run (in another terminal)", file=sys.stderr)
        return 1
    merchant = Merchant(json.loads(LOCAL_JSON.read_text()))
    pictures(merchant, seed(merchant))
    return 0


if __name__ == "__main__":
    sys.exit(main())
