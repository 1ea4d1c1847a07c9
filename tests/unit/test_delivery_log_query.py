"""The delivery log's queries as DeliveryLogTable builds them, against a stand-in table that
keeps what it is asked: the time range on the sort key, the other filters on the items, and
cursors scoped to their filters. tests/component/test_aws_adapters.py runs them on moto."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from parcelhooks.aws.delivery_log_table import (
    DeliveryLogTable,
    cursor_scope,
    query_arguments,
    second_of,
)
from parcelhooks.aws.pages import CursorSigner
from parcelhooks.core.deliveries import LogFilter
from parcelhooks.core.errors import InvalidCursorError
from parcelhooks.merchant_api.samples import sample_event
from testkit.factories import NOW, attempt_record, shipment_event

SINCE = datetime(2026, 11, 28, 9, 58, 0, 250_000, tzinfo=UTC)
UNTIL = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
LAST_KEY = {"subscription_id": "sub_1", "sk": "2026-11-28T10:00:00Z#dlv_1#001"}


class _Batch:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self._items = items

    def __enter__(self) -> _Batch:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def put_item(self, Item: dict[str, Any]) -> None:  # noqa: N803
        self._items.append(Item)


class RecordingTable:
    """Keeps every Query it is asked and every item written; answers one page of nothing,
    with `last_key` as its LastEvaluatedKey when given."""

    def __init__(self, last_key: dict[str, str] | None = None) -> None:
        self.queries: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        self._last_key = last_key

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        return {"Items": [], **({"LastEvaluatedKey": self._last_key} if self._last_key else {})}

    def batch_writer(self) -> _Batch:
        return _Batch(self.items)


def _log(table: RecordingTable) -> DeliveryLogTable:
    return DeliveryLogTable(table, timedelta(days=30), CursorSigner(lambda: b"k" * 32))


def _asked(only: LogFilter) -> dict[str, Any]:
    table = RecordingTable()
    _log(table).page("sub_1", 25, None, only)
    [query] = table.queries
    return query


def test_an_unfiltered_page_is_the_partition_newest_first_with_no_filter() -> None:
    assert _asked(LogFilter()) == {
        "KeyConditionExpression": "subscription_id = :pk",
        "ExpressionAttributeValues": {":pk": "sub_1"},
        "Limit": 25,
        "ScanIndexForward": False,
    }


@pytest.mark.parametrize(
    ("only", "condition", "bounds"),
    [
        (LogFilter(since=SINCE), "sk >= :since", {":since": "2026-11-28T09:58:00"}),
        (LogFilter(until=UNTIL), "sk <= :until", {":until": "2026-11-28T12:00:00~"}),
        (
            LogFilter(since=SINCE, until=UNTIL),
            "sk BETWEEN :since AND :until",
            {":since": "2026-11-28T09:58:00", ":until": "2026-11-28T12:00:00~"},
        ),
    ],
    ids=["since", "until", "both"],
)
def test_since_and_until_are_a_range_of_the_sort_key_not_a_filter(
    only: LogFilter, condition: str, bounds: dict[str, str]
) -> None:
    query = _asked(only)
    assert query["KeyConditionExpression"] == f"subscription_id = :pk AND {condition}"
    assert query["ExpressionAttributeValues"] == {":pk": "sub_1", **bounds}
    assert "FilterExpression" not in query


def test_outcome_event_type_and_tracking_code_are_one_filter_on_the_items() -> None:
    query = _asked(
        LogFilter(outcome="exhausted", event_type="shipment.delivered", tracking_code="QB1BR")
    )
    assert query["KeyConditionExpression"] == "subscription_id = :pk"
    assert query["FilterExpression"] == (
        "outcome = :exhausted AND event_type = :event_type AND tracking_code = :tracking_code"
    )
    assert query["ExpressionAttributeValues"] == {
        ":pk": "sub_1",
        ":exhausted": "exhausted",
        ":event_type": "shipment.delivered",
        ":tracking_code": "QB1BR",
    }


def test_failure_is_every_outcome_but_delivered_skipped_and_held() -> None:
    query = _asked(LogFilter(outcome="failure"))
    assert query["FilterExpression"] == (
        "outcome <> :delivered AND outcome <> :skipped AND outcome <> :held"
    )
    values = query["ExpressionAttributeValues"]
    assert (values[":delivered"], values[":skipped"], values[":held"]) == (
        "delivered",
        "skipped_stale",
        "held",
    )


_EVERY_FILTER = [
    LogFilter(outcome=outcome, event_type=event_type, tracking_code=code, since=since, until=until)
    for outcome, event_type, code, since, until in itertools.product(
        [None, "success", "failure", "skipped", "held", "exhausted"],
        [None, "shipment.delivered"],
        [None, "QB123456785BR"],
        [None, SINCE],
        [None, UNTIL],
    )
]


@pytest.mark.parametrize("only", _EVERY_FILTER)
def test_every_combination_names_exactly_the_values_it_sends(only: LogFilter) -> None:
    # DynamoDB refuses a value no expression uses (`:s` must not pass for a use of `:since`).
    query = _asked(only)
    expressions = query["KeyConditionExpression"] + " " + query.get("FilterExpression", "")
    assert set(re.findall(r":\w+", expressions)) == set(query["ExpressionAttributeValues"])


def test_the_bounds_take_every_line_of_their_seconds_and_none_beyond() -> None:
    table = RecordingTable()
    at = {
        "before": SINCE.replace(microsecond=0) - timedelta(microseconds=1),
        "since_whole": SINCE.replace(microsecond=0),
        "since_fraction": SINCE.replace(microsecond=1),
        "until_whole": UNTIL,
        "until_fraction": UNTIL.replace(microsecond=999_999),
        "after": UNTIL + timedelta(seconds=1),
    }
    _log(table).record(
        [attempt_record(delivery_id=f"dlv_{name}", attempted_at=t) for name, t in at.items()]
    )
    bounds = query_arguments(LogFilter(since=SINCE, until=UNTIL))["ExpressionAttributeValues"]
    taken = {
        item["delivery_id"].removeprefix("dlv_")
        for item in table.items
        if bounds[":since"] <= item["sk"] <= bounds[":until"]
    }
    assert taken == {"since_whole", "since_fraction", "until_whole", "until_fraction"}


def test_a_second_is_read_in_utc_zero_padded_for_any_year() -> None:
    sao_paulo = timezone(timedelta(hours=-3))
    assert second_of(datetime(2026, 11, 28, 6, 58, 0, 999_999, tzinfo=sao_paulo)) == (
        "2026-11-28T09:58:00"
    )
    # strftime writes year 999 as "999", which sorts after "2026".
    assert second_of(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00"


def test_the_unfiltered_list_keeps_the_scope_its_cursors_always_had() -> None:
    assert cursor_scope("sub_1", LogFilter()) == "deliveries/sub_1"


def test_each_filter_is_its_own_scope_and_the_same_filter_the_same_scope() -> None:
    scopes = {cursor_scope("sub_1", only) for only in _EVERY_FILTER}
    assert len(scopes) == len(_EVERY_FILTER)
    # The same second, however it is written, is the same query and the same list.
    in_sao_paulo = SINCE.astimezone(timezone(timedelta(hours=-3))).replace(microsecond=0)
    assert cursor_scope("sub_1", LogFilter(since=SINCE)) == cursor_scope(
        "sub_1", LogFilter(since=in_sao_paulo)
    )


def test_a_cursor_is_good_only_with_the_filters_it_was_handed_out_under() -> None:
    failures = LogFilter(outcome="failure", since=SINCE)
    _, cursor = _log(RecordingTable(last_key=LAST_KEY)).page("sub_1", 1, None, failures)
    assert cursor is not None
    table = RecordingTable()
    _log(table).page("sub_1", 1, cursor, failures)
    assert table.queries[0]["ExclusiveStartKey"] == LAST_KEY
    for other in (
        LogFilter(),
        LogFilter(outcome="failure"),
        LogFilter(outcome="failure", since=SINCE + timedelta(seconds=1)),
        LogFilter(outcome="success", since=SINCE),
    ):
        with pytest.raises(InvalidCursorError):
            _log(table).page("sub_1", 1, cursor, other)
    assert len(table.queries) == 1  # a refused cursor is never a query


def test_a_shipment_events_tracking_code_is_kept_on_the_item_and_read_back_without_it() -> None:
    table = RecordingTable()
    exhausted = sample_event("delivery.exhausted", "merchant-a", NOW)
    _log(table).record(
        [
            attempt_record(delivery_id="dlv_1", event=shipment_event(tracking_code="QB1BR")),
            attempt_record(delivery_id="dlv_2", event=exhausted),
            attempt_record(delivery_id="dlv_3"),
        ]
    )
    assert [item.get("tracking_code") for item in table.items] == ["QB1BR", None, None]
