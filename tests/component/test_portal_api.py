"""Portal sign-in through the admin handler, moto behind it: a link signs in once, the
session cookie is HttpOnly and SameSite=Strict, every change needs the CSRF token, a session
reaches only its own merchant (its subscriptions and deliveries), and signing out ends it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from parcelhooks.auth.keys import create_key
from parcelhooks.auth.portal import SESSION_COOKIE
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.aws.delivery_log_table import DeliveryLogTable
from parcelhooks.core.api_keys import Role
from parcelhooks.core.deliveries import delivery_id_of
from testkit.factories import (
    LambdaContextStub,
    api_event,
    attempt_record,
    load_function,
    shipment_event,
)

pytestmark = pytest.mark.usefixtures("moto_stack")

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["shipment.delivered"]}


def _call(
    method: str,
    path: str,
    body: Any = None,
    *,
    merchant: str | None = None,
    cookie: str | None = None,
    csrf: str | None = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    event = api_event(
        method,
        path,
        body,
        role="merchant" if merchant else None,
        owner_id=merchant or "merchant-a",
        query=query,
    )
    if cookie:
        event["headers"]["Cookie"] = f"theme=dark; {SESSION_COOKIE}={cookie}"
    if csrf:
        event["headers"]["X-CSRF-Token"] = csrf
    response = load_function("admin").handler(event, LambdaContextStub())
    body_out = json.loads(response["body"]) if response["body"] else None
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], body_out, headers | (response.get("headers") or {})


def _signed_in(merchant: str = "merchant-a") -> tuple[str, str]:
    """A session of `merchant`, from a link its key made: (cookie value, CSRF token)."""
    status, link, _ = _call("POST", "/v1/portal/links", {}, merchant=merchant)
    assert status == 201, link
    status, session, headers = _call("POST", "/portal/session", {"link": link["token"]})
    assert status == 201, session
    cookie = headers["Set-Cookie"]
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    return value, session["csrf_token"]


def test_a_link_signs_in_once_into_an_httponly_strict_cookie() -> None:
    status, link, _ = _call("POST", "/v1/portal/links", {"ttl_s": 600}, merchant="merchant-a")
    assert status == 201 and link["path"] == f"/portal/#link={link['token']}"
    status, session, headers = _call("POST", "/portal/session", {"link": link["token"]})
    assert status == 201 and session["merchant_id"] == "merchant-a"
    cookie = headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=phs_")
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age=28800"):
        assert attribute in cookie
    # The session's token never reaches the page's script: only the CSRF token does.
    assert cookie.split(";")[0].split("=", 1)[1] not in json.dumps(session)
    status, again, _ = _call("POST", "/portal/session", {"link": link["token"]})
    assert status == 401 and again["error"]["code"] == "unauthorized"


def test_a_session_calls_the_merchant_api_as_its_merchant() -> None:
    cookie, csrf = _signed_in()
    status, created, _ = _call(
        "POST", "/portal/api/v1/subscriptions", NEW, cookie=cookie, csrf=csrf
    )
    assert status == 201, created
    status, page, _ = _call("GET", "/portal/api/v1/subscriptions", cookie=cookie)
    assert status == 200 and [s["id"] for s in page["data"]] == [created["id"]]


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing() -> None:
    cookie, _ = _signed_in()
    for wrong in (None, "forged"):
        status, answer, _ = _call(
            "POST", "/portal/api/v1/subscriptions", NEW, cookie=cookie, csrf=wrong
        )
        assert status == 403 and answer["error"]["code"] == "forbidden"
    _, page, _ = _call("GET", "/portal/api/v1/subscriptions", cookie=cookie)
    assert page["data"] == []


def test_a_session_of_merchant_b_reaches_nothing_of_merchant_a() -> None:
    a_cookie, a_csrf = _signed_in("merchant-a")
    _, created, _ = _call("POST", "/portal/api/v1/subscriptions", NEW, cookie=a_cookie, csrf=a_csrf)
    b_cookie, b_csrf = _signed_in("merchant-b")
    path = f"/portal/api/v1/subscriptions/{created['id']}"
    assert _call("GET", path, cookie=b_cookie)[0] == 404
    assert _call("DELETE", path, cookie=b_cookie, csrf=b_csrf)[0] == 404
    assert _call("GET", "/portal/api/v1/subscriptions", cookie=b_cookie)[1]["data"] == []
    assert _call("GET", path, cookie=a_cookie)[0] == 200


def test_a_session_reads_its_own_deliveries_and_merchant_b_none_of_merchant_a(
    moto_stack: dict[str, str],
) -> None:
    a_cookie, a_csrf = _signed_in("merchant-a")
    _, created, _ = _call("POST", "/portal/api/v1/subscriptions", NEW, cookie=a_cookie, csrf=a_csrf)
    event = shipment_event(event_id="evt_portal")
    line = attempt_record(
        delivery_id=delivery_id_of(event, created["id"]),
        event_id=event.event_id,
        subscription_id=created["id"],
        attempted_at=datetime.now(UTC) - timedelta(minutes=5),
        event=event,
    )
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(
        moto_stack["DELIVERIES_TABLE"]
    )
    DeliveryLogTable(table, timedelta(days=30)).record([line])
    detail = f"/portal/api/v1/deliveries/{line.delivery_id}"
    status, shown, _ = _call("GET", detail, cookie=a_cookie)
    assert status == 200, shown
    assert shown["event_id"] == "evt_portal" and shown["request"]["url"] == NEW["url"]
    listing = f"/portal/api/v1/subscriptions/{created['id']}/deliveries"
    query = {"event_type": "shipment.delivered", "tracking_code": event.tracking_code}
    status, page, _ = _call("GET", listing, cookie=a_cookie, query=query)
    assert status == 200 and [a["event_id"] for a in page["data"]] == ["evt_portal"]
    b_cookie, _ = _signed_in("merchant-b")
    for path, asked in ((detail, None), (listing, query)):
        status, answer, _ = _call("GET", path, cookie=b_cookie, query=asked)
        assert (status, answer["error"]["code"]) == (404, "not_found"), path
        assert "evt_portal" not in json.dumps(answer)


def test_no_session_or_a_signed_out_one_is_a_401() -> None:
    assert _call("GET", "/portal/api/v1/subscriptions")[0] == 401
    assert _call("GET", "/portal/api/v1/subscriptions", cookie="phs_guess")[0] == 401
    cookie, _ = _signed_in()
    status, _, headers = _call("DELETE", "/portal/session", cookie=cookie)
    assert status == 204 and "Max-Age=0" in headers["Set-Cookie"]
    assert _call("GET", "/portal/api/v1/subscriptions", cookie=cookie)[0] == 401


def test_a_merchant_key_signs_in_and_a_carrier_key_does_not(moto_stack: dict[str, str]) -> None:
    keys = ApiKeysTable(
        boto3.resource("dynamodb", region_name="us-east-1").Table(moto_stack["API_KEYS_TABLE"])
    )
    merchant_key, _ = create_key(keys, Role.MERCHANT, "merchant-a")
    carrier_key, _ = create_key(keys, Role.CARRIER, "correios")
    status, session, _ = _call("POST", "/portal/session", {"key": merchant_key})
    assert status == 201 and session["merchant_id"] == "merchant-a"
    for wrong in (carrier_key, "phk_" + "x" * 43):
        assert _call("POST", "/portal/session", {"key": wrong})[0] == 401
    assert _call("POST", "/portal/session", {"key": merchant_key, "link": "phl_x"})[0] == 400


def test_only_the_merchant_api_is_reachable_through_the_portal() -> None:
    cookie, csrf = _signed_in()
    for path in ("/portal/api/portal/session", "/portal/api/v2/subscriptions"):
        assert _call("DELETE", path, cookie=cookie, csrf=csrf)[0] == 404
    # The session above is still there: the DELETE never reached sign-out.
    assert _call("GET", "/portal/api/v1/subscriptions", cookie=cookie)[0] == 200


def test_the_page_is_served_with_a_strict_policy_and_its_files_only() -> None:
    status, _, headers = _call_raw("GET", "/portal/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _, headers = _call_raw("GET", "/portal")
    assert status == 308 and headers["Location"] == "portal/"
    status, _, headers = _call_raw("GET", "/portal/assets/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    for name in ("secret.txt", "..%2Fapp.py", "index.htm"):
        assert _call_raw("GET", f"/portal/assets/{name}")[0] == 404


def test_after_a_reload_the_page_gets_its_csrf_token_back_from_the_cookie() -> None:
    cookie, csrf = _signed_in()
    status, session, _ = _call("GET", "/portal/session", cookie=cookie)
    assert status == 200 and session["csrf_token"] == csrf
    assert _call("GET", "/portal/session")[0] == 401


def _call_raw(method: str, path: str) -> tuple[int, str, dict[str, str]]:
    event = api_event(method, path)
    event["headers"] = {}
    response = load_function("admin").handler(event, LambdaContextStub())
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], response["body"], headers | (response.get("headers") or {})
