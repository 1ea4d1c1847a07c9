"""PATCH, rotation, limits and masking through the admin handler (moto behind it)."""

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from parcelhooks.delivery.signing import webhook_headers
from parcelhooks.wiring import admin as admin_wiring
from testkit.factories import LambdaContextStub, api_event, load_function

pytestmark = pytest.mark.usefixtures("moto_stack")

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["shipment.delivered"]}


def _call(
    method: str, path: str, body: Any = None, merchant: str = "merchant-a"
) -> tuple[int, Any]:
    app = load_function("admin")
    event = api_event(method, path, body, role="merchant", owner_id=merchant)
    response = app.handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def _create(**overrides: Any) -> dict[str, Any]:
    status, created = _call("POST", "/v1/subscriptions", {**NEW, **overrides})
    assert status == 201, created
    return created


def test_patch_changes_only_what_is_sent() -> None:
    created = _create(description="ERP")
    status, patched = _call(
        "PATCH", f"/v1/subscriptions/{created['id']}", {"event_types": ["*", "shipment.posted"]}
    )
    assert status == 200
    assert patched["event_types"] == ["*", "shipment.posted"]
    assert (patched["url"], patched["description"]) == (NEW["url"], "ERP")
    assert patched["updated_at"]


def test_patch_can_clear_the_description_and_change_the_url() -> None:
    created = _create(description="ERP")
    status, patched = _call(
        "PATCH",
        f"/v1/subscriptions/{created['id']}",
        {"description": None, "url": "https://hooks.example.com/new"},
    )
    assert status == 200 and patched["description"] is None
    assert patched["url"] == "https://hooks.example.com/new"


def test_patch_checks_a_new_url_with_the_guard() -> None:
    created = _create()
    status, body = _call(
        "PATCH", f"/v1/subscriptions/{created['id']}", {"url": "https://internal.example.com/h"}
    )
    assert status == 400 and body["error"]["details"][0]["loc"] == "url"
    assert _call("GET", f"/v1/subscriptions/{created['id']}")[1]["url"] == NEW["url"]


@pytest.mark.parametrize(
    "patch", [{}, {"enabled": "maybe"}, {"event_types": []}, {"secret": "whsec_x"}]
)
def test_an_invalid_patch_is_a_400(patch: dict[str, Any]) -> None:
    created = _create()
    assert _call("PATCH", f"/v1/subscriptions/{created['id']}", patch)[0] == 400


def test_disabling_and_re_enabling_records_why_and_clears_it() -> None:
    created = _create()
    _, disabled = _call("PATCH", f"/v1/subscriptions/{created['id']}", {"enabled": False})
    assert disabled["enabled"] is False
    assert disabled["disabled_reason"] == "disabled by the merchant" and disabled["disabled_at"]
    _, enabled = _call("PATCH", f"/v1/subscriptions/{created['id']}", {"enabled": True})
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is None and enabled["disabled_at"] is None


