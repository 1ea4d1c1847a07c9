"""ApiKeys table: keys stored by the SHA-256 of the key, never the key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parcelhooks.auth.keys import ApiKeyRecord


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
