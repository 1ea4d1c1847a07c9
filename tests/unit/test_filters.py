"""Subscription filters (delivery/filters.py): EventBridge event patterns, our documented subset
(docs/filters.md), matched against the webhook body.

Tables: every matcher matching and not matching the sample body, the reasons a preview gives,
and every kind of invalid pattern with where it is wrong. Properties (hypothesis): checking
and matching never raise, `and` and `$or` obey their laws, `exists` true and false never
both match, and `explain` always agrees with `matches`. The `exists` cases over arrays were
checked against AWS's own matcher (event-ruler), which EventBridge runs.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parcelhooks.delivery.filters import (
    MAX_DEPTH,
    MAX_MATCHERS,
    MAX_PATTERN_BYTES,
    FilterProblem,
    check_filter,
    explain,
    matches,
)

PROPERTY = settings(database=None)

BODY: dict[str, Any] = {
    "type": "shipment.delivered",
    "timestamp": "2026-12-03T10:00:00+00:00",
    "data": {
        "event_id": "evt_01",
        "carrier": "correios",
        "merchant_id": "m1",
        "tracking_code": "QN242960622BR",
        "status": "delivered",
        "status_detail": "to_recipient",
        "action_required": False,
        "occurred_at": "2026-12-03T10:00:00+00:00",
        "estimated_delivery": None,
        "description": "Objeto entregue",
        "location": {"city": "Recife", "state": "PE", "country": "BR", "postal_code": None},
        "order_id": "A-1001",
        "carrier_status": {"code": "01", "type": "BDE", "description": "Objeto entregue"},
        "metadata": {
            "buyer_email": "x@example.com",
            "channel": "whatsapp",
            "weight_kg": 2.5,
            "tags": ["vip", "express"],
        },
        "sequence": 3,
        "previous_status": "out_for_delivery",
        "stale": False,
        "corrects": None,
    },
}


def body_with(**data: Any) -> dict[str, Any]:
    """The sample body with some of `data`'s fields replaced."""
    body = copy.deepcopy(BODY)
    body["data"].update(data)
    return body


def on_data(**fields: Any) -> dict[str, Any]:
    return {"data": fields}


def on_metadata(**fields: Any) -> dict[str, Any]:
    return {"data": {"metadata": fields}}


# --- matching the sample body -----------------------------------------------------------------

