"""The portal's tokens in DynamoDB (moto): hashes only, a link's single use held by a
conditional write, and DynamoDB's TTL attribute set from the expiry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from parcelhooks.auth.portal import PortalAuth, PortalSignInError, hash_token
from parcelhooks.aws.portal_table import EXPIRES_EPOCH, PortalTable
from testkit.factories import NOW

REGION = "us-east-1"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        yield dynamodb.create_table(
            TableName="PortalTable",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "token_hash", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "token_hash", "AttributeType": "S"}],
        )


def test_a_link_is_used_once_through_dynamodb(table: Any) -> None:
    auth = PortalAuth(PortalTable(table), clock=lambda: NOW)
    link = auth.issue_link("merchant-a")
    session = auth.exchange_link(link.token)
    with pytest.raises(PortalSignInError):
        auth.exchange_link(link.token)
    assert auth.session(session.token, method="GET", csrf_token=None).merchant_id == "merchant-a"
    items = table.scan()["Items"]
    assert {item["token_hash"] for item in items} == {
        hash_token(link.token),
        hash_token(session.token),
    }
    assert all(int(item[EXPIRES_EPOCH]) > NOW.timestamp() for item in items)


def test_the_second_of_two_racing_exchanges_is_refused_by_the_condition(table: Any) -> None:
    store = PortalTable(table)
    link = PortalAuth(store, clock=lambda: NOW).issue_link("merchant-a")
    assert store.use(hash_token(link.token), NOW) is True
    assert store.use(hash_token(link.token), NOW) is False
    assert store.use(hash_token("phl_unknown"), NOW) is False
