"""SQS (EventsQueue, RetryQueue) → signed POSTs; failed messages reported, not the batch."""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parcelhooks.aws.queues import FIRST_QUEUED
from parcelhooks.core.observability import logger, metrics
from parcelhooks.wiring import fanout as wiring

# A missing or malformed setting fails the cold start with its name, not the first request.
wiring.settings()

processor = AsyncBatchProcessor(event_type=EventType.SQS)


async def handle_record(record: SQSRecord) -> None:
    await wiring.fanout().handle_message(record.body, first_sight=first_sight(record))


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
    wiring.fanout().begin_invocation()
    return async_process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