MATCHING = [
    # exact values
    pytest.param(on_data(status=["delivered"]), True, id="status"),
    pytest.param(on_data(status=["posted"]), False, id="status-other"),
    pytest.param(on_data(status=["posted", "delivered"]), True, id="status-any-of"),
    pytest.param(on_data(status=["DELIVERED"]), False, id="status-case-sensitive"),
    pytest.param(on_data(status_detail=["to_recipient"]), True, id="status-detail"),
    pytest.param(on_data(status_detail=["recipient_absent"]), False, id="status-detail-other"),
    pytest.param(on_data(status=["delivered"], carrier=["correios"]), True, id="and"),
    pytest.param(on_data(status=["delivered"], carrier=["jadlog"]), False, id="and-one-fails"),
    pytest.param({"type": ["shipment.delivered"]}, True, id="type"),
    pytest.param({"data": {"carrier_status": {"type": ["BDE"]}}}, True, id="nested-field"),
    # booleans are not numbers or strings
    pytest.param(on_data(action_required=[True]), False, id="action-required-true"),
    pytest.param(on_data(action_required=[False]), True, id="action-required-false"),
    pytest.param(on_data(stale=[False]), True, id="stale-false"),
    pytest.param(on_data(stale=[True]), False, id="stale-true"),
    pytest.param(on_data(stale=[0]), False, id="false-is-not-0"),
    pytest.param(on_data(stale=["false"]), False, id="false-is-not-a-string"),
    # numbers compare by value, never with strings
    pytest.param(on_data(sequence=[3]), True, id="number"),
    pytest.param(on_data(sequence=[3.0]), True, id="number-by-value"),
    pytest.param(on_data(sequence=["3"]), False, id="string-is-not-number"),
    pytest.param(on_data(order_id=["A-1001"]), True, id="string"),
    # metadata
    pytest.param(on_metadata(channel=["whatsapp"]), True, id="metadata"),
    pytest.param(on_metadata(channel=["email"]), False, id="metadata-other"),
    # prefix, suffix, equals-ignore-case
    pytest.param(on_data(tracking_code=[{"prefix": "QN"}]), True, id="prefix"),
    pytest.param(on_data(tracking_code=[{"prefix": "qn"}]), False, id="prefix-case-sensitive"),
    pytest.param(on_data(tracking_code=[{"prefix": "OB"}]), False, id="prefix-other"),
    pytest.param(on_data(sequence=[{"prefix": "3"}]), False, id="prefix-strings-only"),
    pytest.param(on_data(tracking_code=[{"suffix": "BR"}]), True, id="suffix"),
    pytest.param(on_data(tracking_code=[{"suffix": "US"}]), False, id="suffix-other"),
    pytest.param(on_data(carrier=[{"equals-ignore-case": "CORREIOS"}]), True, id="ignore-case"),
    pytest.param(on_data(carrier=[{"equals-ignore-case": "jadlog"}]), False, id="ignore-case-no"),
    # numeric
    pytest.param(on_metadata(weight_kg=[{"numeric": [">=", 1, "<=", 5]}]), True, id="range"),
    pytest.param(on_metadata(weight_kg=[{"numeric": [">", 2.5, "<", 5]}]), False, id="range-open"),
    pytest.param(on_metadata(weight_kg=[{"numeric": [">", 3]}]), False, id="numeric-greater"),
    pytest.param(on_metadata(weight_kg=[{"numeric": ["=", 2.5]}]), True, id="numeric-equal"),
    pytest.param(on_metadata(weight_kg=[{"numeric": ["<", 2.5]}]), False, id="numeric-less"),
    pytest.param(on_data(tracking_code=[{"numeric": [">", 0]}]), False, id="numeric-not-string"),
    pytest.param(on_data(stale=[{"numeric": ["=", 0]}]), False, id="numeric-not-boolean"),
    # arrays in the body: any element will do
    pytest.param(on_metadata(tags=["vip"]), True, id="array-element"),
    pytest.param(on_metadata(tags=["gift"]), False, id="array-no-element"),
    pytest.param(on_metadata(tags=[{"prefix": "exp"}]), True, id="array-prefix"),
    pytest.param(on_metadata(tags=[{"anything-but": "vip"}]), True, id="array-another-element"),
    pytest.param(on_metadata(tags=[{"anything-but": ["vip", "express"]}]), False, id="array-all"),
    # exists
    pytest.param(on_data(nickname=[{"exists": True}]), False, id="missing-exists"),
    pytest.param(on_data(nickname=[{"exists": False}]), True, id="missing-not-exists"),
    pytest.param(on_data(status=[{"exists": True}]), True, id="present-exists"),
    pytest.param(on_data(status=[{"exists": False}]), False, id="present-not-exists"),
    pytest.param(on_data(location=[{"exists": True}]), False, id="object-is-not-a-leaf"),
    pytest.param(on_data(location=[{"exists": False}]), True, id="object-has-no-leaf-value"),
    pytest.param({"shipment": {"id": [{"exists": False}]}}, True, id="missing-parent"),
    pytest.param({"shipment": {"id": [{"exists": True}]}}, False, id="missing-parent-exists"),
    # a missing field matches nothing else, not even anything-but
    pytest.param(on_data(nickname=[{"anything-but": "x"}]), False, id="missing-anything-but"),
    pytest.param(on_data(nickname=[None]), False, id="missing-is-not-null"),
    # null is a value
    pytest.param(on_data(estimated_delivery=[None]), True, id="null"),
    pytest.param(on_data(estimated_delivery=[""]), False, id="null-is-not-empty"),
    pytest.param(on_data(estimated_delivery=[{"exists": True}]), True, id="null-exists"),
    pytest.param(on_data(estimated_delivery=[{"exists": False}]), False, id="null-not-absent"),
    pytest.param(on_data(estimated_delivery=[{"anything-but": "x"}]), True, id="null-anything"),
    pytest.param(on_data(estimated_delivery=[{"prefix": ""}]), False, id="null-not-string"),
    pytest.param(on_data(estimated_delivery=[{"numeric": [">", 0]}]), False, id="null-not-num"),
    pytest.param(on_data(location={"postal_code": [None]}), True, id="nested-null"),
    pytest.param(on_data(status=[None]), False, id="value-is-not-null"),
    # anything-but
    pytest.param(on_data(status=[{"anything-but": "posted"}]), True, id="anything-but"),
    pytest.param(on_data(status=[{"anything-but": "delivered"}]), False, id="anything-but-no"),
    pytest.param(
        on_data(status=[{"anything-but": ["posted", "in_transit"]}]), True, id="anything-but-list"
    ),
    pytest.param(
        on_data(status=[{"anything-but": ["posted", "delivered"]}]), False, id="anything-but-in"
    ),
    pytest.param(on_data(sequence=[{"anything-but": [1, 2]}]), True, id="anything-but-numbers"),
    pytest.param(on_data(sequence=[{"anything-but": 3.0}]), False, id="anything-but-by-value"),
    pytest.param(on_data(sequence=[{"anything-but": "3"}]), True, id="anything-but-typed"),
    pytest.param(
        on_data(carrier=[{"anything-but": {"prefix": "jad"}}]), True, id="anything-but-prefix"
    ),
    pytest.param(
        on_data(carrier=[{"anything-but": {"prefix": "corr"}}]), False, id="anything-but-prefix-no"
    ),
    pytest.param(
        on_data(tracking_code=[{"anything-but": {"suffix": "US"}}]), True, id="anything-but-suffix"
    ),
    pytest.param(
        on_data(tracking_code=[{"anything-but": {"suffix": "BR"}}]),
        False,
        id="anything-but-suffix-no",
    ),
    # $or
    pytest.param(
        {"$or": [on_data(carrier=["jadlog"]), on_data(status=["delivered"])]}, True, id="or"
    ),
    pytest.param(
        {"$or": [on_data(carrier=["jadlog"]), on_data(status=["posted"])]}, False, id="or-none"
    ),
    pytest.param(
        {
            "type": ["shipment.posted"],
            "$or": [on_data(carrier=["jadlog"]), {"type": [{"prefix": ""}]}],
        },
        False,
        id="or-and-other-keys",
    ),
    pytest.param(
        {"data": {"$or": [{"carrier": ["jadlog"]}, {"metadata": {"channel": ["whatsapp"]}}]}},
        True,
        id="or-nested",
    ),
    pytest.param(
        {"data": {"status": ["posted"], "$or": [{"carrier": ["correios"]}, {"stale": [False]}]}},
        False,
        id="or-nested-other-key-fails",
    ),
    pytest.param(
        {
            "$or": [on_data(carrier=["jadlog"]), on_data(stale=[False])],
            "data": {"$or": [{"status": ["posted"]}, {"sequence": [{"numeric": [">", 2]}]}]},
        },
        True,
        id="or-at-two-levels",
    ),
]


