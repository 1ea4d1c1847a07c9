"""Destinations through the admin handler, moto behind it: secret headers sealed with KMS and
never shown, injection and bad templates refused with every problem, previews, presets."""

import base64
import json
from typing import Any

import boto3
import pytest

from parcelhooks.merchant_api.presets import PRESETS
from testkit.factories import LambdaContextStub, api_event, load_function

pytestmark = pytest.mark.usefixtures("moto_stack")

SECRET = "erp-token-do-not-leak-7f3a"
ERP = {
    "url": "https://erp.example.com/orders/{{ data.order_id }}/tracking",
    "event_types": ["shipment.delivered"],
    "method": "PUT",
    "filter": {"data": {"status": ["delivered"]}},
    "headers": [{"name": "Authorization", "value": f"Bearer {SECRET}", "secret": True}],
    "template": '{"status": "{{ data.status }}", "message": "{{ message.pt_BR }}"}',
}


def _call(
    method: str, path: str, body: Any = None, merchant: str = "merchant-a"
) -> tuple[int, Any]:
    app = load_function("admin")
    event = api_event(method, path, body, role="merchant", owner_id=merchant)
    response = app.handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def _stored(moto_stack: dict[str, str]) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["SUBSCRIPTIONS_TABLE"]
    )
    items: list[dict[str, Any]] = table.scan()["Items"]
    return items


def test_a_secret_header_is_sealed_at_rest_and_shown_masked(
    moto_stack: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, created = _call("POST", "/v1/subscriptions", ERP)
    assert status == 201, created
    assert created["headers"] == [{"name": "Authorization", "value": "********", "secret": True}]
    _, read = _call("GET", f"/v1/subscriptions/{created['id']}")
    _, listed = _call("GET", "/v1/subscriptions")
    [item] = _stored(moto_stack)
    # Nowhere in plain text: not the answers, the table, or the function's log.
    for place in (json.dumps(created), json.dumps(read), json.dumps(listed), str(item)):
        assert SECRET not in place
    assert SECRET not in capsys.readouterr().out
    # Sealed with the stack's key, bound to this merchant and subscription.
    sealed = item["headers"][0]["sealed"]
    opened = boto3.client("kms", region_name="us-east-1").decrypt(
        CiphertextBlob=base64.b64decode(sealed),
        EncryptionContext={
            "parcelhooks:merchant": "merchant-a",
            "parcelhooks:subscription": created["id"],
        },
    )
    assert opened["Plaintext"].decode() == f"Bearer {SECRET}"


def test_basic_auth_becomes_a_secret_authorization_header() -> None:
    body = {
        "url": "https://erp.example.com/hooks",
        "event_types": ["*"],
        "basic_auth": {"username": "AC123", "password": "twilio-secret"},
    }
    status, created = _call("POST", "/v1/subscriptions", body)
    assert status == 201, created
    assert created["headers"] == [{"name": "Authorization", "value": "********", "secret": True}]
    assert "twilio-secret" not in json.dumps(created)


def test_a_patch_keeps_a_secret_header_sent_without_its_value() -> None:
    _, created = _call("POST", "/v1/subscriptions", ERP)
    path = f"/v1/subscriptions/{created['id']}"
    kept = {
        "headers": [{"name": "Authorization", "secret": True}, {"name": "X-Shop", "value": "1"}]
    }
    status, patched = _call("PATCH", path, kept)
    assert status == 200, patched
    assert [h["name"] for h in patched["headers"]] == ["Authorization", "X-Shop"]
    status, preview = _call("POST", f"{path}/preview", {})
    assert status == 200 and preview["request"]["headers"]["Authorization"] == "********"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ({"name": "Host", "value": "evil.example"}, "header_injection"),
        ({"name": "Content-Length", "value": "0"}, "header_injection"),
        ({"name": "Transfer-Encoding", "value": "chunked"}, "header_injection"),
        ({"name": "Connection", "value": "close"}, "header_injection"),
        ({"name": "webhook-signature", "value": "v1,forged"}, "header_injection"),
        ({"name": "X-Ok", "value": "a\r\nX-Injected: 1"}, "header_injection"),
        ({"name": "X Bad", "value": "1"}, "header_injection"),
    ],
)
def test_header_injection_is_refused_and_nothing_is_stored(
    moto_stack: dict[str, str], header: dict[str, str], why: str
) -> None:
    body = {"url": "https://erp.example.com/hooks", "event_types": ["*"], "headers": [header]}
    status, answer = _call("POST", "/v1/subscriptions", body)
    assert status == 400, answer
    assert [d["type"] for d in answer["error"]["details"]] == [why]
    assert answer["error"]["details"][0]["loc"].startswith("headers[0]")
    assert _stored(moto_stack) == []


def test_every_destination_problem_is_listed_in_one_answer(moto_stack: dict[str, str]) -> None:
    body = {
        "url": "https://{{ data.carrier }}.example.com/x",
        "event_types": ["*"],
        "filter": {"data": {"status": "delivered"}},
        "headers": [{"name": "Host", "value": "x"}],
        "content_type": "application/x-www-form-urlencoded",
    }
    status, answer = _call("POST", "/v1/subscriptions", body)
    assert status == 400
    locs = {d["loc"] for d in answer["error"]["details"]}
    assert {"url", "template", "headers[0].name"} <= locs
    assert any(loc.startswith("filter") for loc in locs)
    assert _stored(moto_stack) == []


def test_a_template_that_does_not_compile_is_refused_with_its_line() -> None:
    body = {**ERP, "template": '{\n  "a": "{{ data.status }"\n}'}
    status, answer = _call("POST", "/v1/subscriptions", body)
    assert status == 400
    [detail] = answer["error"]["details"]
    assert detail["loc"] == "template" and "line 2" in detail["message"]


