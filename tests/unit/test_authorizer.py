from fnmatch import fnmatchcase

import pytest

from parcelhooks.api.errors import ROUTE_ERRORS
from parcelhooks.auth.keys import generate_key, hash_key
from parcelhooks.auth.policy import UnauthorizedError, authorize, bearer_token
from parcelhooks.core.api_keys import ApiKeyRecord, Role, Vocabulary
from testkit.factories import NOW

ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/{}"


def _store(*records: ApiKeyRecord):
    by_hash = {r.key_hash: r for r in records}
    return by_hash.get


def _record(key: str, role: Role, owner: str = "owner-1", revoked: bool = False) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id="key_1",
        key_hash=hash_key(key),
        role=role,
        owner_id=owner,
        created_at=NOW,
        revoked_at=NOW if revoked else None,
    )


def _resources(decision: dict) -> list[str]:
    return decision["policyDocument"]["Statement"][0]["Resource"]


def test_a_carrier_key_is_allowed_to_post_events_and_nothing_else() -> None:
    key = generate_key()
    decision = authorize(
        {"Authorization": f"Bearer {key}"},
        ARN.format("POST/v1/events"),
        _store(_record(key, Role.CARRIER, "correios")),
    )
    # A key made before vocabularies reads Correios' codes, as every key did then.
    assert decision["context"] == {
        "role": "carrier",
        "owner_id": "correios",
        "key_id": "key_1",
        "vocabulary": "correios",
    }
    assert _resources(decision) == [ARN.format("POST/v1/events")]


@pytest.mark.parametrize("vocabulary", list(Vocabulary))
def test_a_carrier_keys_vocabulary_reaches_ingest_in_the_context(vocabulary: Vocabulary) -> None:
    key = generate_key()
    record = _record(key, Role.CARRIER, "loggi").model_copy(update={"vocabulary": vocabulary})
    decision = authorize(
        {"Authorization": f"Bearer {key}"}, ARN.format("POST/v1/events"), _store(record)
    )
    assert decision["context"]["vocabulary"] == vocabulary.value


def test_a_merchant_key_is_allowed_the_admin_routes_only() -> None:
    key = generate_key()
    decision = authorize(
        {"authorization": f"bearer {key}"},
        ARN.format("GET/v1/subscriptions"),
        _store(_record(key, Role.MERCHANT)),
    )
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert ARN.format("POST/v1/events") not in _resources(decision)
    assert ARN.format("*/v1/subscriptions/*") in _resources(decision)


def test_the_policy_covers_the_roles_other_routes_because_api_gateway_caches_it() -> None:
    key = generate_key()
    first = authorize(
        {"Authorization": f"Bearer {key}"},
        ARN.format("GET/v1/subscriptions"),
        _store(_record(key, Role.MERCHANT)),
    )
    assert ARN.format("*/v1/deliveries/*") in _resources(first)


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"Authorization": ""},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-key"},
    ],
)
def test_missing_or_malformed_keys_are_unauthorized(headers) -> None:
    with pytest.raises(UnauthorizedError):
        authorize(headers, ARN.format("POST/v1/events"), _store())


def test_an_unknown_key_is_unauthorized() -> None:
    with pytest.raises(UnauthorizedError):
        authorize({"Authorization": f"Bearer {generate_key()}"}, ARN.format("x"), _store())


def test_a_revoked_key_is_unauthorized() -> None:
    key = generate_key()
    with pytest.raises(UnauthorizedError):
        authorize(
            {"Authorization": f"Bearer {key}"},
            ARN.format("POST/v1/events"),
            _store(_record(key, Role.CARRIER, revoked=True)),
        )


def test_keys_have_the_documented_shape_and_are_stored_as_sha256() -> None:
    key = generate_key()
    assert key.startswith("phk_") and len(key) >= 36
    assert len(hash_key(key)) == 64 and key not in hash_key(key)


def test_bearer_token_ignores_the_header_name_case() -> None:
    assert bearer_token({"AUTHORIZATION": "Bearer phk_x"}) == "phk_x"


@pytest.mark.parametrize(
    ("method", "path"),
    sorted(route for route in ROUTE_ERRORS if route != ("POST", "/v1/events")),
)
def test_a_merchant_key_reaches_every_route_of_the_merchant_api(method: str, path: str) -> None:
    # Each route as API Gateway names it in the method ARN, path parameters filled in.
    route = method + path.replace("{subscription_id}", "sub_1").replace(
        "{delivery_id}", "dlv_1"
    ).replace("{tracking_code}", "QB123456785BR")
    key = generate_key()
    decision = authorize(
        {"Authorization": f"Bearer {key}"}, ARN.format(route), _store(_record(key, Role.MERCHANT))
    )
    statement = decision["policyDocument"]["Statement"][0]
    # API Gateway allows the call only if a resource of the policy covers its method ARN.
    assert statement["Effect"] == "Allow"
    assert any(fnmatchcase(ARN.format(route), pattern) for pattern in _resources(decision)), route
