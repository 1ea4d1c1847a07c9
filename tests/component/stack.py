"""The template's tables and queues in moto, and a reader of what they hold.

The moto stack is built from template.yaml, and every function sees the environment the
template gives it, so a table, index or variable the code needs cannot be missing here and
present in the deployed stack (or the other way round).
"""

from __future__ import annotations

from typing import Any

import boto3

from devstack.template import parameter_default, resources, with_default_conditions
from parcelhooks.auth.keys import create_key
from parcelhooks.aws.api_keys_table import ApiKeysTable
from parcelhooks.core.api_keys import Role
from testkit.environment import functions_environment

REGION = "us-east-1"
# Merchants the tests send events for: ingest refuses merchants that never had a key.
KNOWN_MERCHANTS = ("merchant-a", "merchant-b", "demo-merchant")
TABLE_PROPERTIES = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")


def create_template_table(name: str, table_name: str | None = None) -> Any:
    """The template's table `name` (its keys and indexes) in moto, as `table_name`."""
    properties = resources("AWS::DynamoDB::Table")[name]
    table: dict[str, Any] = {
        k: with_default_conditions(properties[k]) for k in TABLE_PROPERTIES if k in properties
    }
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    return dynamodb.create_table(TableName=table_name or name, **table)


def build_stack() -> dict[str, str]:
    """Create the template's tables, queues and keys (inside moto), and verify its e-mail
    sender; the functions' environment."""
    sqs = boto3.client("sqs", region_name=REGION)
    physical: dict[str, str] = {}
    for name in resources("AWS::DynamoDB::Table"):
        create_template_table(name)
        physical[name] = name
    for name in resources("AWS::SQS::Queue"):
        physical[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
    kms = boto3.client("kms", region_name=REGION)
    for name in resources("AWS::KMS::Key"):
        physical[name] = kms.create_key(Description=name)["KeyMetadata"]["KeyId"]
    # SES sends only from a verified identity: the stack's sender, as in a real account.
    boto3.client("ses", region_name=REGION).verify_email_identity(
        EmailAddress=parameter_default("EmailFromAddress")
    )
    keys = ApiKeysTable(boto3.resource("dynamodb", region_name=REGION).Table("ApiKeysTable"))
    for merchant in KNOWN_MERCHANTS:
        create_key(keys, Role.MERCHANT, merchant)
    return functions_environment(physical)


class StackReader:
    """What the moto stack holds (ingest's shipment states and history, queued messages);
    clients made once."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        self._shipments = dynamodb.Table(env["SHIPMENTS_TABLE"])
        self._sqs = boto3.client("sqs", region_name=REGION)

    def shipment_items(self) -> list[dict[str, Any]]:
        """Every shipment state and history item (an event's history item is its claim)."""
        items: list[dict[str, Any]] = self._shipments.scan(ConsistentRead=True)["Items"]
        return items

    def messages(self, queue_variable: str) -> int:
        """Messages in `EVENTS_QUEUE_URL`, `RETRY_QUEUE_URL`, ... visible or in flight."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        got = self._sqs.get_queue_attributes(
            QueueUrl=self._env[queue_variable], AttributeNames=names
        )
        return sum(int(got["Attributes"][name]) for name in names)
