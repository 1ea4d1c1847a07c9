"""Deliveries table: every attempt, newest first per subscription, expiring after the retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from parcelhooks.aws.items import epoch
from parcelhooks.aws.pages import CursorSigner, query_page
from parcelhooks.core.deliveries import HELD, SKIPPED_STALE, AttemptRecord, Outcome, is_valid_status
from parcelhooks.core.operational import WebhookEvent


class DeliveryLogTable:
    """Partition key subscription_id, sort key `attempted_at#delivery_id#attempt`: newest first."""

    KEY = frozenset({"subscription_id", "sk"})

    def __init__(self, table: Any, ttl: timedelta, cursors: CursorSigner | None = None) -> None:
        self._table = table
        self._ttl = ttl
        self._cursors = cursors  # only the merchant API hands out cursors

    def record(self, attempts: Sequence[AttemptRecord]) -> None:
        with self._table.batch_writer() as batch:
            for attempt in attempts:
                item = attempt.model_dump(mode="json", exclude_none=True, exclude={"event"})
                if attempt.event is not None:
                    # A string, not a map: metadata may hold floats DynamoDB would refuse.
                    item["event"] = attempt.event.model_dump_json()
                item["latency_ms"] = Decimal(str(attempt.latency_ms))
                item["sk"] = f"{item['attempted_at']}#{attempt.delivery_id}#{attempt.attempt:03d}"
                item["expires_at"] = epoch(attempt.attempted_at + self._ttl)
                batch.put_item(Item=item)

    def page(
        self, subscription_id: str, limit: int, cursor: str | None, outcome: str | None = None
    ) -> tuple[list[AttemptRecord], str | None]:
        """Newest first; `outcome` "success", "failure", "skipped" (stale events not sent),
        "held" (not sent while disabled) or "exhausted" (last failures, dead-lettered)
        filters (pages may come up short)."""
        extra: dict[str, Any] = {"ScanIndexForward": False}
        if outcome is not None:
            values = {
                ":d": Outcome.DELIVERED.value,
                ":s": SKIPPED_STALE,
                ":h": HELD,
                ":x": Outcome.EXHAUSTED.value,
            }
            condition = {
                "success": "outcome = :d",
                "skipped": "outcome = :s",
                "held": "outcome = :h",
                "exhausted": "outcome = :x",
                "failure": "outcome <> :d AND outcome <> :s AND outcome <> :h",
            }[outcome]
            extra["FilterExpression"] = condition
            # DynamoDB refuses a value the expression does not use.
            extra["ExpressionAttributeValues"] = {k: v for k, v in values.items() if k in condition}
        assert self._cursors is not None, "pages with cursors need a CursorSigner"
        scope = f"deliveries/{subscription_id}"
        start = self._cursors.decode(scope, cursor, self.KEY)
        response = query_page(
            self._table, "subscription_id", subscription_id, limit, start, **extra
        )
        records = [_attempt(item) for item in response.get("Items", [])]
        return records, self._cursors.encode(scope, response.get("LastEvaluatedKey"))

    def since(
        self, subscription_id: str, since: datetime, limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        """Attempts from `since` on, oldest first, at most `limit`; and whether more exist."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "subscription_id = :s AND sk >= :since",
            # Sort keys start with the attempt time; this prefix sorts before any of that second.
            "ExpressionAttributeValues": {
                ":s": subscription_id,
                ":since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            },
        }
        records: list[AttemptRecord] = []
        while len(records) < limit:
            response = self._table.query(Limit=limit - len(records), **kwargs)
            records += [_attempt(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return records, False
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return records, True

    def latest(self, delivery_id: str) -> AttemptRecord | None:
        """The newest attempt of a delivery, through the by-delivery index."""
        response = self._table.query(
            IndexName=BY_DELIVERY_INDEX,
            KeyConditionExpression="delivery_id = :d",
            ExpressionAttributeValues={":d": delivery_id},
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        return _attempt(items[0]) if items else None


BY_DELIVERY_INDEX = "by-delivery"
_EVENT: TypeAdapter[WebhookEvent] = TypeAdapter(WebhookEvent)


def _attempt(item: dict[str, Any]) -> AttemptRecord:
    fields = {k: v for k, v in item.items() if k not in {"sk", "expires_at"}}
    fields["latency_ms"] = float(fields["latency_ms"])
    fields["attempt"] = int(fields["attempt"])
    if "status_code" in fields:
        status = int(fields["status_code"])
        # Lines written before status codes were bounded may hold any number: not a status.
        fields["status_code"] = status if is_valid_status(status) else None
    if "event" in fields:
        fields["event"] = _EVENT.validate_json(fields["event"])
    return AttemptRecord.model_validate(fields)
