"""Subscription filters: EventBridge event patterns, a documented subset, over the webhook body.

`check_filter` says everything wrong with a candidate pattern; `matches` is the fan-out's
yes or no for one event; `explain` gives the same answer with the conditions behind it, for
the merchant's preview. docs/filters.md is the language as merchants read it.

Field lookup follows EventBridge: a leaf matcher sees the field's values (an array's elements,
each on its own); an absent field, an empty array, or an object where a leaf was expected, has
no values, so only `{"exists": false}` matches it; `null` is a value like any other. A nested
pattern over an array of objects must hold within one element, but `{"exists": false}` asks
about the whole document: no element of any array on the way may have a value there (as
EventBridge's matcher, event-ruler, does when no other condition has picked an element).
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

MAX_PATTERN_BYTES: Final = 4096
MAX_DEPTH: Final = 6
MAX_MATCHERS: Final = 100

OR_KEY: Final = "$or"
ROOT_LOC: Final = "filter"

PREFIX: Final = "prefix"
SUFFIX: Final = "suffix"
EQUALS_IGNORE_CASE: Final = "equals-ignore-case"
ANYTHING_BUT: Final = "anything-but"
NUMERIC: Final = "numeric"
EXISTS: Final = "exists"
MATCHERS: Final = (PREFIX, SUFFIX, EQUALS_IGNORE_CASE, ANYTHING_BUT, NUMERIC, EXISTS)
# EventBridge has them; we refuse them by name rather than as unknown words.
UNSUPPORTED_MATCHERS: Final = ("wildcard", "cidr")

COMPARISONS: Final[Mapping[str, Callable[[Any, Any], bool]]] = MappingProxyType(
    {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
)
LOWER_BOUNDS: Final = (">", ">=")
UPPER_BOUNDS: Final = ("<", "<=")

EXAMPLE_PATTERN: Final = '{"data": {"status": ["delivered"]}}'
SHOWN_VALUE_CHARS: Final = 80


@dataclass(frozen=True, slots=True)
class FilterProblem:
    # Where in the pattern, dotted from "filter": "filter.data.$or[1].carrier".
    loc: str
    # Plain English: what is wrong and what is allowed.
    message: str


@dataclass(frozen=True, slots=True)
class FilterVerdict:
    matches: bool
    # No match: every condition that failed. A match: what matched, a line per field.
    reasons: tuple[str, ...]


class _Absent:
    """What a field the document does not have looks up to (JSON null is a value; this is not)."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Final = _Absent()
_NO_FIELDS: Final[Mapping[str, Any]] = MappingProxyType({})


# --- matching -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Document:
    """The whole document, for `{"exists": false}`: whether a field path has a value anywhere,
    worked out once per path, however many array elements a pattern is tried on."""

    root: object
    known: dict[tuple[str, ...], bool] = field(default_factory=dict)

    def has_values(self, keys: tuple[str, ...]) -> bool:
        found = self.known.get(keys)
        if found is None:
            found = any(_leaf_values(value) for value in _values_everywhere(self.root, keys))
            self.known[keys] = found
        return found


@dataclass(slots=True)
class _Place:
    """Where a pattern is being tried: the field names from the root, and the document."""

    keys: tuple[str, ...]
    document: _Document

    @property
    def path(self) -> str:
        return ".".join(self.keys)

    def at(self, key: str) -> _Place:
        return _Place((*self.keys, key), self.document)


