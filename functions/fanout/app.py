"""SQS (EventsQueue, RetryQueue) → signed POSTs: an invocation's batch handled at once, the
messages that failed reported, not the batch."""

import asyncio
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parcelhooks.aws.queues import FIRST_QUEUED
from parcelhooks.core.observability import logger, metrics
from parcelhooks.delivery.fanout import QueuedMessage
from parcelhooks.wiring import fanout as wiring

# A missing or malformed setting fails the cold start with its name, not the first request.
wiring.settings()


@cache
def container_loop() -> asyncio.AbstractEventLoop:
    """One event loop for the container's life (not asyncio.run per invocation): the HTTP
    client's pooled connections belong to the loop they were opened on."""
    return asyncio.new_event_loop()


def first_sight(record: SQSRecord) -> bool:
    """Handed over for the first time, of an event ingest queued for the first time."""
    marked = record.message_attributes[FIRST_QUEUED]  # None when absent
    return (
        record.attributes.approximate_receive_count == "1"
        and marked is not None
        and marked.string_value == "true"
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    fanout = wiring.fanout()
    fanout.begin_invocation()
    messages = [
        QueuedMessage(record.message_id, record.body, first_sight(record))
        for record in SQSEvent(event).records
    ]
    failed = container_loop().run_until_complete(fanout.handle_batch(messages))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
