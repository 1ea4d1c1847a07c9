"""SQS adapters: the events queue, the retry queue and the deliveries dead-letter queue."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from parcelhooks.backoff import sqs_delay_s
from parcelhooks.deliveries import DeadLetter, DeliveryJob
from parcelhooks.models import ShipmentEvent

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_BATCH_SIZE = 10
SEND_ROUNDS = 3
ROUND_PAUSE_S = 0.05


class EventsQueue:
    """SendMessageBatch in tens; entries SQS refuses are sent again, up to three rounds."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def publish(self, events: Sequence[ShipmentEvent]) -> list[str]:
        pending = {event.event_id: event.model_dump_json() for event in events}
        for round_number in range(SEND_ROUNDS):
            if round_number:
                time.sleep(ROUND_PAUSE_S * round_number)  # back off before resending
            failed: dict[str, str] = {}
            ids = list(pending)
            for start in range(0, len(ids), SQS_BATCH_SIZE):
                chunk = ids[start : start + SQS_BATCH_SIZE]
                failed.update(self._send_chunk({i: pending[i] for i in chunk}))
            pending = failed
            if not pending:
                return []
        return list(pending)

    def _send_chunk(self, bodies: dict[str, str]) -> dict[str, str]:
        # Entry ids must be short and simple; index them and map back.
        order = list(bodies)
        entries = [
            {"Id": str(index), "MessageBody": bodies[event_id]}
            for index, event_id in enumerate(order)
        ]
        try:
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)  # type: ignore[arg-type]
        except Exception:
            return bodies
        failed_ids = [order[int(entry["Id"])] for entry in response.get("Failed", [])]
        return {event_id: bodies[event_id] for event_id in failed_ids}


class RetryQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def schedule(self, job: DeliveryJob, now: datetime) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=job.model_dump_json(),
            DelaySeconds=sqs_delay_s(job.due_at, now),
        )


class DeadLetterQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, dead: DeadLetter) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=dead.model_dump_json())