@pytest.mark.parametrize(("pattern", "wanted"), MATCHING)
def test_a_pattern_matches_the_sample_body_as_eventbridge_would(
    pattern: dict[str, Any], wanted: bool
) -> None:
    assert check_filter(pattern) == []
    assert matches(pattern, BODY) is wanted
    assert explain(pattern, BODY).matches is wanted


@pytest.mark.parametrize("tags", [[], [[], []]], ids=["empty", "empty-arrays-in-it"])
def test_an_empty_body_array_has_no_values(tags: list[Any]) -> None:
    body = body_with(metadata={"tags": tags})
    assert matches(on_metadata(tags=[{"exists": False}]), body)
    assert not matches(on_metadata(tags=[{"exists": True}]), body)
    assert not matches(on_metadata(tags=[None]), body)
    assert not matches(on_metadata(tags=[{"anything-but": "vip"}]), body)


def items_pattern(**fields: Any) -> dict[str, Any]:
    return on_metadata(items=fields)


def body_with_items(*items: Any) -> dict[str, Any]:
    return body_with(metadata={"items": list(items)})


GIFT_WRAP_ABSENT = [{"exists": False}]
GIFT_WRAP_PRESENT = [{"exists": True}]

# Each as EventBridge answers it (event-ruler's rulesForJSONEvent): `exists: true` looks for a
# value in any element, `exists: false` for none in every element, so exactly one matches.
EXISTS_ACROSS_ARRAYS = [
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_PRESENT),
        body_with_items({"sku": "A", "gift_wrap": True}, {"sku": "B"}),
        True,
        id="true-one-item-has-it",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_ABSENT),
        body_with_items({"sku": "A", "gift_wrap": True}, {"sku": "B"}),
        False,
        id="false-one-item-has-it",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_PRESENT),
        body_with_items({"sku": "A"}, {"sku": "B"}),
        False,
        id="true-no-item-has-it",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_ABSENT),
        body_with_items({"sku": "A"}, {"sku": "B"}),
        True,
        id="false-no-item-has-it",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_PRESENT),
        body_with_items({"gift_wrap": "paper"}, {"gift_wrap": []}),
        True,
        id="true-one-item-has-a-value-one-an-empty-array",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_ABSENT),
        body_with_items({"gift_wrap": "paper"}, {"gift_wrap": []}),
        False,
        id="false-one-item-has-a-value-one-an-empty-array",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_PRESENT),
        body_with_items({"gift_wrap": []}, {"gift_wrap": {"kind": "paper"}}),
        False,
        id="true-empty-array-and-object-are-no-values",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_ABSENT),
        body_with_items({"gift_wrap": []}, {"gift_wrap": {"kind": "paper"}}),
        True,
        id="false-empty-array-and-object-are-no-values",
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_PRESENT), body_with_items(), False, id="true-no-items"
    ),
    pytest.param(
        items_pattern(gift_wrap=GIFT_WRAP_ABSENT), body_with_items(), True, id="false-no-items"
    ),
    pytest.param(
        items_pattern(gift_wrap=[{"exists": False}, "paper"]),
        body_with_items({"gift_wrap": "box"}, {"sku": "B"}),
        False,
        id="false-or-value-another-value",
    ),
    pytest.param(
        items_pattern(gift_wrap=[{"exists": False}, "paper"]),
        body_with_items({"gift_wrap": "paper"}, {"sku": "B"}),
        True,
        id="false-or-value-the-value",
    ),
    pytest.param(
        items_pattern(**{"$or": [{"gift_wrap": GIFT_WRAP_ABSENT}, {"sku": ["Z"]}]}),
        body_with_items({"gift_wrap": True}, {"sku": "B"}),
        False,
        id="false-in-or-inside-the-array",
    ),
    pytest.param(
        on_metadata(orders={"items": {"gift_wrap": GIFT_WRAP_ABSENT}}),
        body_with(metadata={"orders": [{"items": [{}]}, {"items": [{"gift_wrap": True}]}]}),
        False,
        id="false-across-two-arrays",
    ),
    pytest.param(
        items_pattern(sku=["A"], gift_wrap=GIFT_WRAP_ABSENT),
        body_with_items({"sku": "A"}, {"sku": "B", "gift_wrap": True}),
        False,
        id="false-beside-a-condition-on-a-later-name",
    ),
    pytest.param(
        items_pattern(sku=["A"], gift_wrap=GIFT_WRAP_ABSENT),
        body_with_items({"sku": "A"}, {"sku": "B"}),
        True,
        id="false-beside-a-condition-no-item-has-it",
    ),
]