def matches(pattern: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """The fast path the fan-out calls for every event; same answer as explain(...).matches."""
    return _pattern_holds(pattern, document, _Place((), _Document(document)))


def _pattern_holds(pattern: Mapping[str, Any], value: object, place: _Place) -> bool:
    return any(_fields_hold(pattern, fields, place) for fields in _objects_at(value))


def _fields_hold(pattern: Mapping[str, Any], fields: Mapping[str, Any], place: _Place) -> bool:
    return all(_entry_holds(key, wanted, fields, place) for key, wanted in pattern.items())


def _entry_holds(key: str, wanted: Any, fields: Mapping[str, Any], place: _Place) -> bool:
    if key == OR_KEY:
        return any(_fields_hold(branch, fields, place) for branch in wanted)
    if isinstance(wanted, Mapping):
        return _pattern_holds(wanted, fields.get(key, _ABSENT), place.at(key))
    return _leaf_holds(wanted, _leaf_values(fields.get(key, _ABSENT)), place.at(key))


def _leaf_holds(matchers: Sequence[object], values: Sequence[object], place: _Place) -> bool:
    return any(_matcher_holds(matcher, values, place) for matcher in matchers)


def _matcher_holds(matcher: object, values: Sequence[object], place: _Place) -> bool:
    """One matcher of a leaf against the field's values in the element being tried: any value
    will do. `exists` is about there being values at all: true looks in that element, false in
    the whole document, so that the two never both match, as in EventBridge."""
    if isinstance(matcher, Mapping) and EXISTS in matcher:
        if matcher[EXISTS]:
            return bool(values)
        return not values and not place.document.has_values(place.keys)
    return any(_value_matches(matcher, value) for value in values)


def _value_matches(matcher: object, value: object) -> bool:
    if not isinstance(matcher, Mapping):
        return _same_value(matcher, value)
    name, operand = _sole_entry(matcher)
    if name == PREFIX:
        return isinstance(value, str) and value.startswith(operand)
    if name == SUFFIX:
        return isinstance(value, str) and value.endswith(operand)
    if name == EQUALS_IGNORE_CASE:
        return isinstance(value, str) and value.lower() == operand.lower()
    if name == NUMERIC:
        return _is_number(value) and _in_range(operand, value)
    if name == ANYTHING_BUT:
        return not _excluded(operand, value)
    return False


def _sole_entry(matcher: Mapping[Any, Any]) -> tuple[Any, Any]:
    """A matcher object's one key and operand (check_filter saw to there being one)."""
    for entry in matcher.items():
        return entry
    return None, None


def _same_value(literal: object, value: object) -> bool:
    """Numbers by value (300 is 300.0); everything else by type and value, so "1" is not 1
    and true is not 1."""
    if _is_number(literal):
        return _is_number(value) and value == literal
    return type(value) is type(literal) and value == literal


def _in_range(condition: Sequence[Any], value: object) -> bool:
    pairs = zip(condition[::2], condition[1::2], strict=True)
    return all(COMPARISONS[comparison](value, bound) for comparison, bound in pairs)


def _excluded(operand: object, value: object) -> bool:
    """Whether anything-but's operand rules the value out."""
    if isinstance(operand, list):
        return any(_same_value(literal, value) for literal in operand)
    if isinstance(operand, Mapping):
        return isinstance(value, str) and _value_matches(operand, value)
    return _same_value(operand, value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _objects_at(value: object) -> list[Mapping[str, Any]]:
    """The objects a nested pattern is tried on: the value itself, or an array's objects
    (the pattern must hold within one of them); anything else has no fields."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        found = [item for item in _flattened(value) if isinstance(item, Mapping)]
        if found:
            return found
    return [_NO_FIELDS]


def _values_everywhere(root: object, keys: tuple[str, ...]) -> list[object]:
    """The field at `keys` in every object the path reaches: every element of every array of
    objects on the way, not only one."""
    objects = _objects_at(root)
    for key in keys[:-1]:
        objects = [inner for outer in objects for inner in _objects_at(outer.get(key, _ABSENT))]
    return [fields.get(keys[-1], _ABSENT) for fields in objects]


def _leaf_values(value: object) -> list[object]:
    """The values a leaf's matchers see: an array's scalars (nested arrays flattened), none
    for an absent field or an object, else the value itself."""
    if value is _ABSENT or isinstance(value, Mapping):
        return []
    if isinstance(value, list):
        return [item for item in _flattened(value) if not isinstance(item, Mapping)]
    return [value]


def _flattened(items: list[object]) -> Iterator[object]:
    """Every non-array element of a JSON array, depth first; a stack, not recursion, so no
    document nests deep enough to raise."""
    stack: list[Iterator[object]] = [iter(items)]
    while stack:
        item = next(stack[-1], _ABSENT)
        if item is _ABSENT:
            stack.pop()
        elif isinstance(item, list):
            stack.append(iter(item))
        else:
            yield item


# --- explaining -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    holds: bool
    # What failed when it does not hold; what matched when it does.
    lines: tuple[str, ...]


def explain(pattern: Mapping[str, Any], document: Mapping[str, Any]) -> FilterVerdict:
    """Whether a valid pattern matches the document, and why (for the merchant's preview)."""
    outcome = _explain_pattern(pattern, document, _Place((), _Document(document)))
    return FilterVerdict(matches=outcome.holds, reasons=outcome.lines)


def _explain_pattern(pattern: Mapping[str, Any], value: object, place: _Place) -> _Outcome:
    objects = _objects_at(value)
    outcomes = [_explain_fields(pattern, fields, place) for fields in objects]
    held = next((outcome for outcome in outcomes if outcome.holds), None)
    if held is not None:
        return held
    if len(outcomes) == 1:
        return outcomes[0]
    where = place.path or "the document"
    return _Outcome(False, (f"no element of {where} meets every condition on it",))


def _explain_fields(
    pattern: Mapping[str, Any], fields: Mapping[str, Any], place: _Place
) -> _Outcome:
    outcomes = [_explain_entry(key, wanted, fields, place) for key, wanted in pattern.items()]
    failed = [outcome for outcome in outcomes if not outcome.holds]
    shown = failed or outcomes
    return _Outcome(not failed, tuple(line for outcome in shown for line in outcome.lines))


def _explain_entry(key: str, wanted: Any, fields: Mapping[str, Any], place: _Place) -> _Outcome:
    if key == OR_KEY:
        return _explain_or(wanted, fields, place)
    value = fields.get(key, _ABSENT)
    if isinstance(wanted, Mapping):
        return _explain_pattern(wanted, value, place.at(key))
    return _explain_leaf(wanted, value, place.at(key))


def _explain_or(
    branches: Sequence[Mapping[str, Any]], fields: Mapping[str, Any], place: _Place
) -> _Outcome:
    or_path = place.at(OR_KEY).path
    outcomes = [_explain_fields(branch, fields, place) for branch in branches]
    for index, outcome in enumerate(outcomes):
        if outcome.holds:
            return _Outcome(True, tuple(f"{or_path}[{index}]: {line}" for line in outcome.lines))
    lines = [f"no branch of {or_path} matched"]
    for index, outcome in enumerate(outcomes):
        lines.extend(f"{or_path}[{index}]: {line}" for line in outcome.lines)
    return _Outcome(False, tuple(lines))


def _explain_leaf(matchers: Sequence[object], value: object, place: _Place) -> _Outcome:
    values = _leaf_values(value)
    path = place.path
    # Matchers held in a list so that a null matcher is told apart from none at all.
    held = [matcher for matcher in matchers if _matcher_holds(matcher, values, place)][:1]
    if held:
        return _Outcome(True, (f"{path} is {_shown(value)}, matched by {_json(held[0])}",))
    return _Outcome(False, (f"{path} is {_shown(value)}, not one of {_json(list(matchers))}",))


def _shown(value: object) -> str:
    if value is _ABSENT:
        return "missing"
    if isinstance(value, Mapping):
        return "an object"
    text = _json(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…"


def _json(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        # Documents are JSON; this keeps a preview of anything else from raising.
        return repr(value)


# --- checking -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Check:
    problems: list[FilterProblem] = field(default_factory=list)
    matchers: int = 0

    def refuse(self, loc: str, message: str) -> None:
        self.problems.append(FilterProblem(loc, message))


def check_filter(pattern: object) -> list[FilterProblem]:
    """Every problem of a candidate pattern (empty list: valid). Never raises, whatever JSON
    value it gets."""
    if not isinstance(pattern, Mapping):
        message = f"must be a JSON object of fields, e.g. {EXAMPLE_PATTERN}; got {_kind(pattern)}"
        return [FilterProblem(ROOT_LOC, message)]
    check = _Check()
    size = _serialized_bytes(pattern)
    if size is None:
        check.refuse(
            ROOT_LOC,
            "cannot be written as JSON to measure it: it holds a value JSON does not have, or "
            f"nests far deeper than {MAX_DEPTH} levels",
        )
    elif size > MAX_PATTERN_BYTES:
        check.refuse(
            ROOT_LOC, f"is {size} bytes as JSON; a filter may be at most {MAX_PATTERN_BYTES}"
        )
    if not pattern:
        check.refuse(
            ROOT_LOC,
            "is empty: name at least one field to match, or leave the filter out to receive "
            "every event the subscription's event_types name",
        )
    _check_fields(pattern, ROOT_LOC, 1, False, check)
    if check.matchers > MAX_MATCHERS:
        check.refuse(
            ROOT_LOC, f"has {check.matchers} matchers; a filter may have at most {MAX_MATCHERS}"
        )
    return check.problems


def _serialized_bytes(pattern: Mapping[Any, Any]) -> int | None:
    """Compact UTF-8 JSON, the smallest honest measure of a pattern's size."""
    try:
        text = json.dumps(pattern, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return None
    return len(text.encode("utf-8", "surrogatepass"))


def _check_fields(
    fields: Mapping[Any, Any], loc: str, level: int, in_or: bool, check: _Check
) -> None:
    """The fields of one object of the pattern; `level` counts field names from the root."""
    for key, wanted in fields.items():
        key_loc = _field_loc(loc, key)
        if key == OR_KEY:
            _check_or(wanted, key_loc, level, in_or, check)
            continue
        if not isinstance(key, str) or not key:
            check.refuse(key_loc, f"field names must be non-empty strings; got {_kind(key)}")
        if isinstance(wanted, Mapping):
            _check_nested(wanted, key_loc, level, in_or, check)
        elif isinstance(wanted, list):
            _check_leaf(wanted, key_loc, check)
        else:
            check.refuse(key_loc, _not_a_leaf_message(key, wanted))


def _check_nested(
    fields: Mapping[Any, Any], loc: str, level: int, in_or: bool, check: _Check
) -> None:
    if level + 1 > MAX_DEPTH:
        check.refuse(
            loc,
            f"nests fields {level + 1} levels deep; at most {MAX_DEPTH} levels are allowed "
            "(data.location.city is 3)",
        )
        return
    if not fields:
        check.refuse(loc, "is an empty object; name at least one field in it")
    _check_fields(fields, loc, level + 1, in_or, check)


def _check_or(branches: object, loc: str, level: int, in_or: bool, check: _Check) -> None:
    if in_or:
        check.refuse(loc, "cannot appear inside a $or branch: only one level of $or is supported")
        return
    if not isinstance(branches, list):
        check.refuse(loc, f"must be an array of at least 2 patterns; got {_kind(branches)}")
        return
    if len(branches) < 2:
        count = "only 1 pattern" if branches else "no patterns"
        check.refuse(loc, f"has {count}; $or needs an array of at least 2 patterns")
    for index, branch in enumerate(branches):
        branch_loc = f"{loc}[{index}]"
        if not isinstance(branch, Mapping):
            check.refuse(branch_loc, f"must be an object of fields; got {_kind(branch)}")
        elif not branch:
            check.refuse(branch_loc, "is an empty object; name at least one field in it")
        else:
            _check_fields(branch, branch_loc, level, True, check)


def _check_leaf(matchers: list[object], loc: str, check: _Check) -> None:
    if not matchers:
        check.refuse(loc, 'is an empty array; list at least one matcher, e.g. ["delivered"]')
    check.matchers += len(matchers)
    for index, matcher in enumerate(matchers):
        _check_matcher(matcher, f"{loc}[{index}]", check)


def _check_matcher(matcher: object, loc: str, check: _Check) -> None:
    if matcher is None or isinstance(matcher, bool | str):
        return
    if _is_number(matcher):
        if not _is_finite(matcher):
            check.refuse(loc, f"must be a finite number; got {_kind(matcher)}")
    elif isinstance(matcher, Mapping):
        _check_matcher_object(matcher, loc, check)
    elif isinstance(matcher, list):
        check.refuse(loc, "cannot be an array: list each value in the field's own array")
    else:
        check.refuse(loc, f"is not a JSON value; got {_kind(matcher)}")


def _check_matcher_object(matcher: Mapping[Any, Any], loc: str, check: _Check) -> None:
    if len(matcher) != 1:
        names = ", ".join(_json(name) for name in matcher) or "none"
        check.refuse(
            loc, f"a matcher object has exactly one key, such as {_supported()}; got {names}"
        )
        return
    name, operand = _sole_entry(matcher)
    name_loc = _field_loc(loc, name)
    if name in UNSUPPORTED_MATCHERS:
        check.refuse(loc, f"the {name} matcher is not supported; supported: {_supported()}")
    elif name not in MATCHERS:
        check.refuse(loc, f"{_json(name)} is not a matcher; supported: {_supported()}")
    elif name == NUMERIC:
        _check_numeric(operand, name_loc, check)
    elif name == ANYTHING_BUT:
        _check_anything_but(operand, name_loc, check)
    elif name == EXISTS:
        if not isinstance(operand, bool):
            check.refuse(name_loc, f"exists takes true or false; got {_kind(operand)}")
    elif not isinstance(operand, str):
        # prefix, suffix, equals-ignore-case
        check.refuse(name_loc, _string_operand_message(name, operand))


def _string_operand_message(name: str, operand: object) -> str:
    if isinstance(operand, Mapping) and EQUALS_IGNORE_CASE in operand:
        return f"{name} with equals-ignore-case is not supported; {name} takes a string"
    return f"{name} takes a string; got {_kind(operand)}"


def _check_numeric(condition: object, loc: str, check: _Check) -> None:
    shape = (
        'numeric takes [operator, number] or a range [">" or ">=", number, "<" or "<=", '
        'number], e.g. [">=", 1, "<=", 5]'
    )
    if not isinstance(condition, list) or len(condition) not in (2, 4):
        check.refuse(loc, f"{shape}; got {_kind(condition)}")
        return
    sound = True
    for index in range(0, len(condition), 2):
        comparison, bound = condition[index], condition[index + 1]
        if not isinstance(comparison, str) or comparison not in COMPARISONS:
            sound = False
            check.refuse(
                f"{loc}[{index}]",
                f"{_kind(comparison)} is not a numeric operator; use one of =, <, <=, >, >=",
            )
        if not _is_number(bound) or not _is_finite(bound):
            sound = False
            check.refuse(f"{loc}[{index + 1}]", f"must be a finite number; got {_kind(bound)}")
    if sound and len(condition) == 4:
        _check_range(condition, loc, check)


def _check_range(condition: list[Any], loc: str, check: _Check) -> None:
    lower_op, lower, upper_op, upper = condition
    if lower_op not in LOWER_BOUNDS or upper_op not in UPPER_BOUNDS:
        check.refuse(
            loc,
            'a numeric range is a lower bound (">" or ">=") then an upper bound ("<" or "<="), '
            'e.g. [">=", 1, "<=", 5]',
        )
    elif not lower < upper:
        check.refuse(loc, f"the lower bound {lower} must be less than the upper bound {upper}")


def _check_anything_but(operand: object, loc: str, check: _Check) -> None:
    if isinstance(operand, str):
        return
    if _is_number(operand):
        if not _is_finite(operand):
            check.refuse(loc, f"must be a finite number; got {_kind(operand)}")
    elif isinstance(operand, list):
        _check_anything_but_list(operand, loc, check)
    elif isinstance(operand, Mapping):
        _check_anything_but_object(operand, loc, check)
    else:
        check.refuse(
            loc,
            "anything-but takes a string, a number, an array of strings or of numbers, or "
            f'{{"prefix": ...}} / {{"suffix": ...}}; got {_kind(operand)} (to match true, '
            "false or null, list the values you do want instead)",
        )


def _check_anything_but_list(values: list[object], loc: str, check: _Check) -> None:
    if not values:
        check.refuse(loc, "is an empty array; list at least one value to leave out")
        return
    strings = all(isinstance(value, str) for value in values)
    numbers = all(_is_number(value) and _is_finite(value) for value in values)
    if not (strings or numbers):
        check.refuse(
            loc,
            "anything-but's array must hold only strings or only finite numbers, not a mix "
            "and not true, false, null, arrays or objects",
        )


def _check_anything_but_object(operand: Mapping[Any, Any], loc: str, check: _Check) -> None:
    names = list(operand)
    if len(names) != 1 or names[0] not in (PREFIX, SUFFIX):
        shown = ", ".join(_json(name) for name in names) or "none"
        check.refuse(
            loc,
            "inside anything-but only prefix or suffix is supported (not equals-ignore-case or "
            f"wildcard), one of them; got {shown}",
        )
        return
    name = names[0]
    if not isinstance(operand[name], str):
        check.refuse(_field_loc(loc, name), f"{name} takes one string; got {_kind(operand[name])}")


def _not_a_leaf_message(key: object, wanted: object) -> str:
    if key in MATCHERS or key in UNSUPPORTED_MATCHERS:
        return (
            f'"{key}" is read as a field name here, and a field needs an array; to use the '
            f'{key} matcher, put it inside the array: [{{"{key}": ...}}]'
        )
    return (
        f'must be an array of matchers, e.g. ["delivered"], or an object of fields; '
        f"got {_kind(wanted)}"
    )


def _field_loc(parent: str, key: object) -> str:
    """`parent.key`, or `parent["key"]` when the key would not read as one plain name."""
    if isinstance(key, str) and key and not any(char in key for char in '.[]"'):
        return f"{parent}.{key}"
    return f"{parent}[{_json(key)}]"


def _supported() -> str:
    return ", ".join(MATCHERS)


def _is_finite(number: object) -> bool:
    return not isinstance(number, float) or math.isfinite(number)


def _kind(value: object) -> str:
    """A value as a message names it: its JSON type, and the value when short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {_shown(value)}"
    if _is_number(value):
        return f"the number {_shown(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
