"""The one strict reader of JSON request bodies: a body is read exactly as sent, or refused.

Python's `json` module reads more than the API means to accept, and some of it goes wrong
later: `NaN`, `Infinity` and numbers that overflow to infinity (`1e999`) become floats
that are delivered as `null`; of two equal keys the last silently wins; a lone UTF-16
surrogate (`"\\ud800"`) cannot be encoded when the event is queued; and nesting a few
hundred levels deep makes parsing, validation or serialization recurse past the
interpreter's limit. `read_json` refuses each of these with a `MalformedJsonError` that
lists the problems and where each is (`events[2].metadata.weight`); the edge answers it
400 `malformed_json`. A body larger than the caller's limit is a `PayloadTooLargeError`.

Limits: at most `MAX_DEPTH` (32) levels of arrays and objects in the whole body.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from parcelhooks.core.errors import Detail, MalformedJsonError, PayloadTooLargeError

MAX_DEPTH = 32
# Enough to show what is wrong; a body with a thousand NaNs needs no thousand lines.
MAX_PROBLEMS = 50
ROOT = "body"

_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Where a lone surrogate could hide: an escape of one (pairs match too), or one as is.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|[\ud800-\udfff]")
# Strings whole (so brackets inside them do not count), brackets, commas and colons. A bare
# quote is a string that never ends: the scan stops there.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:"]')


class _NotFinite(str):
    """A number as sent (`NaN`, `-Infinity`, `1e999`) that has no finite float value."""

    __slots__ = ()


class _RepeatedKeys(dict[str, Any]):
    """An object in which some key appears more than once."""

    def __init__(self, pairs: list[tuple[str, Any]], repeated: list[str]) -> None:
        super().__init__(pairs)
        self.repeated = repeated


class _Marker:
    """json.loads hooks: what the API refuses is marked in the value, and counted."""

    def __init__(self) -> None:
        self.marked = 0

    def object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        if len(value) == len(pairs):
            return value
        self.marked += 1
        counts = Counter(key for key, _ in pairs)
        return _RepeatedKeys(pairs, [key for key, count in counts.items() if count > 1])

    def constant(self, text: str) -> _NotFinite:
        self.marked += 1
        return _NotFinite(text)

    def number(self, text: str) -> float | _NotFinite:
        value = float(text)
        return value if math.isfinite(value) else self.constant(text)


@dataclass(slots=True)
class _Open:
    """A container the text scan is inside: the key (raw JSON) or index it is reading."""

    at: str | int


def read_json(body: str | bytes, *, max_bytes: int) -> Any:
    """The body's JSON value, or an error listing what is wrong with it and where."""
    if _size(body) > max_bytes:
        raise PayloadTooLargeError(
            f"the request body is larger than {max_bytes} bytes",
            [_detail("", f"at most {max_bytes} bytes", "too_large")],
        )
    text = _utf8(body)
    marker = _Marker()
    value = _parse(text, marker)
    too_deep = _too_deep(value)
    if too_deep:
        raise _malformed([too_deep])
    if marker.marked or _MAYBE_SURROGATE.search(text):
        problems = _problems(value)
        if problems:
            raise _malformed(problems)
    return value


