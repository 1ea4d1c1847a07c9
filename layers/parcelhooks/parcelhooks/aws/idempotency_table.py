"""The Idempotency table: ingest's event claims (the carrier event ids it remembers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from parcelhooks.aws.items import deserialize, epoch, is_condition_failure
from parcelhooks.core.claims import Claim


class EventClaimsTable:
    """Partition key id = `carrier#carrier_event_id`; expires after the dedup window."""

    def __init__(self, table: Any, window: timedelta) -> None:
        self._table = table
        self._window = window

    @staticmethod
    def _id(carrier: str, carrier_event_id: str) -> str:
        return f"{carrier}#{carrier_event_id}"

    def _item(
        self, carrier: str, carrier_event_id: str, event_id: str, state: str, now: datetime
    ) -> dict[str, Any]:
        return {
            "id": self._id(carrier, carrier_event_id),
            "event_id": event_id,
            "state": state,
            "claimed_at": now.isoformat(),
            "expiration": epoch(now + self._window),
        }

    def claim(
        self, carrier: str, carrier_event_id: str, event_id: str, now: datetime
    ) -> Claim | None:
        try:
            self._table.put_item(
                Item=self._item(carrier, carrier_event_id, event_id, "pending", now),
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            raw: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            old = deserialize(raw) if raw else self._read(carrier, carrier_event_id)
            return _claim(old) if old else None
        return None

    def _read(self, carrier: str, carrier_event_id: str) -> dict[str, Any] | None:
        key = {"id": self._id(carrier, carrier_event_id)}
        item: dict[str, Any] | None = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return item

    def take_over(self, carrier: str, carrier_event_id: str, stale: Claim, now: datetime) -> bool:
        try:
            self._table.update_item(
                Key={"id": self._id(carrier, carrier_event_id)},
                UpdateExpression="SET claimed_at = :now",
                ConditionExpression="claimed_at = :then AND #s = :pending",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":now": now.isoformat(),
                    ":then": stale.claimed_at.isoformat(),
                    ":pending": "pending",
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def confirm(self, carrier: str, queued: Sequence[tuple[str, str]], now: datetime) -> None:
        with self._table.batch_writer(overwrite_by_pkeys=["id"]) as batch:
            for carrier_event_id, event_id in queued:
                batch.put_item(Item=self._item(carrier, carrier_event_id, event_id, "queued", now))

    def release(self, carrier: str, carrier_event_ids: Sequence[str]) -> None:
        with self._table.batch_writer() as batch:
            for carrier_event_id in carrier_event_ids:
                batch.delete_item(Key={"id": self._id(carrier, carrier_event_id)})


def _claim(item: dict[str, Any]) -> Claim:
    return Claim(
        event_id=str(item["event_id"]),
        confirmed=item.get("state") == "queued",
        claimed_at=datetime.fromisoformat(str(item["claimed_at"])),
    )
