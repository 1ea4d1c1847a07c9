"""ApiKeys table: keys stored by the SHA-256 of the key, never the key."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from parcelhooks.core.api_keys import ApiKeyRecord, Role, Vocabulary, check_owner_ids

BY_OWNER_INDEX = "by-owner"


class ApiKeysTable:
    """Partition key key_hash: the authorizer finds a key by its hash in one read."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def find(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._table.get_item(Key={"key_hash": key_hash}).get("Item")
        return ApiKeyRecord.model_validate(item) if item else None

    def put(self, record: ApiKeyRecord) -> None:
        """Store a new key; owner and merchant ids are checked here, where every key enters."""
        check_owner_ids(record.owner_id, *(record.merchants or ()))
        self._table.put_item(
            Item=record.model_dump(mode="json", exclude_none=True),
            ConditionExpression="attribute_not_exists(key_hash)",
        )

    def merchants_known(self, merchant_ids: Collection[str]) -> set[str]:
        """Which of these merchants have ever had a key (revoked ones count: they existed)."""
        return {
            merchant_id for merchant_id in set(merchant_ids) if self._has_merchant_key(merchant_id)
        }

    def _has_merchant_key(self, owner_id: str) -> bool:
        kwargs: dict[str, Any] = {
            "IndexName": BY_OWNER_INDEX,
            "KeyConditionExpression": "owner_id = :o",
            "FilterExpression": "#r = :merchant",
            "ExpressionAttributeNames": {"#r": "role"},
            "ExpressionAttributeValues": {":o": owner_id, ":merchant": Role.MERCHANT.value},
        }
        while True:
            response = self._table.query(**kwargs)
            if response.get("Items"):
                return True
            if "LastEvaluatedKey" not in response:
                return False
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def all(self) -> list[ApiKeyRecord]:
        records: list[ApiKeyRecord] = []
        kwargs: dict[str, Any] = {}
        while True:
            response = self._table.scan(**kwargs)
            records.extend(ApiKeyRecord.model_validate(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return records
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def set_vocabulary(self, key_id: str, vocabulary: Vocabulary) -> ApiKeyRecord | None:
        """Set a carrier key's vocabulary; the key as it was, or None if there is no such
        carrier key."""
        for record in self.all():
            if record.key_id == key_id and record.role is Role.CARRIER:
                self._table.update_item(
                    Key={"key_hash": record.key_hash},
                    UpdateExpression="SET vocabulary = :v",
                    ExpressionAttributeValues={":v": vocabulary.value},
                )
                return record
        return None

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