@pytest.mark.parametrize(("pattern", "body", "wanted"), EXISTS_ACROSS_ARRAYS)
def test_exists_across_an_array_of_objects_answers_as_eventbridge_does(
    pattern: dict[str, Any], body: dict[str, Any], wanted: bool
) -> None:
    assert check_filter(pattern) == []
    assert matches(pattern, body) is wanted
    assert explain(pattern, body).matches is wanted


def test_exists_false_beside_another_condition_still_looks_at_every_element() -> None:
    # EventBridge would match here: "wrap" sorts after "sku", so it looks for wrap only in the
    # item sku matched. Ours does not depend on the names (docs/filters.md, differences).
    pattern = items_pattern(sku=["A"], wrap=[{"exists": False}])
    assert not matches(pattern, body_with_items({"sku": "A"}, {"sku": "B", "wrap": True}))
    assert matches(pattern, body_with_items({"sku": "A"}, {"sku": "B"}))


def test_exists_false_failing_across_an_array_says_which_array() -> None:
    verdict = explain(
        items_pattern(gift_wrap=[{"exists": False}]),
        body_with_items({"sku": "A"}, {"sku": "B", "gift_wrap": True}),
    )
    assert verdict.reasons == ("no element of data.metadata.items meets every condition on it",)


def test_nested_arrays_in_the_body_are_flattened() -> None:
    assert matches(on_metadata(tags=["gift"]), body_with(metadata={"tags": [["vip"], ["gift"]]}))


