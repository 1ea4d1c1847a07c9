"""DynamoDB adapters: subscriptions, API keys, the delivery log and ingest claims."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from parcelhooks.deliveries import AttemptRecord
from parcelhooks.errors import InvalidCursorError
from parcelhooks.ingest import Claim
from parcelhooks.keys import ApiKeyRecord
from parcelhooks.models import ShipmentEvent, Subscription

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == CONDITIONAL_CHECK_FAILED


def _json_time(moment: datetime) -> str:
    """A time as pydantic writes it into items, so stored values compare equal."""
    return str(_TIME.dump_python(moment, mode="json"))


_TIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursorError(cursor) from None
    if not isinstance(decoded, dict):
        raise InvalidCursorError(cursor)
    return decoded


def _query_page(
    table: Any, key: str, value: str, limit: int, cursor: str | None, **extra: Any
) -> dict[str, Any]:
    """One page of a partition; a cursor from another partition is refused, not followed."""
    start = _decode_cursor(cursor)
    if start is not None and start.get(key) != value:
        raise InvalidCursorError(cursor or "")
    values = {":pk": value, **extra.pop("ExpressionAttributeValues", {})}
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": f"{key} = :pk",
        "ExpressionAttributeValues": values,
        "Limit": limit,
        **extra,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    response: dict[str, Any] = table.query(**kwargs)
    return response


class SubscriptionsTable:
    """Partition key merchant_id, sort key subscription_id: a merchant only ever sees its own."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, subscription: Subscription) -> None:
        item = subscription.model_dump(mode="json", exclude={"id"}, exclude_none=True)
        item["subscription_id"] = subscription.id
        self._table.put_item(Item=item)

    def replace(self, subscription: Subscription, previous: Subscription) -> bool:
        """Write `subscription` only if the stored one is still `previous` (by updated_at)."""
        item = subscription.model_dump(mode="json", exclude={"id"}, exclude_none=True)
        item["subscription_id"] = subscription.id
        if previous.updated_at is None:
            condition = "attribute_exists(subscription_id) AND attribute_not_exists(updated_at)"
            values: dict[str, Any] = {}
        else:
            condition = "attribute_exists(subscription_id) AND updated_at = :previous"
            values = {":previous": _json_time(previous.updated_at)}
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        response = self._table.get_item(
            Key={"merchant_id": merchant_id, "subscription_id": subscription_id},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _subscription(item) if item else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Subscription], str | None]:
        response = _query_page(self._table, "merchant_id", merchant_id, limit, cursor)
        items = [_subscription(item) for item in response.get("Items", [])]
        return items, _encode_cursor(response.get("LastEvaluatedKey"))

    def count(self, merchant_id: str) -> int:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "merchant_id = :m",
            "ExpressionAttributeValues": {":m": merchant_id},
            "Select": "COUNT",
        }
        total = 0
        while True:
            response = self._table.query(**kwargs)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list_for_merchant(self, merchant_id: str) -> list[Subscription]:
        found: list[Subscription] = []
        cursor: str | None = None
        while True:
            items, cursor = self.page(merchant_id, 100, cursor)
            found.extend(items)
            if cursor is None:
                return found

    def disable(self, merchant_id: str, subscription_id: str, reason: str, at: datetime) -> None:
        try:
            self._table.update_item(
                Key={"merchant_id": merchant_id, "subscription_id": subscription_id},
                # updated_at moves too, so a merchant's PATCH in flight cannot undo this.
                UpdateExpression=(
                    "SET enabled = :f, disabled_reason = :r, disabled_at = :t, updated_at = :t"
                ),
                ConditionExpression="attribute_exists(subscription_id)",
                ExpressionAttributeValues={":f": False, ":r": reason, ":t": _json_time(at)},
            )
        except ClientError as error:
            if not _is_condition_failure(error):  # deleted meanwhile: nothing to disable
                raise

    def delete(self, merchant_id: str, subscription_id: str) -> bool:
        try:
            self._table.delete_item(
                Key={"merchant_id": merchant_id, "subscription_id": subscription_id},
                ConditionExpression="attribute_exists(subscription_id)",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True


def _subscription(item: dict[str, Any]) -> Subscription:
    return Subscription.model_validate({**item, "id": item["subscription_id"]})


class ApiKeysTable:
    """Partition key key_hash: the authorizer finds a key by its hash in one read."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def find(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._table.get_item(Key={"key_hash": key_hash}).get("Item")
        return ApiKeyRecord.model_validate(item) if item else None

    def put(self, record: ApiKeyRecord) -> None:
        self._table.put_item(
            Item=record.model_dump(mode="json", exclude_none=True),
            ConditionExpression="attribute_not_exists(key_hash)",
        )

    def all(self) -> list[ApiKeyRecord]:
        records: list[ApiKeyRecord] = []
        kwargs: dict[str, Any] = {}
        while True:
            response = self._table.scan(**kwargs)
            records.extend(ApiKeyRecord.model_validate(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return records
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def revoke(self, key_id: str, when: datetime) -> bool:
        for record in self.all():
            if record.key_id == key_id:
                self._table.update_item(
                    Key={"key_hash": record.key_hash},
                    UpdateExpression="SET revoked_at = :t",
                    ExpressionAttributeValues={":t": when.isoformat()},
                )
                return True
        return False


class DeliveryLogTable:
    """Partition key subscription_id, sort key `attempted_at#delivery_id#attempt`: newest first."""

    def __init__(self, table: Any, ttl: timedelta) -> None:
        self._table = table
        self._ttl = ttl

    def record(self, attempts: Sequence[AttemptRecord]) -> None:
        with self._table.batch_writer() as batch:
            for attempt in attempts:
                item = attempt.model_dump(mode="json", exclude_none=True, exclude={"event"})
                if attempt.event is not None:
                    # A string, not a map: metadata may hold floats DynamoDB would refuse.
                    item["event"] = attempt.event.model_dump_json()
                item["latency_ms"] = Decimal(str(attempt.latency_ms))
                item["sk"] = f"{item['attempted_at']}#{attempt.delivery_id}#{attempt.attempt:03d}"
                item["expires_at"] = _epoch(attempt.attempted_at + self._ttl)
                batch.put_item(Item=item)

    def page(
        self, subscription_id: str, limit: int, cursor: str | None, outcome: str | None = None
    ) -> tuple[list[AttemptRecord], str | None]:
        """Newest first; `outcome` "success" or "failure" filters (pages may come up short)."""
        extra: dict[str, Any] = {"ScanIndexForward": False}
        if outcome is not None:
            extra["FilterExpression"] = "outcome = :d" if outcome == "success" else "outcome <> :d"
            extra["ExpressionAttributeValues"] = {":d": "delivered"}
        response = _query_page(
            self._table, "subscription_id", subscription_id, limit, cursor, **extra
        )
        records = [_attempt(item) for item in response.get("Items", [])]
        return records, _encode_cursor(response.get("LastEvaluatedKey"))

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


def _attempt(item: dict[str, Any]) -> AttemptRecord:
    fields = {k: v for k, v in item.items() if k not in {"sk", "expires_at"}}
    fields["latency_ms"] = float(fields["latency_ms"])
    fields["attempt"] = int(fields["attempt"])
    if "status_code" in fields:
        fields["status_code"] = int(fields["status_code"])
    if "event" in fields:
        fields["event"] = ShipmentEvent.model_validate_json(fields["event"])
    return AttemptRecord.model_validate(fields)


class EventClaimsTable:
    """Partition key id = `carrier#carrier_event_id`; expires after the dedup window."""

    def __init__(self, table: Any, window: timedelta) -> None:
        self._table = table
        self._window = window

    @staticmethod
    def _id(carrier: str, carrier_event_id: str) -> str:
        return f"{carrier}#{carrier_event_id}"

    def claim(
        self, carrier: str, carrier_event_id: str, event_id: str, now: datetime
    ) -> Claim | None:
        try:
            self._table.put_item(
                Item={
                    "id": self._id(carrier, carrier_event_id),
                    "event_id": event_id,
                    "state": "pending",
                    "claimed_at": now.isoformat(),
                    "expiration": _epoch(now + self._window),
                },
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            raw: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            old = _deserialize(raw) if raw else self._read(carrier, carrier_event_id)
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
            if _is_condition_failure(error):
                return False
            raise
        return True

    def confirm(self, carrier: str, queued: Sequence[tuple[str, str]], now: datetime) -> None:
        with self._table.batch_writer(overwrite_by_pkeys=["id"]) as batch:
            for carrier_event_id, event_id in queued:
                batch.put_item(
                    Item={
                        "id": self._id(carrier, carrier_event_id),
                        "event_id": event_id,
                        "state": "queued",
                        "claimed_at": now.isoformat(),
                        "expiration": _epoch(now + self._window),
                    }
                )

    def release(self, carrier: str, carrier_event_ids: Sequence[str]) -> None:
        with self._table.batch_writer() as batch:
            for carrier_event_id in carrier_event_ids:
                batch.delete_item(Key={"id": self._id(carrier, carrier_event_id)})


def _deserialize(raw: dict[str, Any]) -> dict[str, Any]:
    """A low-level item (as errors carry it) in the resource API's plain values."""
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in raw.items()}


