"""boto3 clients, made once per container; they honour AWS_ENDPOINT_URL for the local stack."""

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Enough connections for every concurrent delivery to log its attempt at once.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=128)


@cache
def dynamodb() -> "DynamoDBServiceResource":
    return boto3.resource("dynamodb", config=_CONFIG)


@cache
def sqs() -> "SQSClient":
    return boto3.client("sqs", config=_CONFIG)


# Ingest's queue sends: the answer to a send that is sent again by boto3 after a lost answer
# cannot say which copy SQS kept, so every send is one attempt and EventsQueue's own rounds
# send again (without the first-queued mark, queues.py).
_SINGLE_ATTEMPT = Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=128)


@cache
def sqs_single_attempt() -> "SQSClient":
    return boto3.client("sqs", config=_SINGLE_ATTEMPT)


# SES throttling and outages are retried by the delivery's own schedule (through the retry
# queue), not by boto3 inside one invocation while other deliveries wait.
_SES_CONFIG = Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=64)


@cache
def ses() -> "SESClient":
    return boto3.client("ses", config=_SES_CONFIG)


@cache
def kms() -> "KMSClient":
    return boto3.client("kms", config=_CONFIG)


def table(name: str) -> Any:
    return dynamodb().Table(name)