def test_a_nested_pattern_must_hold_within_one_element_of_an_array_of_objects() -> None:
    body = body_with(
        metadata={"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 5}]},
    )
    assert matches(on_metadata(items={"sku": ["B"], "qty": [5]}), body)
    assert not matches(on_metadata(items={"sku": ["A"], "qty": [5]}), body)


def test_large_integers_and_floats_compare_exactly() -> None:
    body = body_with(sequence=2**53 + 1)
    assert matches(on_data(sequence=[2**53 + 1]), body)
    assert not matches(on_data(sequence=[float(2**53)]), body)


def test_a_document_that_is_not_an_object_matches_only_absence() -> None:
    pattern = {"data": [{"exists": False}]}
    for document in (None, 3, "text", [], [1, [2]]):
        assert matches(pattern, document) is True  # type: ignore[arg-type]
        assert matches({"data": ["x"]}, document) is False  # type: ignore[arg-type]


# --- what a preview says --------------------------------------------------------------------


def test_a_failed_condition_says_what_the_value_is_and_what_was_wanted() -> None:
    verdict = explain(on_data(status=["delivered"]), body_with(status="posted"))
    assert verdict.matches is False
    assert verdict.reasons == ('data.status is "posted", not one of ["delivered"]',)


def test_only_the_conditions_that_failed_are_given_as_reasons() -> None:
    verdict = explain(on_data(status=["delivered"], carrier=["jadlog"]), BODY)
    assert verdict.reasons == ('data.carrier is "correios", not one of ["jadlog"]',)


def test_a_match_says_which_matcher_matched_each_field() -> None:
    pattern = on_data(status=["posted", "delivered"], tracking_code=[{"prefix": "QN"}])
    verdict = explain(pattern, BODY)
    assert verdict.matches is True
    assert verdict.reasons == (
        'data.status is "delivered", matched by "delivered"',
        'data.tracking_code is "QN242960622BR", matched by {"prefix": "QN"}',
    )


def test_a_missing_field_is_called_missing() -> None:
    verdict = explain(on_data(nickname=["x"]), BODY)
    assert verdict.reasons == ('data.nickname is missing, not one of ["x"]',)


def test_a_null_matcher_that_matches_is_named() -> None:
    verdict = explain(on_data(estimated_delivery=[None]), BODY)
    assert verdict.reasons == ("data.estimated_delivery is null, matched by null",)


def test_an_or_that_fails_lists_every_branch() -> None:
    pattern = {"data": {"$or": [{"carrier": ["jadlog"]}, {"status": ["posted"]}]}}
    verdict = explain(pattern, BODY)
    assert verdict.matches is False
    assert verdict.reasons == (
        "no branch of data.$or matched",
        'data.$or[0]: data.carrier is "correios", not one of ["jadlog"]',
        'data.$or[1]: data.status is "delivered", not one of ["posted"]',
    )


def test_an_or_that_holds_names_the_branch() -> None:
    pattern = {"$or": [on_data(carrier=["jadlog"]), on_data(status=["delivered"])]}
    assert explain(pattern, BODY).reasons == (
        '$or[1]: data.status is "delivered", matched by "delivered"',
    )


def test_a_long_value_is_shortened_in_a_reason() -> None:
    verdict = explain(on_data(description=["x"]), body_with(description="y" * 500))
    assert len(verdict.reasons[0]) < 200
    assert "…" in verdict.reasons[0]


# --- invalid patterns -----------------------------------------------------------------------

INVALID = [
    pytest.param(["delivered"], "filter", "must be a JSON object", id="not-an-object"),
    pytest.param("delivered", "filter", "must be a JSON object", id="a-string"),
    pytest.param(None, "filter", "must be a JSON object", id="null"),
    pytest.param({}, "filter", "name at least one field", id="empty"),
    pytest.param(on_data(status=[]), "filter.data.status", "empty array", id="empty-leaf"),
    pytest.param({"data": {}}, "filter.data", "empty object", id="empty-object"),
    pytest.param(
        on_data(status="delivered"), "filter.data.status", "must be an array", id="bare-scalar"
    ),
    pytest.param(on_data(sequence=3), "filter.data.sequence", "got the number 3", id="bare-number"),
    pytest.param(
        on_data(tracking_code={"prefix": "QN"}),
        "filter.data.tracking_code.prefix",
        'put it inside the array: [{"prefix": ...}]',
        id="matcher-outside-array",
    ),
    pytest.param(
        on_data(tracking_code=[{"wildcard": "QN*"}]),
        "filter.data.tracking_code[0]",
        "wildcard matcher is not supported",
        id="wildcard",
    ),
    pytest.param(
        {"data": {"ip": [{"cidr": "10.0.0.0/24"}]}},
        "filter.data.ip[0]",
        "cidr matcher is not supported",
        id="cidr",
    ),
    pytest.param(
        on_data(status=[{"contains": "deliv"}]),
        "filter.data.status[0]",
        '"contains" is not a matcher',
        id="unknown-matcher",
    ),
    pytest.param(
        on_data(status=[{"prefix": "d", "suffix": "d"}]),
        "filter.data.status[0]",
        "exactly one key",
        id="two-keys",
    ),
    pytest.param(on_data(status=[{}]), "filter.data.status[0]", "exactly one key", id="no-key"),
    pytest.param(
        on_data(status=[["delivered"]]), "filter.data.status[0]", "cannot be an array", id="array"
    ),
    pytest.param(
        on_data(tracking_code=[{"prefix": 12}]),
        "filter.data.tracking_code[0].prefix",
        "prefix takes a string",
        id="prefix-number",
    ),
    pytest.param(
        on_data(tracking_code=[{"prefix": {"equals-ignore-case": "qn"}}]),
        "filter.data.tracking_code[0].prefix",
        "equals-ignore-case is not supported",
        id="prefix-ignore-case",
    ),
    pytest.param(
        on_data(carrier=[{"equals-ignore-case": None}]),
        "filter.data.carrier[0].equals-ignore-case",
        "takes a string; got null",
        id="ignore-case-null",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": ["=>", 1]}]),
        "filter.data.metadata.weight_kg[0].numeric[0]",
        "not a numeric operator",
        id="numeric-bad-operator",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": [">", "1"]}]),
        "filter.data.metadata.weight_kg[0].numeric[1]",
        'must be a finite number; got the string "1"',
        id="numeric-string",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": [">", True]}]),
        "filter.data.metadata.weight_kg[0].numeric[1]",
        "must be a finite number; got true",
        id="numeric-boolean",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": ["<", float("inf")]}]),
        "filter.data.metadata.weight_kg[0].numeric[1]",
        "finite",
        id="numeric-infinite",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": [">", 5, "<", 1]}]),
        "filter.data.metadata.weight_kg[0].numeric",
        "lower bound 5 must be less than the upper bound 1",
        id="numeric-reversed",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": [">=", 2, "<=", 2]}]),
        "filter.data.metadata.weight_kg[0].numeric",
        "must be less than",
        id="numeric-empty-range",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": ["<", 5, ">", 1]}]),
        "filter.data.metadata.weight_kg[0].numeric",
        "lower bound",
        id="numeric-upper-first",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": [">", 1, "<"]}]),
        "filter.data.metadata.weight_kg[0].numeric",
        "numeric takes [operator, number]",
        id="numeric-three-terms",
    ),
    pytest.param(
        on_metadata(weight_kg=[{"numeric": 5}]),
        "filter.data.metadata.weight_kg[0].numeric",
        "numeric takes",
        id="numeric-not-array",
    ),
    pytest.param(
        on_data(nickname=[{"exists": "yes"}]),
        "filter.data.nickname[0].exists",
        "exists takes true or false",
        id="exists-string",
    ),
    pytest.param(
        on_data(nickname=[{"exists": 1}]),
        "filter.data.nickname[0].exists",
        "exists takes true or false",
        id="exists-number",
    ),
    pytest.param(
        on_data(stale=[{"anything-but": True}]),
        "filter.data.stale[0].anything-but",
        "list the values you do want",
        id="anything-but-boolean",
    ),
    pytest.param(
        on_data(status=[{"anything-but": ["posted", 1]}]),
        "filter.data.status[0].anything-but",
        "only strings or only finite numbers",
        id="anything-but-mixed",
    ),
    pytest.param(
        on_data(status=[{"anything-but": []}]),
        "filter.data.status[0].anything-but",
        "empty array",
        id="anything-but-empty",
    ),
    pytest.param(
        on_data(carrier=[{"anything-but": {"equals-ignore-case": "correios"}}]),
        "filter.data.carrier[0].anything-but",
        "only prefix or suffix is supported",
        id="anything-but-ignore-case",
    ),
    pytest.param(
        on_data(carrier=[{"anything-but": {"wildcard": "corr*"}}]),
        "filter.data.carrier[0].anything-but",
        "not equals-ignore-case or wildcard",
        id="anything-but-wildcard",
    ),
    pytest.param(
        on_data(carrier=[{"anything-but": {"prefix": ["a", "b"]}}]),
        "filter.data.carrier[0].anything-but.prefix",
        "takes one string",
        id="anything-but-prefix-list",
    ),
    pytest.param(
        {"$or": [on_data(status=["posted"])]}, "filter.$or", "only 1 pattern", id="or-one-branch"
    ),
    pytest.param({"$or": []}, "filter.$or", "no patterns", id="or-no-branch"),
    pytest.param(
        {"$or": on_data(status=["posted"])}, "filter.$or", "must be an array", id="or-object"
    ),
    pytest.param(
        {"$or": [on_data(status=["posted"]), ["x"]]},
        "filter.$or[1]",
        "must be an object of fields",
        id="or-branch-not-object",
    ),
    pytest.param(
        {"data": {"$or": [{"carrier": ["x"]}, {"$or": [{"status": ["a"]}, {"status": ["b"]}]}]}},
        "filter.data.$or[1].$or",
        "only one level of $or",
        id="or-in-or",
    ),
    pytest.param(
        {"$or": [{"data": {"$or": [{"status": ["a"]}, {"status": ["b"]}]}}, {"type": ["x"]}]},
        "filter.$or[0].data.$or",
        "only one level of $or",
        id="or-deep-in-or",
    ),
    pytest.param(
        {"data": {"$or": [{"carrier": [1]}, {"carrier": []}]}},
        "filter.data.$or[1].carrier",
        "empty array",
        id="problem-inside-or",
    ),
    pytest.param(
        {"a": {"b": {"c": {"d": {"e": {"f": {"g": ["x"]}}}}}}},
        "filter.a.b.c.d.e.f",
        f"at most {MAX_DEPTH} levels",
        id="too-deep",
    ),
    pytest.param(
        {"data": {f"f{i}": ["x"] for i in range(MAX_MATCHERS + 1)}},
        "filter",
        f"has {MAX_MATCHERS + 1} matchers; a filter may have at most {MAX_MATCHERS}",
        id="too-many-matchers",
    ),
    pytest.param(
        on_data(description=["x" * MAX_PATTERN_BYTES]),
        "filter",
        f"a filter may be at most {MAX_PATTERN_BYTES}",
        id="too-big",
    ),
    pytest.param({"data": {"": ["x"]}}, 'filter.data[""]', "non-empty strings", id="empty-name"),
    pytest.param(on_data(sequence=[float("nan")]), "filter.data.sequence[0]", "finite", id="nan"),
]


@pytest.mark.parametrize(("pattern", "loc", "message"), INVALID)
def test_an_invalid_pattern_is_refused_saying_where_and_why(
    pattern: object, loc: str, message: str
) -> None:
    problems = check_filter(pattern)
    assert [problem for problem in problems if problem.loc == loc and message in problem.message]


def test_a_valid_pattern_has_no_problems() -> None:
    pattern = {
        "type": [{"prefix": "shipment."}],
        "data": {
            "status": ["delivered"],
            "carrier": ["correios"],
            "metadata": {"weight_kg": [{"numeric": [">=", 1, "<=", 5]}]},
            "$or": [{"action_required": [True]}, {"tracking_code": [{"prefix": "QN"}]}],
        },
    }
    assert check_filter(pattern) == []


def test_every_problem_is_listed_not_only_the_first() -> None:
    pattern = on_data(status=[], carrier="x", stale=[{"exists": "no"}])
    assert {problem.loc for problem in check_filter(pattern)} == {
        "filter.data.status",
        "filter.data.carrier",
        "filter.data.stale[0].exists",
    }


def test_the_limits_themselves_are_allowed() -> None:
    deepest = {"a": {"b": {"c": {"d": {"e": {"f": ["x"]}}}}}}
    most = {"data": {f"f{i}": [i] for i in range(MAX_MATCHERS)}}
    assert check_filter(deepest) == []
    assert check_filter(most) == []


def test_a_pattern_deeper_than_python_recurses_is_refused_not_raised() -> None:
    deep: dict[str, Any] = {"x": ["y"]}
    for _ in range(100_000):
        deep = {"a": deep}
    problems = check_filter(deep)
    assert {problem.loc for problem in problems} == {"filter", "filter.a.a.a.a.a.a"}


# --- properties -----------------------------------------------------------------------------

FIELDS = ("a", "b", "c")
STRINGS = ("x", "y", "X", "xy", "")
NUMBERS = (0, 1, 2.5, -1)
POOL: tuple[object, ...] = (*STRINGS, *NUMBERS, True, False, None)

strings = st.sampled_from(STRINGS)
numbers = st.sampled_from(NUMBERS)
field_names = st.sampled_from(FIELDS)


def _single(name: str, operand: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return operand.map(lambda value: {name: value})


numeric_conditions = st.one_of(
    st.tuples(st.sampled_from(["=", "<", "<=", ">", ">="]), numbers).map(list),
    st.tuples(st.sampled_from([">", ">="]), numbers, st.sampled_from(["<", "<="]), numbers)
    .filter(lambda condition: condition[1] < condition[3])
    .map(list),
)
anything_but_operands = st.one_of(
    strings,
    numbers,
    st.lists(strings, min_size=1, max_size=3),
    st.lists(numbers, min_size=1, max_size=3),
    _single("prefix", strings),
    _single("suffix", strings),
)
matchers = st.one_of(
    st.sampled_from(POOL),
    _single("prefix", strings),
    _single("suffix", strings),
    _single("equals-ignore-case", strings),
    _single("numeric", numeric_conditions),
    _single("anything-but", anything_but_operands),
    _single("exists", st.booleans()),
)
leaves = st.lists(matchers, min_size=1, max_size=3)


def objects_of(entries: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(field_names, entries, min_size=1, max_size=2)


def entries_to_depth(levels: int) -> st.SearchStrategy[Any]:
    """A field's value in a pattern: a leaf, or an object of fields `levels` deep at most."""
    if levels == 0:
        return leaves
    return st.one_of(leaves, objects_of(entries_to_depth(levels - 1)))


entries = entries_to_depth(2)
or_free_patterns = objects_of(entries)


def with_or(patterns: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    branches = st.lists(or_free_patterns, min_size=2, max_size=3)
    return st.tuples(patterns, branches).map(lambda pair: {**pair[0], "$or": pair[1]})


valid_patterns = st.one_of(
    or_free_patterns,
    with_or(or_free_patterns),
    st.tuples(field_names, with_or(objects_of(leaves))).map(lambda pair: {pair[0]: pair[1]}),
)


def values_to_depth(levels: int) -> st.SearchStrategy[Any]:
    """A field's value in a document, over the patterns' own names and values and mostly full
    objects, so that patterns often match."""
    scalars = st.sampled_from(POOL)
    if levels == 0:
        return scalars | st.lists(scalars, max_size=3)
    inner = values_to_depth(levels - 1)
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(field_names, inner, min_size=2, max_size=3),
        st.lists(inner, max_size=2),
    )


documents = st.dictionaries(field_names, values_to_depth(2), min_size=2, max_size=3)

json_keys = st.one_of(
    st.sampled_from(["a", "$or", "", "prefix", "numeric", "anything-but", "exists", "wildcard"]),
    st.text(max_size=4),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["=", "<", ">=", "prefix", "numeric", "anything-but", "exists"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
    max_leaves=40,
)


@PROPERTY
@given(json_values)
def test_checking_never_raises_whatever_json_it_gets(value: object) -> None:
    problems = check_filter(value)
    assert all(isinstance(problem, FilterProblem) for problem in problems)
    assert all(problem.loc.startswith("filter") and problem.message for problem in problems)


@PROPERTY
@given(st.dictionaries(json_keys, json_values, max_size=4))
def test_checking_an_object_never_raises(value: dict[str, Any]) -> None:
    check_filter(value)


@PROPERTY
@given(valid_patterns)
def test_the_generated_patterns_are_valid(pattern: dict[str, Any]) -> None:
    assert check_filter(pattern) == []


@PROPERTY
@given(valid_patterns, json_values)
def test_matching_never_raises_on_any_json_document(pattern: dict[str, Any], document: Any) -> None:
    verdict = explain(pattern, document)
    assert verdict.matches is matches(pattern, document)
    assert verdict.reasons


@PROPERTY
@given(valid_patterns, documents)
def test_explain_always_agrees_with_matches(
    pattern: dict[str, Any], document: dict[str, Any]
) -> None:
    assert explain(pattern, document).matches is matches(pattern, document)


@PROPERTY
@given(st.lists(field_names, min_size=2, max_size=2, unique=True), entries, entries, documents)
def test_two_fields_match_when_each_matches_alone(
    names: list[str], first: Any, second: Any, document: dict[str, Any]
) -> None:
    a, b = names
    both = matches({a: first, b: second}, document)
    assert both == (matches({a: first}, document) and matches({b: second}, document))


@PROPERTY
@given(or_free_patterns, or_free_patterns, documents)
def test_or_matches_when_either_branch_matches(
    first: dict[str, Any], second: dict[str, Any], document: dict[str, Any]
) -> None:
    either = matches({"$or": [first, second]}, document)
    assert either == (matches(first, document) or matches(second, document))


def under(prefix: list[str], fields: dict[str, Any]) -> dict[str, Any]:
    """The pattern that puts `fields` at `prefix`, one object per name."""
    for name in reversed(prefix):
        fields = {name: fields}
    return fields


def at_path(path: list[str], entry: Any) -> dict[str, Any]:
    return under(path[:-1], {path[-1]: entry})


@PROPERTY
@given(st.lists(field_names, min_size=1, max_size=3), documents)
# Found by this test: one element of an array has a value at the path, another an empty array.
@example(["a", "a"], {"b": "x", "a": [{"a": "x", "b": "x"}, {"a": [], "b": "x"}]})
@example(["a", "b"], {"a": [{"b": 1}, {"c": 1}]})
@example(["a", "b", "c"], {"a": [{"b": [{"c": None}]}, {"b": {"a": 1}}]})
def test_exists_false_matches_exactly_when_exists_true_does_not(
    path: list[str], document: dict[str, Any]
) -> None:
    present = matches(at_path(path, [{"exists": True}]), document)
    assert present != matches(at_path(path, [{"exists": False}]), document)
    assert explain(at_path(path, [{"exists": False}]), document).matches is not present


@PROPERTY
@given(
    st.lists(field_names, max_size=2),
    st.lists(field_names, min_size=2, max_size=2, unique=True),
    entries,
    documents,
)
@example(["a"], ["b", "c"], [{"exists": True}], {"a": [{"b": 1, "c": 2}, {"a": 1}]})
@example(["a", "b"], ["c", "a"], [1], {"a": [{"b": [{"a": 1, "c": 1}]}, {"b": [{"x": 1}]}]})
def test_exists_false_is_a_condition_on_the_whole_document_not_one_element(
    prefix: list[str], names: list[str], other: Any, document: dict[str, Any]
) -> None:
    absent, beside = names
    both = matches(under(prefix, {beside: other, absent: [{"exists": False}]}), document)
    alone = matches(at_path([*prefix, beside], other), document)
    nowhere = matches(at_path([*prefix, absent], [{"exists": False}]), document)
    assert both == (alone and nowhere)