def nesting_depth(value: object) -> int:
    """Levels of arrays and objects: 0 for a scalar, 1 for `{}`, 2 for `{"a": []}`."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for _, child in _entries(item))
    return deepest


def _size(body: str | bytes) -> int:
    return len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "surrogatepass"))


def _utf8(body: str | bytes) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        # json.loads would guess UTF-16 or UTF-32 here; the API reads UTF-8 only (RFC 8259).
        message = f"the body is not UTF-8: {error.reason} at byte {error.start}"
        raise _malformed([_detail("", message, "json_invalid")]) from None


def _parse(text: str, marker: _Marker) -> Any:
    try:
        return json.loads(
            text,
            object_pairs_hook=marker.object,
            parse_constant=marker.constant,
            parse_float=marker.number,
        )
    except RecursionError:
        # Thousands of levels deep: the parser gave up, so find where in the text itself.
        raise _malformed([_too_deep_in_text(text)]) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno} (char {error.pos})"
        raise _malformed([_detail("", f"{error.msg}: {where}", "json_invalid")]) from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise _malformed([_detail("", str(error), "json_invalid")]) from None


def _too_deep(value: Any) -> Detail | None:
    """The first array or object nested deeper than MAX_DEPTH, if there is one."""
    pending: list[tuple[str, Any, int]] = [("", value, 1)]
    while pending:
        path, item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            return _depth_detail(path)
        inner = [(at, child) for at, child in _entries(item) if isinstance(child, dict | list)]
        pending.extend((_child(path, at), child, depth + 1) for at, child in reversed(inner))
    return None


def _too_deep_in_text(text: str) -> Detail:
    """Where the text first nests deeper than MAX_DEPTH, scanned without recursion."""
    inside: list[_Open] = []
    last_string = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            if len(inside) >= MAX_DEPTH:
                return _depth_detail(_text_path(inside))
            inside.append(_Open(0 if token == "[" else ""))
        elif token in ("]", "}") and inside:
            inside.pop()
        elif token == "," and inside and isinstance(inside[-1].at, int):
            inside[-1].at += 1
        elif token == ":" and inside:
            inside[-1].at = last_string
        elif token == '"':
            break
        else:
            last_string = token
    return _depth_detail("")


def _text_path(inside: list[_Open]) -> str:
    path = ""
    for container in inside:
        path = _child(path, container.at if isinstance(container.at, int) else _key(container.at))
    return path


def _key(raw: str) -> str:
    try:
        return str(json.loads(raw))
    except ValueError:
        return raw


def _problems(value: Any) -> list[Detail]:
    """Every non-finite number, repeated key and lone surrogate, in document order."""
    problems: list[Detail] = []
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, _NotFinite):
            problems.append(_detail(path, f"{item} is not a finite number", "json_number"))
        elif isinstance(item, str) and _SURROGATE.search(item):
            problems.append(_detail(path, "a lone UTF-16 surrogate is not text", "json_unicode"))
        elif isinstance(item, dict | list):
            if isinstance(item, dict):
                problems += _key_problems(path, item)
            entries = list(_entries(item))
            pending.extend((_child(path, at), child) for at, child in reversed(entries))
    return problems


def _key_problems(path: str, item: dict[str, Any]) -> list[Detail]:
    repeated = item.repeated if isinstance(item, _RepeatedKeys) else []
    problems = [
        _detail(_child(path, key), "the key appears more than once", "json_duplicate_key")
        for key in repeated
    ]
    return problems + [
        _detail(_child(path, key), "a lone UTF-16 surrogate is not text", "json_unicode")
        for key in item
        if _SURROGATE.search(key)
    ]


def _entries(item: dict[str, Any] | list[Any]) -> Iterable[tuple[str | int, Any]]:
    """(key, value) of an object, (index, value) of an array."""
    return item.items() if isinstance(item, dict) else enumerate(item)


def _child(path: str, at: str | int) -> str:
    """`events[3].metadata.x`: the location style of every error detail."""
    if isinstance(at, int):
        return f"{path}[{at}]"
    # A lone surrogate in a key would make the answer itself unencodable.
    shown = at.encode("utf-8", "backslashreplace").decode("utf-8")
    return f"{path}.{shown}" if path else shown


def _depth_detail(path: str) -> Detail:
    message = f"nested deeper than {MAX_DEPTH} levels of arrays and objects"
    return _detail(path, message, "json_too_deep")


def _detail(path: str, message: str, kind: str) -> Detail:
    return {"loc": path or ROOT, "message": message, "type": kind}


def _malformed(problems: list[Detail]) -> MalformedJsonError:
    first = problems[0]["message"] if len(problems) == 1 else f"{len(problems)} problems"
    return MalformedJsonError(
        f"the body is not JSON this API reads ({first}); nothing was accepted",
        problems[:MAX_PROBLEMS],
    )
