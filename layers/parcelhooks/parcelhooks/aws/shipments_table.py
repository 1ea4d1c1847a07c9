"""Shipments table: each shipment's state and its events, per merchant and tracking code.

Partition key `merchant_tracking` = `<merchant_id>#<tracking_code>` (owner ids hold no "#",
so the first "#" splits it), sort key `sk`:

- `state#<carrier>`: the shipment's state (last sequence, version, the newest events);
  written by ingest with a compare-and-set on `version`;
- `event#<carrier>#<sequence, 12 digits>`: one item per event, the event as queued.

One partition holds every carrier's shipment of one tracking code, so the merchant API
answers `GET /v1/shipments/{tracking_code}` without knowing the carriers. Every item
expires (TTL `expires_at`) after the retention; the state's is pushed on by each event.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from parcelhooks.aws.items import (
    deserialize,
    epoch,
    is_condition_failure,
    packed_json,
    unpacked_json,
)
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.shipments import Entry, ShipmentKey, ShipmentState
from parcelhooks.core.statuses import Status

SEQUENCE_DIGITS = 12
BY_ORDER_INDEX = "by-order"
BATCH_GET_MAX = 100
STATE = "state#"
EVENT = "event#"


def partition(merchant_id: str, tracking_code: str) -> str:
    return f"{merchant_id}#{tracking_code}"


def order_key(merchant_id: str, order_id: str) -> str:
    """The `by-order` index's key: an order id is the merchant's own (owner ids hold no #)."""
    return f"{merchant_id}#{order_id}"


def _state_key(key: ShipmentKey) -> dict[str, str]:
    return {
        "merchant_tracking": partition(key.merchant_id, key.tracking_code),
        "sk": f"{STATE}{key.carrier}",
    }


def _event_sk(carrier: str, sequence: int) -> str:
    return f"{EVENT}{carrier}#{sequence:0{SEQUENCE_DIGITS}d}"


class ShipmentsTable:
    def __init__(self, table: Any) -> None:
        self._table = table

    # -- ingest: the state, compare-and-set ------------------------------------------------

    def load(self, key: ShipmentKey) -> ShipmentState:
        item = self._table.get_item(Key=_state_key(key), ConsistentRead=True).get("Item")
        return _state(item) if item else ShipmentState()

    def load_many(self, keys: Collection[ShipmentKey]) -> dict[ShipmentKey, ShipmentState]:
        """Each shipment's state, a fresh one for a shipment not seen yet: one consistent
        BatchGetItem per hundred."""
        client = self._table.meta.client
        name = self._table.name
        wanted = list(dict.fromkeys(keys))
        by_key = {tuple(_state_key(key).values()): key for key in wanted}
        found: dict[ShipmentKey, ShipmentState] = dict.fromkeys(wanted, ShipmentState())
        for start in range(0, len(wanted), BATCH_GET_MAX):
            chunk = [_state_key(key) for key in wanted[start : start + BATCH_GET_MAX]]
            request: dict[str, Any] = {name: {"Keys": chunk, "ConsistentRead": True}}
            while request:
                # The resource's client takes and returns plain values, like Table does.
                response = client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(name, []):
                    found[by_key[(item["merchant_tracking"], item["sk"])]] = _state(item)
                request = response.get("UnprocessedKeys") or {}
        return found

    def save(
        self,
        key: ShipmentKey,
        state: ShipmentState,
        previous: ShipmentState,
        expires: datetime,
        order_id: str | None = None,
    ) -> ShipmentState | None:
        """Write `state` if the stored one is still `previous`; else the stored one. An
        `order_id` files the shipment under that order (the `by-order` index)."""
        values: dict[str, Any] = {
            ":seq": state.last_sequence,
            ":version": state.version,
            ":entries": [_entry_item(e) for e in state.entries],
            ":m": key.merchant_id,
            ":c": key.carrier,
            ":t": key.tracking_code,
            ":expires": epoch(expires),
        }
        if previous.version == 0:
            condition = "attribute_not_exists(sk)"
        else:
            condition = "version = :previous"
            values[":previous"] = previous.version
        update = (
            "SET last_sequence = :seq, version = :version, entries = :entries, "
            "merchant_id = :m, carrier = :c, tracking_code = :t, expires_at = :expires"
        )
        if order_id is not None:
            # The same value again is no change: the keys-only index is written when it is.
            update += ", merchant_order = :o"
            values[":o"] = order_key(key.merchant_id, order_id)
        try:
            self._table.update_item(
                Key=_state_key(key),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                # The winner's state comes back with the refusal: no second read to retry.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            raw: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            # Stores that do not return it (MiniStack) are read again.
            return _state(deserialize(raw)) if raw else self.load(key)
        return None

    def keep(self, events: Sequence[ShipmentEvent], expires: datetime) -> None:
        """One history item per event (a resend overwrites its own item: same key)."""
        with self._table.batch_writer(overwrite_by_pkeys=["merchant_tracking", "sk"]) as batch:
            for event in events:
                assert event.sequence is not None, "only placed events have a history"
                batch.put_item(
                    Item={
                        "merchant_tracking": partition(event.merchant_id, event.tracking_code),
                        "sk": _event_sk(event.carrier, event.sequence),
                        # JSON, not a map (metadata may hold floats DynamoDB would refuse),
                        # packed.
                        "event": packed_json(event.model_dump_json()),
                        "expires_at": epoch(expires),
                    }
                )

    # -- merchant API: reading -----------------------------------------------------------

    def shipments_of_order(self, merchant_id: str, order_id: str) -> list[tuple[str, str]]:
        """(tracking code, carrier) of every shipment of this merchant filed under the order,
        by tracking code."""
        kwargs: dict[str, Any] = {
            "IndexName": BY_ORDER_INDEX,
            "KeyConditionExpression": "merchant_order = :o",
            "ExpressionAttributeValues": {":o": order_key(merchant_id, order_id)},
        }
        found: list[tuple[str, str]] = []
        while True:
            response = self._table.query(**kwargs)
            for item in response.get("Items", []):
                tracking_code = str(item["merchant_tracking"]).split("#", 1)[1]
                found.append((tracking_code, str(item["sk"]).removeprefix(STATE)))
            if "LastEvaluatedKey" not in response:
                return sorted(found)
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def states(
        self, merchant_id: str, tracking_code: str, carrier: str | None
    ) -> dict[str, ShipmentState]:
        """Carrier -> state of every shipment of this merchant under this tracking code."""
        prefix = f"{STATE}{carrier}" if carrier else STATE
        items = self._query(partition(merchant_id, tracking_code), prefix, limit=None)
        found = {str(item["sk"]).removeprefix(STATE): _state(item) for item in items}
        # A carrier named exactly: begins_with would also match a longer carrier id.
        return {c: s for c, s in found.items() if carrier is None or c == carrier}

    def events(
        self, merchant_id: str, tracking_code: str, carrier: str, limit: int
    ) -> tuple[list[ShipmentEvent], bool]:
        """The newest `limit` events of one shipment, in sequence order; whether older ones
        were left out."""
        items = self._query(
            partition(merchant_id, tracking_code), f"{EVENT}{carrier}#", limit=limit + 1
        )
        events = [ShipmentEvent.model_validate_json(unpacked_json(item["event"])) for item in items]
        return list(reversed(events[:limit])), len(events) > limit

    def _query(self, pk: str, prefix: str, limit: int | None) -> list[dict[str, Any]]:
        """Items of the partition whose sort key starts with `prefix`, newest first."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "merchant_tracking = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": pk, ":prefix": prefix},
            "ScanIndexForward": False,
        }
        items: list[dict[str, Any]] = []
        while limit is None or len(items) < limit:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            response = self._table.query(**kwargs)
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return items


# Short attribute names: the state is rewritten on every event, and a write costs a unit
# per KB, so MAX_ENTRIES entries must fit in one.
def _entry_item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "e": entry.event_id,
        "q": entry.sequence,
        "s": entry.status.value,
        "o": entry.occurred_at.astimezone(UTC).isoformat(),
        "x": entry.stale,
    }
    if entry.previous_status is not None:
        item["p"] = entry.previous_status.value
    if entry.correction:
        item["k"] = True
    if entry.corrects is not None:
        item["c"] = entry.corrects
    if entry.withdrawn_by is not None:
        item["w"] = entry.withdrawn_by
    return item


def _entry(item: dict[str, Any]) -> Entry:
    return Entry(
        event_id=str(item["e"]),
        sequence=int(item["q"]),
        status=Status(item["s"]),
        occurred_at=datetime.fromisoformat(str(item["o"])),
        previous_status=Status(item["p"]) if "p" in item else None,
        stale=bool(item["x"]),
        correction=bool(item.get("k", False)),
        corrects=str(item["c"]) if "c" in item else None,
        withdrawn_by=str(item["w"]) if "w" in item else None,
    )


def _state(item: dict[str, Any]) -> ShipmentState:
    return ShipmentState(
        last_sequence=int(item.get("last_sequence", 0)),
        version=int(item.get("version", 0)),
        entries=tuple(_entry(e) for e in item.get("entries", [])),
    )
