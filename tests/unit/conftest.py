"""Unit tests run with the network switched off (loopback fakes aside) and fake AWS credentials.

The moto stack is built from template.yaml, and every function sees the environment the
template gives it, so a table, index or variable the code needs cannot be missing here and
present in the deployed stack (or the other way round).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
import pytest_socket
from moto import mock_aws

from devstack.template import FUNCTIONS, function_environment, resources
from parcelhooks.auth.keys import create_key
from parcelhooks.aws import clients
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.core.api_keys import Role
from parcelhooks.wiring import admin as admin_wiring
from parcelhooks.wiring import authorizer as authorizer_wiring
from parcelhooks.wiring import fanout as fanout_wiring
from parcelhooks.wiring import ingest as ingest_wiring
from parcelhooks.wiring import redrive as redrive_wiring
from tests.fakes import fake_resolver

# Merchants the tests send events for: ingest refuses merchants that never had a key.
KNOWN_MERCHANTS = ("merchant-a", "merchant-b", "demo-merchant")
TABLE_PROPERTIES = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
CACHED_MODULES: tuple[ModuleType, ...] = (
    clients,
    authorizer_wiring,
    fanout_wiring,
    ingest_wiring,
    admin_wiring,
    redrive_wiring,
)


def functions_environment(physical: dict[str, str]) -> dict[str, str]:
    """Every function's variables in one process (they agree where they share a name)."""
    merged: dict[str, str] = {}
    for function in FUNCTIONS:
        merged |= function_environment(function, physical)
    return merged


def _logical_ids() -> dict[str, str]:
    names = [*resources("AWS::DynamoDB::Table"), *resources("AWS::SQS::Queue")]
    return {name: name for name in names}


# The handlers validate their settings when imported; until a test builds its moto stack
# they see placeholder names (nothing reaches AWS with them: sockets are off).
os.environ.update(functions_environment(_logical_ids()))


def pytest_runtest_setup() -> None:
    pytest_socket.disable_socket(allow_unix_socket=True)


def reset_cached_builders() -> None:
    for module in CACHED_MODULES:
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_builders() -> Iterator[None]:
    reset_cached_builders()
    yield
    reset_cached_builders()


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
    """The template's tables and queues in moto; yields the functions' environment."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        physical: dict[str, str] = {}
        for name, properties in resources("AWS::DynamoDB::Table").items():
            table: dict[str, Any] = {k: properties[k] for k in TABLE_PROPERTIES if k in properties}
            dynamodb.create_table(TableName=name, **table)
            physical[name] = name
        for name in resources("AWS::SQS::Queue"):
            physical[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
        keys = ApiKeysTable(
            boto3.resource("dynamodb", region_name="us-east-1").Table("ApiKeysTable")
        )
        for merchant in KNOWN_MERCHANTS:
            create_key(keys, Role.MERCHANT, merchant)
        env = functions_environment(physical)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setattr(fanout_wiring, "resolver", lambda: fake_resolver)
        monkeypatch.setattr(admin_wiring, "resolver", lambda: fake_resolver)
        reset_cached_builders()
        yield env
        reset_cached_builders()
