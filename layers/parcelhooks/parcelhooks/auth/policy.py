"""The authorizer's decision: who holds this bearer key, and which routes that role may call.

The policy lists every resource of the role (not just the called method), because
API Gateway caches it per key and reuses it for the key's other calls; a route of
another role matches no statement, which API Gateway answers with 403.

It names the called method too, as written, when it is one of the role's: whether a `*`
reaches across every character is the evaluator's business (MiniStack's does not cross a
line feed, so `GET /v1/subscriptions/a%0Ab` was denied 403 instead of reaching the
function's 404). A method ARN holding `*` or `?` is not named: as a resource it would be
a pattern, not itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from parcelhooks.auth.keys import hash_key, looks_like_key
from parcelhooks.core.api_keys import ApiKeyRecord, Role

ROLE_ROUTES: dict[Role, tuple[str, ...]] = {
    Role.CARRIER: ("POST/v1/events",),
    Role.MERCHANT: (
        "*/v1/subscriptions",
        "*/v1/subscriptions/*",
        "*/v1/deliveries/*",
        "*/v1/shipments/*",
        "GET/v1/shipments",
        "GET/v1/presets",
        "POST/v1/portal/links",
    ),
}


class UnauthorizedError(Exception):
    """No key, or one we do not know: API Gateway answers 401."""


def bearer_token(headers: Mapping[str, str] | None) -> str | None:
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value:
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _api_arn_prefix(method_arn: str) -> str:
    """`arn:aws:execute-api:region:account:api/stage/` from a method ARN."""
    arn_head, _, path = method_arn.partition(":execute-api:")
    region_account_api = path.split("/", 2)
    return f"{arn_head}:execute-api:{region_account_api[0]}/{region_account_api[1]}/"


def _route(method_arn: str) -> str:
    """`GET/v1/subscriptions/x` from a method ARN (`...:api/stage/GET/v1/subscriptions/x`)."""
    _, _, path = method_arn.partition(":execute-api:")
    parts = path.split("/", 2)
    return parts[2] if len(parts) == 3 else ""


def _route_matches(pattern: str, route: str) -> bool:
    """IAM's wildcard: `*` is any run of characters, whatever they are."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, route, re.DOTALL) is not None


def _resources(role: Role, method_arn: str) -> list[str]:
    prefix = _api_arn_prefix(method_arn)
    resources = [prefix + route for route in ROLE_ROUTES[role]]
    route = _route(method_arn)
    called = prefix + route
    if (
        route
        and not {"*", "?"} & set(route)
        and called not in resources
        and any(_route_matches(pattern, route) for pattern in ROLE_ROUTES[role])
    ):
        resources.append(called)
    return resources


def policy_for(record: ApiKeyRecord, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": record.key_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _resources(record.role, method_arn),
                }
            ],
        },
        "context": _context(record),
    }


def _context(record: ApiKeyRecord) -> dict[str, str]:
    """What the functions learn of the caller (API Gateway passes strings only)."""
    context = {"role": record.role.value, "owner_id": record.owner_id, "key_id": record.key_id}
    if record.role is Role.CARRIER:
        context["vocabulary"] = record.reads.value
    if record.merchants is not None:
        # Owner ids never hold a comma, so the list survives as one string.
        context["merchants"] = ",".join(sorted(record.merchants))
    return context


def authorize(
    headers: Mapping[str, str] | None,
    method_arn: str,
    find_key: Callable[[str], ApiKeyRecord | None],
) -> dict[str, Any]:
    token = bearer_token(headers)
    if token is None or not looks_like_key(token):
        raise UnauthorizedError
    record = find_key(hash_key(token))
    if record is None or not record.active:
        raise UnauthorizedError
    return policy_for(record, method_arn)
