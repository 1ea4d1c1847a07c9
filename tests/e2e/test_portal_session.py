"""Portal sign-in on the real stack: routes with no authorizer, the session cookie, CSRF."""

from __future__ import annotations

from typing import Any

import requests

from devstack.stack import Deployment
from tests.e2e.conftest import Api

COOKIE = "__Host-parcelhooks_session"


def _portal(stack: Deployment, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, stack.api_url + path, timeout=30, **kwargs)


def test_a_portal_link_signs_in_once_and_the_session_runs_the_merchant_api(
    stack: Deployment, merchant: Api
) -> None:
    made = merchant.call("POST", "/v1/portal/links", {"ttl_s": 600})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    signed_in = _portal(stack, "POST", "/portal/session", json={"link": token})
    assert signed_in.status_code == 201, signed_in.text
    assert "HttpOnly" in signed_in.headers["Set-Cookie"]
    session = signed_in.headers["Set-Cookie"].split(";", 1)[0]
    csrf = signed_in.json()["csrf_token"]
    assert _portal(stack, "POST", "/portal/session", json={"link": token}).status_code == 401

    # Secure cookies are not sent over http by clients: the header is written out here.
    cookie = {"Cookie": session}
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}
    refused = _portal(stack, "POST", "/portal/api/v1/subscriptions", json=body, headers=cookie)
    assert refused.status_code == 403
    created = _portal(
        stack,
        "POST",
        "/portal/api/v1/subscriptions",
        json=body,
        headers={**cookie, "X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    # The same subscription, seen with the merchant's key: the session acted as that merchant.
    assert merchant.call("GET", f"/v1/subscriptions/{created.json()['id']}").status_code == 200

    assert _portal(stack, "DELETE", "/portal/session", headers=cookie).status_code == 204
    gone = _portal(stack, "GET", "/portal/api/v1/subscriptions", headers=cookie)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "unauthorized"
    assert COOKIE in session
