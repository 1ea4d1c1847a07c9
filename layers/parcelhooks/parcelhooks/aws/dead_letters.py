"""Dead-letter queues as the redrive reads them: receive and hold, then release or delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from parcelhooks.aws.queues import SQS_BATCH_SIZE, QueueWriteError
from parcelhooks.core.held_messages import HeldMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class DeadLetterReader:
    """A dead-letter queue as the redrive reads it: receive and hold, then release or delete."""

    def __init__(self, client: SQSClient, queue_url: str, hold_s: int) -> None:
        self._client = client
        self._url = queue_url
        self._hold_s = hold_s

    def receive(self, max_count: int) -> list[HeldMessage]:
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max(1, min(SQS_BATCH_SIZE, max_count)),
            VisibilityTimeout=self._hold_s,
            # A second's wait: short polls can come back empty while messages remain.
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["SentTimestamp"],
        )
        return [
            HeldMessage(
                body=message["Body"],
                handle=message["ReceiptHandle"],
                sent_at=datetime.fromtimestamp(
                    int(message.get("Attributes", {}).get("SentTimestamp", "0")) / 1000, UTC
                ),
            )
            for message in response.get("Messages", [])
        ]

    def release(self, handles: Sequence[str]) -> None:
        for start in range(0, len(handles), SQS_BATCH_SIZE):
            chunk = handles[start : start + SQS_BATCH_SIZE]
            self._client.change_message_visibility_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(chunk)
                ],
            )

    def delete(self, handles: Sequence[str]) -> None:
        for start in range(0, len(handles), SQS_BATCH_SIZE):
            chunk = handles[start : start + SQS_BATCH_SIZE]
            response = self._client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(chunk)],
            )
            if response.get("Failed"):
                # Sent but still in the DLQ: it comes back after its hold, and a later run
                # sends it again under the same delivery id.
                raise QueueWriteError(f"could not delete {len(response['Failed'])} dead letters")