def test_the_limit_per_merchant_is_a_clear_409(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_SUBSCRIPTIONS_PER_MERCHANT", "2")
    admin_wiring.settings.cache_clear()
    admin_wiring.subscriptions.cache_clear()
    _create()
    _create()
    status, body = _call("POST", "/v1/subscriptions", NEW)
    assert status == 409 and body["error"]["code"] == "limit_reached"
    assert "at most 2" in body["error"]["message"]
    assert _call("POST", "/v1/subscriptions", NEW, merchant="merchant-b")[0] == 201


def test_rotation_shows_the_new_secret_once_and_both_sign_for_24_hours() -> None:
    created = _create()
    status, rotated = _call("POST", f"/v1/subscriptions/{created['id']}/rotate-secret")
    assert status == 200 and rotated["secret"] != created["secret"]
    assert rotated["secret"].startswith("whsec_") and not rotated["secret"].endswith("*")
    stored = admin_wiring.subscriptions_table().get("merchant-a", created["id"])
    assert stored is not None
    now = datetime.now(UTC)
    live = stored.live_secrets(now)
    assert live == [rotated["secret"], created["secret"]]
    body = b'{"type":"shipment.delivered"}'
    headers = webhook_headers(live, "evt_1", int(time.time()), body)
    Webhook(created["secret"]).verify(body, headers)  # a receiver still on the old secret
    Webhook(rotated["secret"]).verify(body, headers)  # and one already on the new
    assert stored.live_secrets(now + timedelta(hours=24, seconds=1)) == [rotated["secret"]]
    later = webhook_headers([rotated["secret"]], "evt_1", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(body, later)


def test_after_rotation_get_shows_the_new_secret_masked() -> None:
    created = _create()
    _, rotated = _call("POST", f"/v1/subscriptions/{created['id']}/rotate-secret")
    _, fetched = _call("GET", f"/v1/subscriptions/{created['id']}")
    assert fetched["secret"].startswith(rotated["secret"][:10]) and "*" in fetched["secret"]


ROUTES = [
    ("GET", "/v1/subscriptions/{id}", None),
    ("PATCH", "/v1/subscriptions/{id}", {"description": "mine now"}),
    ("DELETE", "/v1/subscriptions/{id}", None),
    ("POST", "/v1/subscriptions/{id}/rotate-secret", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_another_merchant_gets_404_on_every_route_and_changes_nothing(
    method: str, path: str, body: Any
) -> None:
    created = _create(description="A's")
    status, answer = _call(method, path.format(id=created["id"]), body, merchant="merchant-b")
    assert status == 404 and answer["error"]["code"] == "not_found"
    _, still = _call("GET", f"/v1/subscriptions/{created['id']}")
    assert (
        still["description"] == "A's"
        and still["secret"] == _call("GET", f"/v1/subscriptions/{created['id']}")[1]["secret"]
    )
    assert _call("GET", "/v1/subscriptions", merchant="merchant-b")[1]["data"] == []


def test_a_text_plain_body_is_a_415_not_a_500() -> None:
    app = load_function("admin")
    event = api_event("POST", "/v1/subscriptions", NEW, role="merchant", owner_id="merchant-a")
    event["headers"] = {"Content-Type": "text/plain"}
    response = app.handler(event, LambdaContextStub())
    assert response["statusCode"] == 415
    assert _call("GET", "/v1/subscriptions")[1]["data"] == []


@pytest.mark.parametrize("field", ["url", "event_types", "enabled"])
def test_a_null_that_would_change_nothing_is_a_400_not_a_200(field: str) -> None:
    # Class C: `{"url": null}` used to answer 200 and do nothing.
    created = _create(description="ERP")
    status, body = _call("PATCH", f"/v1/subscriptions/{created['id']}", {field: None})
    assert status == 400
    assert [d["loc"] for d in body["error"]["details"]] == [field]
    _, still = _call("GET", f"/v1/subscriptions/{created['id']}")
    assert (still["url"], still["event_types"], still["enabled"]) == (
        created["url"],
        created["event_types"],
        True,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "ERP\x00"),
        ("description", "two\nlines"),
        ("url", "https://erp.example.com/\r\nX-Injected: 1"),
        ("url", "https://erp.example.com/\x85"),
    ],
)
def test_control_characters_are_refused_in_subscription_text(field: str, value: str) -> None:
    status, body = _call("POST", "/v1/subscriptions", {**NEW, field: value})
    assert status == 400
    assert [d["loc"] for d in body["error"]["details"]] == [field]
    created = _create()
    status, _ = _call("PATCH", f"/v1/subscriptions/{created['id']}", {field: value})
    assert status == 400


def test_a_repeated_key_is_a_400_rather_than_the_last_one_winning() -> None:
    app = load_function("admin")
    raw = '{"url": "https://erp.example.com/hooks", "event_types": ["*"], "url": "https://x.example.com/"}'
    event = api_event("POST", "/v1/subscriptions", role="merchant", raw_body=raw)
    response = app.handler(event, LambdaContextStub())
    assert response["statusCode"] == 400
    error = json.loads(response["body"])["error"]
    assert error["code"] == "malformed_json"
    assert error["details"][0]["loc"] == "url"
    assert _call("GET", "/v1/subscriptions")[1]["data"] == []
