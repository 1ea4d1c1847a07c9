"""Deliveries table: every attempt, newest event first per subscription, expiring after the
retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlencode

from pydantic import TypeAdapter

from parcelhooks.aws.items import batch_get, epoch, packed_json, unpacked_json
from parcelhooks.aws.pages import CursorSigner, query_page
from parcelhooks.aws.shipments_table import HistoryRef
from parcelhooks.core.deliveries import (
    DONE,
    AttemptRecord,
    LogFilter,
    Outcome,
    OutcomeFilter,
    delivery_id_of,
    is_valid_status,
)
from parcelhooks.core.ids import delivery_time, event_id_of, legacy_delivery_id
from parcelhooks.core.models import ShipmentEvent
from parcelhooks.core.operational import WebhookEvent

EVERY_LINE = LogFilter()
# A line points to its event's history item only if that item outlives it by this much.
HISTORY_MARGIN = timedelta(days=1)


class RecordedEvents(Protocol):
    def recorded_events(self, wanted: Sequence[HistoryRef]) -> dict[str, ShipmentEvent]:
        """The events the shipment history still has of these, by event id."""
        ...


class DeliveryLogTable:
    """Partition key subscription_id, sort key `event time#delivery_id#attempted_at#attempt`:
    newest event first, a delivery's lines together (legacy lines: `attempted_at#...`)."""

    KEY = frozenset({"subscription_id", "sk"})

    def __init__(
        self,
        table: Any,
        ttl: timedelta,
        cursors: CursorSigner | None = None,
        *,
        history_kept: timedelta | None = None,
        history: RecordedEvents | None = None,
        legacy_ids: bool = True,
    ) -> None:
        self._table = table
        self._ttl = ttl
        self._cursors = cursors  # only the merchant API hands out cursors
        # The writer's: how long the shipment history keeps an event (None: never pointed to).
        self._history_kept = history_kept
        # The reader's: where a line that points to its event finds it.
        self._history = history
        # Lines of legacy ids may exist, in the by-delivery index (else neither exists).
        self._legacy_ids = legacy_ids

    def record(self, attempts: Sequence[AttemptRecord]) -> None:
        """A line per attempt. A line keeps its event (for retry and recover) unless the
        event is one ingest recorded in its shipment's history and that item outlives the
        line: then the line names its carrier, and the event is read there."""
        with self._table.batch_writer() as batch:
            for attempt in attempts:
                item = attempt.model_dump(mode="json", exclude_none=True, exclude={"event"})
                if isinstance(attempt.event, ShipmentEvent) and self._in_history(
                    attempt.event, attempt.attempted_at
                ):
                    item["carrier"] = attempt.event.carrier
                elif attempt.event is not None:
                    # JSON, not a map (metadata may hold floats DynamoDB would refuse), packed.
                    item["event"] = packed_json(attempt.event.model_dump_json())
                if isinstance(attempt.event, ShipmentEvent):
                    # On the item itself, so a listing can filter by it.
                    item["tracking_code"] = attempt.event.tracking_code
                item["latency_ms"] = Decimal(str(attempt.latency_ms))
                del item["delivery_id"]  # in the sort key; an attribute only where filed puts it
                item |= filed(attempt)
                item["expires_at"] = epoch(attempt.attempted_at + self._ttl)
                batch.put_item(Item=item)

    def _in_history(self, event: ShipmentEvent, attempted_at: datetime) -> bool:
        """Is the event the one ingest recorded (its id is derived from what names it: alerts,
        tests and events of before have ids of their own), kept past the line's expiry?"""
        if self._history_kept is None:
            return False
        recorded = event.event_id == event_id_of(
            event.carrier, event.merchant_id, event.tracking_code, event.carrier_event_id
        )
        kept_until = event.received_at + self._history_kept
        return recorded and kept_until >= attempted_at + self._ttl + HISTORY_MARGIN

    def _with_events(self, items: Sequence[dict[str, Any]]) -> list[AttemptRecord]:
        """The lines as records, each line that points to its event given it from the
        history (one read for them all; an event the history no longer has stays missing)."""
        records = [_attempt(item) for item in items]
        pointing = [
            (str(i["merchant_id"]), str(i["tracking_code"]), str(i["carrier"]), str(i["event_id"]))
            for i in items
            if "event" not in i and "carrier" in i and "tracking_code" in i
        ]
        if not pointing:
            return records
        assert self._history is not None, "lines that point to the history need its reader"
        found = self._history.recorded_events(list(dict.fromkeys(pointing)))
        return [
            r if r.event is not None else r.model_copy(update={"event": found.get(r.event_id)})
            for r in records
        ]

    def page(
        self,
        subscription_id: str,
        limit: int,
        cursor: str | None,
        only: LogFilter = EVERY_LINE,
    ) -> tuple[list[AttemptRecord], str | None]:
        """Newest first, the lines `only` takes: its time range is a range of sort keys, the
        rest a filter on the items read (pages may come up short, even empty, with a cursor).
        A cursor is good only for the listing it came from."""
        assert self._cursors is not None, "pages with cursors need a CursorSigner"
        scope = cursor_scope(subscription_id, only)
        start = self._cursors.decode(scope, cursor, self.KEY)
        response = query_page(
            self._table, "subscription_id", subscription_id, limit, start, **query_arguments(only)
        )
        records = [_attempt(item) for item in response.get("Items", [])]
        return records, self._cursors.encode(scope, response.get("LastEvaluatedKey"))

    def since(
        self, subscription_id: str, since: datetime, limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        """Attempts from `since` on, oldest first, at most `limit` read; and whether more
        exist. A line is filed under its delivery's event time: every line attempted from
        `since` on is filed from `since - LATE_AFTER` on, or is late (in the by-late-attempt
        index), so both are read."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "subscription_id = :s AND sk >= :since",
            # Sort keys start with a time; this prefix sorts before any of that second.
            "ExpressionAttributeValues": {
                ":s": subscription_id,
                ":since": second_of(since - LATE_AFTER),
            },
        }
        items, more = self._items(limit, kwargs)
        late, more_late = self._items(
            limit,
            {
                "IndexName": BY_LATE_ATTEMPT_INDEX,
                "KeyConditionExpression": "subscription_id = :s AND late_at >= :since",
                "ExpressionAttributeValues": {":s": subscription_id, ":since": instant_of(since)},
            },
        )
        seen = {item["sk"] for item in items}
        late_keys = [{k: i[k] for k in self.KEY} for i in late if i["sk"] not in seen]
        items += list(self._batch_get(late_keys).values())
        records = [r for r in self._with_events(items) if r.attempted_at >= since]
        return sorted(records, key=lambda r: r.attempted_at), more or more_late

    def latest(self, delivery_id: str, subscription_ids: Sequence[str]) -> AttemptRecord | None:
        """The newest attempt of a delivery to one of these subscriptions."""
        records, _ = self.attempts_of(delivery_id, subscription_ids, limit=1)
        return records[0] if records else None

    def attempts_of(
        self, delivery_id: str, subscription_ids: Sequence[str], limit: int
    ) -> tuple[list[AttemptRecord], bool]:
        """A delivery's lines, newest first, at most `limit`, and whether more exist. Its id
        gives where its lines are filed in a subscription's log: the subscription is the one
        of these that has them. A legacy id's lines are found through the by-delivery index
        (none once the log has neither)."""
        if delivery_time(delivery_id) is None:
            if not self._legacy_ids:
                return [], False
            return self._legacy_attempts_of(delivery_id, limit)
        for subscription_id in subscription_ids:
            kwargs = _lines_of(subscription_id, delivery_id) | {"ScanIndexForward": False}
            records, more = self._read(limit, kwargs)
            if records:
                return records, more
        return [], False

    def delivered(self, event: WebhookEvent, subscription_ids: Sequence[str]) -> set[str]:
        """The subscriptions whose delivery of the event has a line that ended it (DONE):
        each delivery's lines read where its id files them; a delivery with none there
        asked of the legacy index, where lines written before ids held their time are (if
        the log may still have such lines)."""
        done: set[str] = set()
        unseen: dict[str, str] = {}
        for subscription_id in subscription_ids:
            outcomes = self._outcomes(subscription_id, delivery_id_of(event, subscription_id))
            if outcomes & DONE:
                done.add(subscription_id)
            elif not outcomes and self._legacy_ids:
                unseen[legacy_delivery_id(event.event_id, subscription_id)] = subscription_id
        if unseen:
            done |= {unseen[d] for d in self._legacy_delivered(list(unseen))}
        return done

    def _outcomes(self, subscription_id: str, delivery_id: str) -> set[str]:
        """The outcomes of the delivery's lines (its own few: the query reads nothing else)."""
        kwargs = _lines_of(subscription_id, delivery_id) | {"ProjectionExpression": "outcome"}
        outcomes: set[str] = set()
        while True:
            response = self._table.query(**kwargs)
            outcomes |= {str(item["outcome"]) for item in response.get("Items", [])}
            if "LastEvaluatedKey" not in response:
                return outcomes
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _legacy_attempts_of(self, delivery_id: str, limit: int) -> tuple[list[AttemptRecord], bool]:
        """A legacy delivery's lines, newest first: their keys from the by-delivery index
        (which holds keys only), the lines themselves from the table."""
        kwargs: dict[str, Any] = {
            "IndexName": BY_DELIVERY_INDEX,
            "KeyConditionExpression": "delivery_id = :d",
            "ExpressionAttributeValues": {":d": delivery_id},
            "ScanIndexForward": False,
        }
        items, more = self._items(limit, kwargs)
        keys = [{k: item[k] for k in self.KEY} for item in items]
        return self._lines(keys), more

    def _legacy_delivered(self, delivery_ids: Sequence[str]) -> set[str]:
        """The legacy deliveries among these whose log has a line that ended them (DONE):
        each delivery's newest keys from the by-delivery index, then their outcomes in one
        read; a delivery not yet found ended and with older lines is asked again for the
        next page."""
        done: set[str] = set()
        pages: dict[str, dict[str, Any] | None] = dict.fromkeys(delivery_ids)
        while pages:
            keys: list[dict[str, Any]] = []
            more: dict[str, dict[str, Any] | None] = {}
            for delivery_id, start in pages.items():
                items, last = self._newest_keys(delivery_id, start)
                keys += items
                if last is not None:
                    more[delivery_id] = last
            found = self._batch_get(keys, projection=("delivery_id", "outcome"))
            done |= {str(item["delivery_id"]) for item in found.values() if item["outcome"] in DONE}
            pages = {d: last for d, last in more.items() if d not in done}
        return done

    def _newest_keys(
        self, delivery_id: str, start: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """A page of the delivery's line keys, newest first, from `start`; and where the next
        page starts (None: no older line)."""
        query: dict[str, Any] = {
            "IndexName": BY_DELIVERY_INDEX,
            "KeyConditionExpression": "delivery_id = :d",
            "ExpressionAttributeValues": {":d": delivery_id},
            "ScanIndexForward": False,
            "Limit": DONE_LOOKUP_LINES,
        }
        if start is not None:
            query["ExclusiveStartKey"] = start
        response = self._table.query(**query)
        keys = [{k: item[k] for k in self.KEY} for item in response.get("Items", [])]
        return keys, response.get("LastEvaluatedKey")

    def _lines(self, keys: Sequence[Mapping[str, Any]]) -> list[AttemptRecord]:
        """The lines with these keys, in the keys' order (a line gone meanwhile is left out),
        with their events."""
        found = self._batch_get(keys)
        ordered = [found.get((key["subscription_id"], key["sk"])) for key in keys]
        items = [item for item in ordered if item is not None]
        return self._with_events(items)

    def _batch_get(
        self, keys: Sequence[Mapping[str, Any]], projection: Sequence[str] = ()
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The items with these keys, by key (`projection`: only those attributes, and the
        keys)."""
        attributes = [*self.KEY, *projection] if projection else []
        items = batch_get(self._table, keys, attributes=attributes)
        return {(item["subscription_id"], item["sk"]): item for item in items}

    def _read(self, limit: int, kwargs: dict[str, Any]) -> tuple[list[AttemptRecord], bool]:
        """At most `limit` lines of the query, with their events; and whether more exist."""
        items, more = self._items(limit, kwargs)
        return self._with_events(items), more

    def _items(self, limit: int, kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """At most `limit` items of the query, page after page; and whether more exist."""
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            response = self._table.query(Limit=limit - len(items), **kwargs)
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return items, False
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return items, True


# Keys only (template.yaml), of lines written before delivery ids held their event's time
# (legacy ids): those lines are read from the table by those keys. Lines written since do
# not have the attribute it is keyed on, so they write nothing to it.
BY_DELIVERY_INDEX = "by-delivery-keys"
# Keys only: the lines attempted more than LATE_AFTER after their delivery's event time
# (a merchant's retry, a recover or redrive, an endpoint paused for long), by attempt time.
BY_LATE_ATTEMPT_INDEX = "by-late-attempt"
# Longer than the first attempts of the retry schedule: most lines are filed under their
# event time without being late. What it trades: a write to the late index for each line
# after it, against the lines a recover reads before its `since`.
LATE_AFTER = timedelta(minutes=15)
# A delivery's lines read per page to find the one that ended it: the success is its last
# line but for deferred or held lines redeliveries may have added after it (then the next page).
DONE_LOOKUP_LINES = 20
_EVENT: TypeAdapter[WebhookEvent] = TypeAdapter(WebhookEvent)
# What a line's item holds beside its record's fields.
_NOT_FIELDS = frozenset({"sk", "expires_at", "tracking_code", "carrier", "late_at"})
# Sorts after `.` and `Z`, what follows the second in a sort key: a bound of `<second>~`
# takes every line of that second and none of the next.
_END_OF_SECOND = "~"
# Each outcome filter: its condition on the item and the values that condition names.
_OUTCOMES: Mapping[OutcomeFilter, tuple[str, dict[str, str]]] = {
    "success": ("outcome = :delivered", {":delivered": Outcome.DELIVERED.value}),
    "skipped": ("outcome = :skipped", {":skipped": Outcome.SKIPPED_STALE.value}),
    "held": ("outcome = :held", {":held": Outcome.HELD.value}),
    "exhausted": ("outcome = :exhausted", {":exhausted": Outcome.EXHAUSTED.value}),
    "failure": (
        "outcome <> :delivered AND outcome <> :skipped AND outcome <> :held",
        {
            ":delivered": Outcome.DELIVERED.value,
            ":skipped": Outcome.SKIPPED_STALE.value,
            ":held": Outcome.HELD.value,
        },
    ),
}


def filed(attempt: AttemptRecord) -> dict[str, str]:
    """Where a line is filed in its subscription's log: under its delivery's event time
    (from its id), then the delivery, then the attempt's time, so the lines of a delivery
    are found by its id and listed together. A line attempted LATE_AFTER after that time
    is also in the late index; a legacy id's line is filed under its attempt time and in
    the by-delivery index, as lines were before."""
    attempted = instant_of(attempt.attempted_at)
    event_at = delivery_time(attempt.delivery_id)
    if event_at is None:
        return {
            "sk": f"{attempted}#{attempt.delivery_id}#{attempt.attempt:03d}",
            "delivery_id": attempt.delivery_id,
        }
    where = {
        "sk": f"{instant_of(event_at)}#{attempt.delivery_id}#{attempted}#{attempt.attempt:03d}"
    }
    if attempt.attempted_at - event_at > LATE_AFTER:
        where["late_at"] = attempted
    return where


def _lines_of(subscription_id: str, delivery_id: str) -> dict[str, Any]:
    """A query's arguments for a (non-legacy) delivery's lines, oldest first."""
    event_at = delivery_time(delivery_id)
    assert event_at is not None, "a legacy id's lines are found through the index"
    return {
        "KeyConditionExpression": "subscription_id = :s AND begins_with(sk, :d)",
        "ExpressionAttributeValues": {
            ":s": subscription_id,
            ":d": f"{instant_of(event_at)}#{delivery_id}#",
        },
    }


def instant_of(moment: datetime) -> str:
    """An instant as sort keys hold it: UTC to the microsecond, always the same length."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def second_of(instant: datetime) -> str:
    """The start of a sort key in that second (`2026-11-28T09:58:00`): it sorts before
    every key of that second. Zero-padded for any year, so it compares as a string."""
    return instant.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def query_arguments(only: LogFilter) -> dict[str, Any]:
    """query_page's arguments for the lines `only` takes, newest first."""
    values: dict[str, str] = {}
    if only.since is not None:
        values[":since"] = second_of(only.since)
    if only.until is not None:
        values[":until"] = second_of(only.until) + _END_OF_SECOND
    # DynamoDB takes one condition on the sort key: a range is a BETWEEN.
    sort_condition = {
        (True, True): "sk BETWEEN :since AND :until",
        (True, False): "sk >= :since",
        (False, True): "sk <= :until",
        (False, False): None,
    }[(":since" in values, ":until" in values)]
    conditions: list[str] = []
    if only.outcome is not None:
        condition, named = _OUTCOMES[only.outcome]
        conditions.append(condition)
        values |= named
    if only.event_type is not None:
        conditions.append("event_type = :event_type")
        values[":event_type"] = only.event_type
    if only.tracking_code is not None:
        # Lines written before the log kept a tracking code have none: they never match.
        conditions.append("tracking_code = :tracking_code")
        values[":tracking_code"] = only.tracking_code
    arguments: dict[str, Any] = {"ScanIndexForward": False, "sort_condition": sort_condition}
    if conditions:
        arguments["FilterExpression"] = " AND ".join(conditions)
    if values:
        arguments["ExpressionAttributeValues"] = values
    return arguments


def cursor_scope(subscription_id: str, only: LogFilter) -> str:
    """What a cursor is good for: this subscription's listing under these filters (another
    filter is another list, and DynamoDB refuses a start outside the key range). The
    unfiltered listing keeps the scope it always had, so its cursors stay good."""
    filters = [
        ("outcome", only.outcome),
        ("event_type", only.event_type),
        ("tracking_code", only.tracking_code),
        ("since", second_of(only.since) if only.since else None),
        ("until", second_of(only.until) if only.until else None),
    ]
    named = [(name, value) for name, value in filters if value is not None]
    return f"deliveries/{subscription_id}" + (f"?{urlencode(named)}" if named else "")


def _attempt(item: dict[str, Any]) -> AttemptRecord:
    fields = {k: v for k, v in item.items() if k not in _NOT_FIELDS}
    # A line of a (non-legacy) id holds it only in its sort key: `time#id#...`.
    fields.setdefault("delivery_id", str(item["sk"]).split("#")[1])
    fields["latency_ms"] = float(fields["latency_ms"])
    fields["attempt"] = int(fields["attempt"])
    if "status_code" in fields:
        status = int(fields["status_code"])
        # Lines written before status codes were bounded may hold any number: not a status.
        fields["status_code"] = status if is_valid_status(status) else None
    if "event" in fields:
        fields["event"] = _EVENT.validate_json(unpacked_json(fields["event"]))
    return AttemptRecord.model_validate(fields)
