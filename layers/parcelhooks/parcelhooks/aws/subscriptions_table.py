"""Subscriptions table: merchant_id + subscription_id, so a merchant only ever sees its own."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from parcelhooks.aws.items import is_condition_failure, json_time
from parcelhooks.aws.pages import CursorSigner, query_page
from parcelhooks.core.models import Subscription


class SubscriptionsTable:
    """Partition key merchant_id, sort key subscription_id: a merchant only ever sees its own."""

    KEY = frozenset({"merchant_id", "subscription_id"})

    def __init__(self, table: Any, cursors: CursorSigner | None = None) -> None:
        self._table = table
        self._cursors = cursors  # only the merchant API hands out cursors

    def put(self, subscription: Subscription) -> None:
        self._table.put_item(Item=subscription_item(subscription))

    def replace(self, subscription: Subscription, previous: Subscription) -> bool:
        """Write `subscription` only if the stored one is still `previous` (by updated_at)."""
        item = subscription_item(subscription)
        if previous.updated_at is None:
            condition = "attribute_exists(subscription_id) AND attribute_not_exists(updated_at)"
            values: dict[str, Any] = {}
        else:
            condition = "attribute_exists(subscription_id) AND updated_at = :previous"
            values = {":previous": json_time(previous.updated_at)}
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, merchant_id: str, subscription_id: str) -> Subscription | None:
        response = self._table.get_item(
            Key={"merchant_id": merchant_id, "subscription_id": subscription_id},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return subscription_from_item(item) if item else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Subscription], str | None]:
        assert self._cursors is not None, "pages with cursors need a CursorSigner"
        scope = f"subscriptions/{merchant_id}"
        start = self._cursors.decode(scope, cursor, self.KEY)
        response = query_page(self._table, "merchant_id", merchant_id, limit, start)
        items = [subscription_from_item(item) for item in response.get("Items", [])]
        return items, self._cursors.encode(scope, response.get("LastEvaluatedKey"))

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
        """Every subscription of the merchant, read consistently: the fan-out takes a retry
        whose subscription is not listed as deleted, so one just made must be listed."""
        found: list[Subscription] = []
        start: dict[str, str] | None = None
        while True:
            response = query_page(
                self._table, "merchant_id", merchant_id, 100, start, ConsistentRead=True
            )
            found.extend(subscription_from_item(item) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return found

    def disable(self, merchant_id: str, subscription_id: str, reason: str, at: datetime) -> bool:
        """Whether this call disabled it: False when it was off already, or deleted."""
        try:
            self._table.update_item(
                Key={"merchant_id": merchant_id, "subscription_id": subscription_id},
                # updated_at moves too, so a merchant's PATCH in flight cannot undo this.
                UpdateExpression=(
                    "SET enabled = :f, disabled_reason = :r, disabled_at = :t, updated_at = :t"
                ),
                ConditionExpression="attribute_exists(subscription_id) AND enabled = :on",
                ExpressionAttributeValues={
                    ":f": False,
                    ":on": True,
                    ":r": reason,
                    ":t": json_time(at),
                },
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            return False
        return True

    def delete(self, merchant_id: str, subscription_id: str) -> bool:
        try:
            self._table.delete_item(
                Key={"merchant_id": merchant_id, "subscription_id": subscription_id},
                ConditionExpression="attribute_exists(subscription_id)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True


def subscription_item(subscription: Subscription) -> dict[str, Any]:
    # DynamoDB takes numbers as Decimal, never float (rate_limit_per_second is one).
    dumped = subscription.model_dump_json(exclude={"id", "filter"}, exclude_none=True)
    item: dict[str, Any] = json.loads(dumped, parse_float=Decimal)
    item["subscription_id"] = subscription.id
    if subscription.filter is not None:
        # As JSON text: a pattern's numbers are JSON's (1e-200 is one), not DynamoDB's.
        item["filter"] = json.dumps(subscription.filter, separators=(",", ":"))
    return item


def subscription_from_item(item: dict[str, Any]) -> Subscription:
    pattern = item.get("filter")
    return Subscription.model_validate(
        {
            **item,
            "id": item["subscription_id"],
            "filter": json.loads(pattern) if isinstance(pattern, str) else pattern,
        }
    )