def _claim(item: dict[str, Any]) -> Claim:
    return Claim(
        event_id=str(item["event_id"]),
        confirmed=item.get("state") == "queued",
        claimed_at=datetime.fromisoformat(str(item["claimed_at"])),
    )


class DeliveryMarksTable:
    """`delivered#<delivery_id>` items in the Idempotency table: what must not be POSTed again."""

    BATCH_GET_MAX = 100

    def __init__(self, table: Any, window: timedelta) -> None:
        self._table = table
        self._window = window

    @staticmethod
    def _id(delivery_id: str) -> str:
        return f"delivered#{delivery_id}"

    def delivered(self, delivery_ids: Sequence[str]) -> set[str]:
        client = self._table.meta.client
        name = self._table.name
        found: set[str] = set()
        ids = list(dict.fromkeys(delivery_ids))
        for start in range(0, len(ids), self.BATCH_GET_MAX):
            # The resource's client takes and returns plain values, like Table does.
            keys = [{"id": self._id(i)} for i in ids[start : start + self.BATCH_GET_MAX]]
            request: dict[str, Any] = {name: {"Keys": keys, "ProjectionExpression": "id"}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(name, []):
                    found.add(str(item["id"]).removeprefix("delivered#"))
                request = response.get("UnprocessedKeys") or {}
        return found

    def mark_delivered(self, delivery_ids: Sequence[str], at: datetime) -> None:
        expiration = _epoch(at + self._window)
        with self._table.batch_writer(overwrite_by_pkeys=["id"]) as batch:
            for delivery_id in delivery_ids:
                batch.put_item(Item={"id": self._id(delivery_id), "expiration": expiration})
