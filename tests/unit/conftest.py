"""Unit tests run with the network switched off and fake AWS credentials."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import pytest_socket
from moto import mock_aws

from parcelhooks import wiring
from parcelhooks.aws import clients
from parcelhooks.core.settings import settings
from tests.fakes import fake_resolver


def pytest_runtest_setup() -> None:
    pytest_socket.disable_socket(allow_unix_socket=True)


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Tables and queues as the template makes them, in moto, with the functions' environment."""
    tables = {
        "SUBSCRIPTIONS_TABLE": ("subscriptions", ["merchant_id", "subscription_id"]),
        "DELIVERIES_TABLE": ("deliveries", ["subscription_id", "sk"]),
        "API_KEYS_TABLE": ("api-keys", ["key_hash"]),
        "IDEMPOTENCY_TABLE": ("idempotency", ["id"]),
    }
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        env: dict[str, str] = {}
        for variable, (name, keys) in tables.items():
            schema = [{"AttributeName": keys[0], "KeyType": "HASH"}]
            if len(keys) > 1:
                schema.append({"AttributeName": keys[1], "KeyType": "RANGE"})
            extra: dict[str, Any] = {}
            attributes = list(keys)
            if name == "deliveries":  # the template's by-delivery index
                attributes.append("delivery_id")
                extra["GlobalSecondaryIndexes"] = [
                    {
                        "IndexName": "by-delivery",
                        "KeySchema": [
                            {"AttributeName": "delivery_id", "KeyType": "HASH"},
                            {"AttributeName": "sk", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ]
            dynamodb.create_table(
                TableName=name,
                KeySchema=schema,  # type: ignore[arg-type]
                AttributeDefinitions=[
                    {"AttributeName": k, "AttributeType": "S"} for k in attributes
                ],
                BillingMode="PAY_PER_REQUEST",
                **extra,
            )
            env[variable] = name
        sqs = boto3.client("sqs", region_name="us-east-1")
        for variable, name in {
            "EVENTS_QUEUE_URL": "events",
            "RETRY_QUEUE_URL": "retry",
            "DELIVERIES_DLQ_URL": "deliveries-dlq",
        }.items():
            env[variable] = sqs.create_queue(QueueName=name)["QueueUrl"]
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setattr(wiring, "resolver", lambda: fake_resolver)
        caches = [
            settings,
            clients.dynamodb,
            clients.sqs,
            wiring.ingest,
            wiring.api_keys,
            wiring.subscriptions_table,
            wiring.subscriptions,
            wiring.fanout,
        ]
        for cached in caches:
            cached.cache_clear()
        yield env
        for cached in caches:
            cached.cache_clear()
