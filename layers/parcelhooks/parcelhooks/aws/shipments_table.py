"""Shipments table: each shipment's state and its events, per merchant and tracking code.

Partition key `merchant_tracking` = `<merchant_id>#<tracking_code>` (owner ids hold no "#",
so the first "#" splits it), sort key `sk`:

- `state#<carrier>`: the shipment's state (last sequence, version, the newest events);
  written by ingest with a compare-and-set on `version`;
- `event#<carrier>#<event_id>`: one item per event, the event as queued, written with a
  condition that it is not there yet: it is also the event's dedupe claim (an event's id is
  derived from its carrier_event_id). The history is put in order by each event's
  `sequence` when read.

A state item also holds what the stalled/late sweep needs (`promised_day`, `seen_uf`,
`told_episodes`)
and, while an alert is pending, `due_at` (epoch seconds) with `due_shard`: the sparse
`by-due` index (partition `due_shard`, one of DUE_SHARDS, sort `due_at`) lists exactly the
shipments the sweep has to look at, earliest first, and nothing else.

One partition holds every carrier's shipment of one tracking code, so the merchant API
answers `GET /v1/shipments/{tracking_code}` without knowing the carriers. Every item
expires (TTL `expires_at`) after the retention; the state's is pushed on by each event.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError

from parcelhooks.aws.items import (
    batch_get,
    deserialize,
    epoch,
    is_condition_failure,
    packed_json,
    unpacked_json,
)
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.shipments import Entry, ShipmentKey, ShipmentState
from parcelhooks.core.statuses import Status

# History items were keyed by sequence, this many digits, before they were the dedupe claim.
OLD_SEQUENCE_DIGITS = 12
BY_ORDER_INDEX = "by-order"
BY_DUE_INDEX = "by-due"
# The by-due index's partitions: writes spread over them, the sweep queries each.
DUE_SHARDS = 4
STATE = "state#"
EVENT = "event#"


# (merchant id, tracking code, carrier, event id): where an event's history item is.
type HistoryRef = tuple[str, str, str, str]


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


def due_shard(merchant_tracking: str) -> str:
    return str(zlib.crc32(merchant_tracking.encode()) % DUE_SHARDS)


def _event_sk(carrier: str, event_id: str) -> str:
    return f"{EVENT}{carrier}#{event_id}"


def _event_key(event: ShipmentEvent) -> dict[str, str]:
    return {
        "merchant_tracking": partition(event.merchant_id, event.tracking_code),
        "sk": _event_sk(event.carrier, event.event_id),
    }


def _history_event(item: dict[str, Any]) -> ShipmentEvent:
    return ShipmentEvent.model_validate_json(unpacked_json(item["event"]))


class HistoryItemVanishedError(RuntimeError):
    """A history item refused a write as there, then was not found (expired meanwhile)."""


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
        wanted = {tuple(_state_key(key).values()): key for key in keys}
        found = self._batch_get([(pk, sk) for pk, sk in wanted])
        return {
            key: _state(found[k]) if k in found else ShipmentState() for k, key in wanted.items()
        }

    def save(
        self,
        key: ShipmentKey,
        state: ShipmentState,
        previous: ShipmentState,
        expires: datetime,
        *,
        order_id: str | None = None,
        due_at: datetime | None = None,
    ) -> ShipmentState | None:
        """Write `state` if the stored one is still `previous`; else the stored one. An
        `order_id` files the shipment under that order (the `by-order` index); `due_at`
        under the time the sweep should look at it (the `by-due` index; None: out of it)."""
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
        sets, removes = _watch_fields(state, due_at, _state_key(key)["merchant_tracking"])
        for name, value in sets.items():
            update += f", {name} = :{name}"
            values[f":{name}"] = value
        if removes:
            update += " REMOVE " + ", ".join(removes)
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

    # -- the sweep: shipments due an alert ----------------------------------------------

    def due_states(self, now: datetime, limit: int) -> list[tuple[ShipmentKey, ShipmentState]]:
        """The shipments filed as due at or before `now` (at most `limit` per shard,
        earliest first), with their states read consistently."""
        keys = [key for shard in range(DUE_SHARDS) for key in self._due(str(shard), now, limit)]
        items = self._batch_get(keys)
        return [
            (
                ShipmentKey(str(i["merchant_id"]), str(i["carrier"]), str(i["tracking_code"])),
                _state(i),
            )
            for i in items.values()
        ]

    def latest_events(
        self, wanted: Sequence[tuple[ShipmentKey, Entry]]
    ) -> dict[tuple[ShipmentKey, str], ShipmentEvent]:
        """The history items of these (shipment, entry) that still exist, by event id. An
        item written before history items were keyed by event id is found by its sequence."""
        keys: dict[tuple[str, str], tuple[ShipmentKey, str]] = {}
        for key, entry in wanted:
            pk = partition(key.merchant_id, key.tracking_code)
            found_as = (key, entry.event_id)
            keys[(pk, _event_sk(key.carrier, entry.event_id))] = found_as
            keys[(pk, f"{EVENT}{key.carrier}#{entry.sequence:0{OLD_SEQUENCE_DIGITS}d}")] = found_as
        items = self._batch_get(list(keys))
        return {keys[found]: _history_event(item) for found, item in items.items()}

    def recorded_events(self, wanted: Sequence[HistoryRef]) -> dict[str, ShipmentEvent]:
        """The recorded events these (merchant, tracking code, carrier, event id) name that
        the history still has, by event id."""
        keys = [
            (partition(merchant_id, tracking_code), _event_sk(carrier, event_id))
            for merchant_id, tracking_code, carrier, event_id in wanted
        ]
        return {
            str(sk).rsplit("#", 1)[1]: _history_event(item)
            for (_, sk), item in self._batch_get(keys).items()
        }

    def mark(self, key: ShipmentKey, state: ShipmentState, due_at: datetime | None) -> bool:
        """Write the sweep's marks (`told_episodes`, the next `due_at`) if the stored state
        is still `state.version`, bumping it (an ingest racing it places its events again);
        False when an event changed the shipment meanwhile."""
        state_key = _state_key(key)
        sets, removes = _watch_fields(state, due_at, state_key["merchant_tracking"])
        values = {f":{name}": value for name, value in sets.items()}
        values |= {":version": state.version + 1, ":previous": state.version}
        update = "SET " + ", ".join(["version = :version", *(f"{n} = :{n}" for n in sets)])
        if removes:
            update += " REMOVE " + ", ".join(removes)
        try:
            self._table.update_item(
                Key=state_key,
                UpdateExpression=update,
                ConditionExpression="version = :previous",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def _due(self, shard: str, now: datetime, limit: int) -> list[tuple[str, str]]:
        kwargs: dict[str, Any] = {
            "IndexName": BY_DUE_INDEX,
            "KeyConditionExpression": "due_shard = :shard AND due_at <= :now",
            "ExpressionAttributeValues": {":shard": shard, ":now": epoch(now)},
            "Limit": limit,
        }
        found: list[tuple[str, str]] = []
        while len(found) < limit:
            response = self._table.query(**kwargs)
            found += [
                (str(i["merchant_tracking"]), str(i["sk"])) for i in response.get("Items", [])
            ]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            kwargs["Limit"] = limit - len(found)
        return found

    def _batch_get(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The items of these (merchant_tracking, sk) that exist, read consistently."""
        wanted = [{"merchant_tracking": pk, "sk": sk} for pk, sk in dict.fromkeys(keys)]
        items = batch_get(self._table, wanted, consistent=True)
        return {(str(item["merchant_tracking"]), str(item["sk"])): item for item in items}

    def record(self, event: ShipmentEvent, expires: datetime) -> ShipmentEvent | None:
        """The event's history item, written unless one is there (the event's dedupe claim):
        None when written now, else the event as stored."""
        assert event.sequence is not None, "only placed events have a history"
        key = _event_key(event)
        item = key | {
            # JSON, not a map (metadata may hold floats DynamoDB would refuse), packed.
            "event": packed_json(event.model_dump_json()),
            "expires_at": epoch(expires),
        }
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(sk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            raw: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            # Stores that do not return it (MiniStack) are read again.
            stored = (
                deserialize(raw)
                if raw
                else self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            )
            if stored is None:
                raise HistoryItemVanishedError(str(key)) from error
            return _history_event(stored)
        return None

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
        were left out. Items are keyed by event id, so the shipment's whole history is read
        and put in order here (a shipment has tens of events)."""
        items = self._query(partition(merchant_id, tracking_code), f"{EVENT}{carrier}#", None)
        events = sorted((_history_event(item) for item in items), key=_sequence_of)
        return events[-limit:] if limit else [], len(events) > limit

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
    if entry.promised is not None:
        item["d"] = entry.promised.isoformat()
    if entry.region is not None:
        item["u"] = entry.region
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
        promised=date.fromisoformat(str(item["d"])) if "d" in item else None,
        region=str(item["u"]) if "u" in item else None,
    )


def _watch_fields(
    state: ShipmentState, due_at: datetime | None, merchant_tracking: str
) -> tuple[dict[str, Any], list[str]]:
    """The sweep's attributes to set, and those to remove (an empty set cannot be stored;
    without `due_at` the item leaves the by-due index)."""
    values: dict[str, Any] = {
        # Names with "_": no DynamoDB reserved word has one.
        "promised_day": state.promised.isoformat() if state.promised else None,
        "seen_uf": state.region,
        "told_episodes": sorted(state.told) or None,
        "due_at": epoch(due_at) if due_at else None,
        "due_shard": due_shard(merchant_tracking) if due_at else None,
    }
    sets = {name: value for name, value in values.items() if value is not None}
    return sets, [name for name, value in values.items() if value is None]


def _sequence_of(event: ShipmentEvent) -> int:
    return event.sequence or 0


def _state(item: dict[str, Any]) -> ShipmentState:
    promised = item.get("promised_day")
    return ShipmentState(
        last_sequence=int(item.get("last_sequence", 0)),
        version=int(item.get("version", 0)),
        entries=tuple(_entry(e) for e in item.get("entries", [])),
        promised=date.fromisoformat(str(promised)) if promised else None,
        region=str(item["seen_uf"]) if item.get("seen_uf") else None,
        told=frozenset(str(t) for t in item.get("told_episodes", [])),
    )
