"""The real stack on MiniStack, deployed from template.yaml once per test session."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.mail import Mailbox
from devstack.stack import ROOT, Deployment, issue_key, running_stack
from parcelhooks.core.api_keys import Role, Vocabulary
from parcelhooks.ingest.tracking_codes import s10_check_digit
from tests.e2e.schemathesis_runs import Run, start_run


@pytest.fixture(scope="session")
def stack() -> Iterator[Deployment]:
    with running_stack(ROOT / ".parcelhooks" / "integration", "parcelhooks-it") as deployment:
        yield deployment


@pytest.fixture(scope="session")
def mailbox(stack: Deployment) -> Mailbox:
    """The mail the stack's functions sent through SES, as MiniStack relayed it (the whole
    session's: find a test's own by a unique recipient or subject with `wait_for`)."""
    assert stack.mail_dir is not None, "running_stack starts a mail receiver"
    return Mailbox(stack.mail_dir)


class Api:
    def __init__(self, deployment: Deployment, key: str, owner_id: str) -> None:
        self.base = deployment.api_url
        self.key = key
        self.owner_id = owner_id
        self.session = requests.Session()

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        headers = {"authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        return self.session.request(
            method, self.base + path, json=json, headers=headers, timeout=30, **kwargs
        )


@pytest.fixture(scope="session")
def carrier(stack: Deployment) -> Api:
    # A Correios carrier: the tests send its codes (events/carrier/ samples too).
    key = issue_key(stack, Role.CARRIER, "it-carrier", vocabulary=Vocabulary.CORREIOS)
    return Api(stack, key, "it-carrier")


SCHEMATHESIS_MODULE = "test_schemathesis.py"
CHAOS_MODULE = "test_chaos.py"
# The schemathesis tests near the end: they only wait for the runs started with the session.
# The chaos run after them, alone on the stack: it kills workers and floods the queues, and
# nothing else's timeouts should share a machine that busy with it.
_LAST = {SCHEMATHESIS_MODULE: 1, CHAOS_MODULE: 2}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: _LAST.get(item.path.name, 0))


@pytest.fixture(scope="session", autouse=True)
def schemathesis_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    """Both schemathesis runs (carrier and merchant routes), started once the stack is up
    and left to run beside every other test of the tier (they use keys and merchants of
    their own), so the tier waits for the longer of them and the rest, not their sum. Only
    when the session has a schemathesis test to read them."""
    if not any(item.path.name == SCHEMATHESIS_MODULE for item in request.session.items):
        yield {}
        return
    stack: Deployment = request.getfixturevalue("stack")
    carrier: Api = request.getfixturevalue("carrier")
    merchant_key = issue_key(stack, Role.MERCHANT, f"it-merchant-{uuid.uuid4().hex[:8]}")
    started = {
        "carrier": start_run(
            stack,
            carrier.key,
            ["--include-path", "/v1/events"],
            "examples,coverage,fuzzing",
            tmp_path_factory.mktemp("carrier"),
        ),
        # stateful too: the links from a created subscription reach every operation on it
        "merchant": start_run(
            stack,
            merchant_key,
            ["--exclude-path", "/v1/events"],
            "examples,coverage,fuzzing,stateful",
            tmp_path_factory.mktemp("merchant"),
        ),
    }
    yield started
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


@pytest.fixture
def merchant(stack: Deployment) -> Api:
    """A fresh merchant per test, so tests never see each other's subscriptions."""
    owner = f"it-merchant-{uuid.uuid4().hex[:8]}"
    return Api(stack, issue_key(stack, Role.MERCHANT, owner), owner)


@pytest.fixture
def other_merchant(stack: Deployment) -> Api:
    """A second fresh merchant, for what one merchant must not reach of another's."""
    owner = f"it-merchant-b-{uuid.uuid4().hex[:8]}"
    return Api(stack, issue_key(stack, Role.MERCHANT, owner), owner)


def subscribe(merchant: Api, url: str, event_types: list[str]) -> dict[str, Any]:
    response = merchant.call("POST", "/v1/subscriptions", {"url": url, "event_types": event_types})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def s10_code() -> str:
    """A fresh Correios (UPU S10) tracking code with its right check digit."""
    serial = f"{uuid.uuid4().int % 10**8:08d}"
    return f"QB{serial}{s10_check_digit(serial)}BR"


def carrier_event(merchant_id: str, **overrides: Any) -> dict[str, Any]:
    event = {
        "carrier_event_id": f"it-{uuid.uuid4().hex}",
        "merchant_id": merchant_id,
        "tracking_code": "QB123456785BR",
        "status": "delivered",
        # Relative: ingest refuses times more than a year old or a day ahead.
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "description": "Objeto entregue ao destinatário",
        "order_id": "order-1001",
    }
    event.update(overrides)
    return event


ATTEMPTS_TIMEOUT_S = 30


def wait_for_attempts(
    merchant: Api, subscription_id: str, count: int = 1, **query: str
) -> list[dict[str, Any]]:
    """The subscription's delivery log once it lists `count` attempts (with `query`'s
    filters), waiting up to ATTEMPTS_TIMEOUT_S."""
    deadline = time.monotonic() + ATTEMPTS_TIMEOUT_S
    path = f"/v1/subscriptions/{subscription_id}/deliveries"
    while time.monotonic() < deadline:
        page = merchant.call("GET", path, params=query).json()
        if len(page["data"]) >= count:
            return list(page["data"])
        time.sleep(0.2)
    raise AssertionError(
        f"fewer than {count} {query or ''} attempts listed for {subscription_id} "
        f"within {ATTEMPTS_TIMEOUT_S}s"
    )


# ---- the merchant portal in a real browser ---------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / ".venvs" / "node" / "node_modules" / "axe-core" / "axe.min.js"
# The machine's network is closed: Chromium's own background calls are turned off.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = '<img src=x onerror="window.__hostile = 1">'
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The page's answers come from Lambda workers that share two cores with the rest of the tier
# (the schemathesis runs included): more than Playwright's default 5 s to show.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile; the test fails if the page's own code threw."""
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], errors


def portal_link(merchant: Api) -> str:
    made = merchant.call("POST", "/v1/portal/links", {"ttl_s": 600})
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def portal_url(stack: Deployment) -> str:
    return f"{stack.api_url}/portal/"


def sign_in(page: Page, stack: Deployment, merchant: Api) -> None:
    """Opens a fresh portal link, as a merchant who only has the link would."""
    page.goto(f"{portal_url(stack)}#link={portal_link(merchant)}")
    expect(page.get_by_role("heading", name="Assinaturas")).to_be_visible()


def axe_violations(page: Page) -> list[tuple[str, str, int]]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it stands (the page
    must be opened with bypass_csp: the page's own policy refuses an injected script)."""
    page.add_script_tag(path=str(AXE))
    results: dict[str, Any] = page.evaluate(
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {WCAG_A_AA!r}}}}})"
    )
    return [(v["id"], v["help"], len(v["nodes"])) for v in results["violations"]]
