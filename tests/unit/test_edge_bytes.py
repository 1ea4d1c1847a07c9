"""Control characters in paths at the edge (issue 17): the authorizer's policy names the
called route of the role whatever characters it holds, so an evaluator whose `*` stops at a
line feed still allows it. (Bodies that are not UTF-8, through the real handlers on moto:
tests/component/test_edge_bytes.py; through MiniStack: tests/e2e/test_edge_bytes.py.)
"""

from __future__ import annotations

import pytest

from parcelhooks.auth.keys import generate_key, hash_key
from parcelhooks.auth.policy import authorize
from parcelhooks.core.api_keys import ApiKeyRecord, Role
from testkit.factories import NOW

ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/{}"


def _policy_resources(role: Role, route: str) -> list[str]:
    key = generate_key()
    record = ApiKeyRecord(
        key_id="key_1", key_hash=hash_key(key), role=role, owner_id="owner-1", created_at=NOW
    )
    decision = authorize(
        {"Authorization": f"Bearer {key}"}, ARN.format(route), {hash_key(key): record}.get
    )
    resources: list[str] = decision["policyDocument"]["Statement"][0]["Resource"]
    return resources


@pytest.mark.parametrize(
    "route",
    ["GET/v1/subscriptions/a\nb", "GET/v1/subscriptions/\n\n", "POST/v1/subscriptions/x\ny/test"],
)
def test_the_policy_names_a_called_route_of_the_role_whatever_it_holds(route: str) -> None:
    # An evaluator whose `*` stops at a line feed (MiniStack's) still finds the call allowed.
    assert ARN.format(route) in _policy_resources(Role.MERCHANT, route)


@pytest.mark.parametrize(
    ("role", "route"),
    [
        (Role.CARRIER, "GET/v1/subscriptions/a\nb"),  # another role's route
        (Role.MERCHANT, "POST/v1/events"),
        (Role.MERCHANT, "GET/v1/subscriptionsX"),  # no route of the role
        (Role.MERCHANT, "GET/v1/subscriptions/*"),  # as a resource it would be a pattern
        (Role.MERCHANT, "GET/v1/shipments/?"),
    ],
)
def test_the_policy_never_names_a_route_the_role_may_not_call(role: Role, route: str) -> None:
    assert ARN.format(route) not in _policy_resources(role, route)


def test_a_route_already_listed_is_not_listed_twice() -> None:
    assert _policy_resources(Role.CARRIER, "POST/v1/events") == [ARN.format("POST/v1/events")]
