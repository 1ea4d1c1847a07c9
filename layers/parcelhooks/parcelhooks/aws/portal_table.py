"""Portal table: sign-in links and sessions, by the SHA-256 of their token; DynamoDB's TTL
removes them a while after they expire (reads check the expiry themselves)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from parcelhooks.aws.items import is_condition_failure, json_time
from parcelhooks.core.portal_tokens import PortalToken

# DynamoDB's TTL attribute: unix seconds.
EXPIRES_EPOCH = "expires_epoch"


class PortalTable:
    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, token: PortalToken) -> None:
        item = token.model_dump(mode="json", exclude_none=True)
        item[EXPIRES_EPOCH] = int(token.expires_at.timestamp())
        self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(token_hash)")

    def get(self, token_hash: str) -> PortalToken | None:
        item = self._table.get_item(Key={"token_hash": token_hash}, ConsistentRead=True).get("Item")
        if not item:
            return None
        item.pop(EXPIRES_EPOCH, None)
        return PortalToken.model_validate(item)

    def use(self, token_hash: str, at: datetime) -> bool:
        try:
            self._table.update_item(
                Key={"token_hash": token_hash},
                UpdateExpression="SET used_at = :at",
                ConditionExpression=(
                    "attribute_exists(token_hash) AND attribute_not_exists(used_at)"
                ),
                ExpressionAttributeValues={":at": json_time(at)},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def delete(self, token_hash: str) -> None:
        self._table.delete_item(Key={"token_hash": token_hash})
