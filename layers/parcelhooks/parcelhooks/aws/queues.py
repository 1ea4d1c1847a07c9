"""SQS adapters: the events queue, the retry queue and the deliveries dead-letter queue."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parcelhooks.core.deliveries import DeadLetter, DeliveryJob
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.operational import OperationalEvent

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# On an event ingest queues for the first time (its claim is new): the fan-out need not ask
# the delivery log what was sent of it when SQS hands it over for the first time too.
FIRST_QUEUED = "FirstQueued"
SQS_BATCH_SIZE = 10
SQS_MAX_DELAY_S = 900
SEND_ROUNDS = 3
ROUND_PAUSE_S = 0.05


class _BatchSender:
    """SendMessageBatch in tens; entries SQS refuses are sent again, up to three rounds."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, messages: dict[str, tuple[str, int]], marked: Collection[str] = ()) -> list[str]:
        """Send `{key: (body, delay_s)}`, those in `marked` with the FIRST_QUEUED attribute;
        return the keys that never got through.

        A message is marked only while no copy of it can be in the queue: one sent again after
        a call whose answer was lost (it may have been queued) goes without the mark, so the
        fan-out asks the delivery log before sending either copy."""
        pending = dict(messages)
        still_marked = set(marked)
        for round_number in range(SEND_ROUNDS):
            if round_number:
                time.sleep(ROUND_PAUSE_S * round_number)  # back off before resending
            failed: dict[str, tuple[str, int]] = {}
            keys = list(pending)
            for start in range(0, len(keys), SQS_BATCH_SIZE):
                chunk = {k: pending[k] for k in keys[start : start + SQS_BATCH_SIZE]}
                refused, unanswered = self._send_chunk(chunk, still_marked)
                failed.update(refused)
                if unanswered:
                    still_marked.difference_update(chunk)
            pending = failed
            if not pending:
                return []
        return list(pending)

    def _send_chunk(
        self, messages: dict[str, tuple[str, int]], marked: Collection[str]
    ) -> tuple[dict[str, tuple[str, int]], bool]:
        """The messages SQS did not take, and whether the call went unanswered (then any of
        them may have been queued all the same)."""
        # Entry ids must be short and simple: index them and map back.
        order = list(messages)
        entries: list[dict[str, Any]] = [
            {"Id": str(index), "MessageBody": messages[key][0], "DelaySeconds": messages[key][1]}
            for index, key in enumerate(order)
        ]
        for entry, key in zip(entries, order, strict=True):
            if key in marked:
                entry["MessageAttributes"] = {
                    FIRST_QUEUED: {"DataType": "String", "StringValue": "true"}
                }
        try:
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)  # type: ignore[arg-type]
        except Exception:
            return messages, True
        failed = [order[int(entry["Id"])] for entry in response.get("Failed", [])]
        return {key: messages[key] for key in failed}, False


def sqs_delay_s(due_at: datetime, now: datetime) -> int:
    """The DelaySeconds to ask SQS for: what is left, capped at SQS's 15 minutes."""
    remaining = (due_at - now).total_seconds()
    return max(0, min(SQS_MAX_DELAY_S, int(remaining + 0.999)))


class QueueWriteError(RuntimeError):
    """SQS kept refusing messages: the caller's work must be retried as a whole."""


class EventsQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._batch = _BatchSender(client, queue_url)

    def publish(
        self,
        events: Sequence[ShipmentEvent | OperationalEvent],
        first_queued: Collection[str] = (),
    ) -> list[str]:
        """Queue the events (those whose ids are in `first_queued` marked so); the ids of
        those SQS kept refusing."""
        return self._batch.send(
            {e.event_id: (e.model_dump_json(), 0) for e in events}, marked=first_queued
        )


class RetryQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._batch = _BatchSender(client, queue_url)

    def schedule(self, jobs: Sequence[DeliveryJob], now: datetime) -> list[DeliveryJob]:
        """Queue each job for when it is due; return the jobs SQS kept refusing."""
        messages = {
            f"{job.delivery_id}#{job.attempt}": (
                job.model_dump_json(),
                sqs_delay_s(job.due_at, now),
            )
            for job in jobs
        }
        failed = set(self._batch.send(messages))
        return [job for job in jobs if f"{job.delivery_id}#{job.attempt}" in failed]


class DeadLetterQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._batch = _BatchSender(client, queue_url)

    def send(self, dead: Sequence[DeadLetter]) -> list[DeadLetter]:
        """Dead-letter each delivery; return the letters SQS kept refusing."""
        failed = set(self._batch.send({d.delivery_id: (d.model_dump_json(), 0) for d in dead}))
        return [letter for letter in dead if letter.delivery_id in failed]