def test_a_template_that_fails_on_a_sample_event_is_refused_naming_the_type() -> None:
    body = {**ERP, "template": '{"a": "{{ data.location.city.nowhere }}"}'}
    status, answer = _call("POST", "/v1/subscriptions", body)
    assert status == 400
    [detail] = answer["error"]["details"]
    assert detail["type"] == "template_error" and "shipment.delivered" in detail["message"]


def test_the_preview_answers_the_exact_request_without_sending_or_storing(
    moto_stack: dict[str, str],
) -> None:
    request = {"subscription": ERP, "data": {"order_id": "A-1001", "metadata": {}}}
    status, preview = _call("POST", "/v1/subscriptions/preview", request)
    assert status == 200, preview
    sent = preview["request"]
    assert (sent["method"], sent["url"]) == (
        "PUT",
        "https://erp.example.com/orders/A-1001/tracking",
    )
    assert sent["headers"]["Authorization"] == "********"
    assert json.loads(sent["body"]) == {
        "status": "delivered",
        "message": "Seu pedido A-1001 foi entregue.",
    }
    assert preview["matches"] is True
    assert _stored(moto_stack) == []


def test_the_preview_says_why_an_event_does_not_match_the_filter() -> None:
    request = {"subscription": ERP, "data": {"status": "posted", "status_detail": None}}
    status, preview = _call("POST", "/v1/subscriptions/preview", request)
    assert status == 200 and preview["matches"] is False
    assert any("status" in reason for reason in preview["filter_reasons"])


def test_the_preview_shows_a_render_error_of_the_merchants_own_event() -> None:
    needs_phone = {
        **ERP,
        "template": '{"to": "{{ data.metadata.buyer_phone }}"}',
    }
    request = {"subscription": needs_phone, "data": {"metadata": {"other": "x"}}}
    status, preview = _call("POST", "/v1/subscriptions/preview", request)
    assert status == 200 and preview["request"] is None
    assert "buyer_phone" in preview["render_error"]


def test_an_email_destination_is_previewed_as_the_mail_it_sends() -> None:
    thanks = {
        "kind": "email",
        "event_types": ["shipment.delivered"],
        "email": {
            "to": "{{ data.metadata.buyer_email }}",
            "subject": "Seu pedido {{ data.order_id }} chegou",
            "text": "{{ message.pt_BR }} Obrigado!",
        },
    }
    status, created = _call("POST", "/v1/subscriptions", thanks)
    assert status == 201, created
    assert created["kind"] == "email" and created["url"] is None
    status, preview = _call(
        "POST",
        f"/v1/subscriptions/{created['id']}/preview",
        {"data": {"order_id": "A-1", "metadata": {"buyer_email": "ana@example.com"}}},
    )
    assert status == 200, preview
    assert preview["email"]["to"] == ["ana@example.com"]
    assert preview["email"]["subject"] == "Seu pedido A-1 chegou"
    assert preview["email"]["text"] == "Seu pedido A-1 foi entregue. Obrigado!"


def test_an_email_destination_takes_no_url_or_headers() -> None:
    body = {
        "kind": "email",
        "url": "https://erp.example.com/x",
        "event_types": ["*"],
        "headers": [{"name": "X-A", "value": "1"}],
    }
    status, answer = _call("POST", "/v1/subscriptions", body)
    assert status == 400
    assert {d["loc"] for d in answer["error"]["details"]} == {"email", "url", "headers"}


def test_the_presets_are_listed() -> None:
    status, page = _call("GET", "/v1/presets")
    assert status == 200
    assert [p["id"] for p in page["data"]] == [p.id for p in PRESETS]


def test_a_test_event_the_filter_does_not_take_is_not_queued() -> None:
    posted_only = {**ERP, "filter": {"data": {"status": ["posted"]}}}
    _, created = _call("POST", "/v1/subscriptions", posted_only)
    status, answer = _call("POST", f"/v1/subscriptions/{created['id']}/test")
    assert status == 202 and answer["queued"] is False and answer["filter_reasons"]


def test_a_patch_of_basic_auth_replaces_only_the_header_it_made() -> None:
    body = {
        "url": "https://erp.example.com/hooks",
        "event_types": ["*"],
        "headers": [{"name": "X-Api-Key", "value": "k-1", "secret": True}],
        "basic_auth": {"username": "loja", "password": "p-1"},
    }
    _, created = _call("POST", "/v1/subscriptions", body)
    path = f"/v1/subscriptions/{created['id']}"
    status, patched = _call("PATCH", path, {"basic_auth": None})
    assert status == 200, patched
    assert [h["name"] for h in patched["headers"]] == ["X-Api-Key"]
    status, again = _call("PATCH", path, {"basic_auth": {"username": "loja", "password": "p-2"}})
    assert status == 200, again
    assert [h["name"] for h in again["headers"]] == ["X-Api-Key", "Authorization"]
    # The basic_auth header kept by an unrelated PATCH is still the one basic_auth replaces.
    _call("PATCH", path, {"description": "ERP"})
    _, last = _call("PATCH", path, {"basic_auth": None})
    assert [h["name"] for h in last["headers"]] == ["X-Api-Key"]


def test_a_preview_without_a_type_shows_the_first_type_the_filter_takes() -> None:
    everything_delivered = {**ERP, "event_types": ["*"]}
    status, preview = _call(
        "POST", "/v1/subscriptions/preview", {"subscription": everything_delivered}
    )
    assert status == 200, preview
    assert preview["event_type"] == "shipment.delivered" and preview["matches"] is True
