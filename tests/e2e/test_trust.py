"""The trust model on the deployed stack: scoped carrier keys, unknown merchants, cursors."""

from __future__ import annotations

import base64
import json
import uuid

from devstack.stack import Deployment, issue_key
from parcelhooks.core.api_keys import Role
from tests.e2e.conftest import Api, carrier_event, subscribe


def test_a_scoped_carrier_key_sends_only_for_its_merchants(
    stack: Deployment, merchant: Api
) -> None:
    other = f"it-other-{uuid.uuid4().hex[:8]}"
    issue_key(stack, Role.MERCHANT, other)
    owner = f"it-scoped-{uuid.uuid4().hex[:8]}"
    scoped = Api(stack, issue_key(stack, Role.CARRIER, owner, [merchant.owner_id]), owner)
    refused = scoped.call("POST", "/v1/events", {"events": [carrier_event(other)]})
    assert refused.status_code == 403, refused.text
    assert other in refused.json()["error"]["details"][0]["message"]
    accepted = scoped.call("POST", "/v1/events", carrier_event(merchant.owner_id))
    assert accepted.status_code == 202, accepted.text


def test_an_event_for_a_merchant_that_does_not_exist_is_a_400(carrier: Api) -> None:
    response = carrier.call("POST", "/v1/events", carrier_event("it-no-such-merchant"))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["type"] == "unknown_merchant"


def test_forged_and_borrowed_cursors_are_400_invalid_cursor(
    stack: Deployment, merchant: Api
) -> None:
    for _ in range(2):
        subscribe(merchant, "http://127.0.0.1:9/hook", ["*"])
    page = merchant.call("GET", "/v1/subscriptions", params={"limit": "1"}).json()
    assert page["next_cursor"]
    owner = f"it-merchant-{uuid.uuid4().hex[:8]}"
    stranger = Api(stack, issue_key(stack, Role.MERCHANT, owner), owner)
    forged = base64.urlsafe_b64encode(json.dumps({"merchant_id": 1}).encode()).decode()
    for api, cursor in [(merchant, forged), (stranger, page["next_cursor"])]:
        response = api.call("GET", "/v1/subscriptions", params={"cursor": cursor})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_cursor"
