"""DynamoDB capacity units of one call, from its request and response, by AWS's size rules.

On-demand tables bill a write request unit per started 1 KB of the item written and a
read request unit per started 4 KB read (half for an eventually consistent read); a
conditional write that fails still takes one write unit. What a call touched is read
from the JSON it sent and got back, so the figures are the code's real calls, not a guess.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
# A list or map costs 3 bytes, and each element 1 more (AWS "Item sizes and formats").
CONTAINER_BYTES = 3
ELEMENT_BYTES = 1


@dataclass(frozen=True)
class Units:
    """Capacity one call took, and the items it wrote."""

    read: float = 0.0
    write: float = 0.0
    items_written: int = 0
    item_bytes_written: int = 0
    # Items that hold a sparse index's key (INDEX_KEYS), so the index writes an entry too.
    index_entries_written: int = 0


# The attributes the template's sparse keys-only indexes are keyed on: the delivery log's
# `by-delivery-keys` (lines of legacy ids) and `by-late-attempt` (late lines).
INDEX_KEYS = ("delivery_id", "late_at")


def index_entries(item: Mapping[str, Any]) -> int:
    """The index entries writing this item adds (one per index whose key it holds)."""
    return sum(1 for name in INDEX_KEYS if name in item)


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item in DynamoDB JSON: each attribute's name plus its value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one typed value (`{"S": ...}`, `{"N": ...}`, `{"M": {...}}`, ...)."""
    kind, content = next(iter(value.items()))
    match kind:
        case "S":
            return len(str(content).encode())
        case "N":
            return number_size(str(content))
        case "B":
            return len(_decoded(str(content)))
        case "BOOL" | "NULL":
            return 1
        case "SS":
            return sum(len(str(s).encode()) for s in content)
        case "NS":
            return sum(number_size(str(n)) for n in content)
        case "BS":
            return sum(len(_decoded(str(b))) for b in content)
        case "L":
            return CONTAINER_BYTES + sum(value_size(v) + ELEMENT_BYTES for v in content)
        case "M":
            return CONTAINER_BYTES + sum(
                len(k.encode()) + value_size(v) + ELEMENT_BYTES for k, v in content.items()
            )
        case _:
            raise ValueError(f"unknown DynamoDB type {kind!r}")


def number_size(text: str) -> int:
    """About one byte per two significant digits, plus one (AWS's stated rule)."""
    digits = text.lstrip("-+").replace(".", "").split("e")[0].split("E")[0].strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def capacity_of(
    operation: str, request: Mapping[str, Any], response: Mapping[str, Any], *, ok: bool
) -> Units:
    """Units of one DynamoDB call (zero for anything else); a refused write takes one."""
    action = operation.removeprefix("DynamoDB.")
    if not operation.startswith("DynamoDB.") or action not in _MEASURES:
        return Units()
    if not ok:
        return Units(write=1.0) if action in _WRITES else Units()
    return _MEASURES[action](request, response)


def _put(request: Mapping[str, Any], _response: Mapping[str, Any]) -> Units:
    item = request.get("Item", {})
    size = item_size(item)
    return Units(
        write=write_units(size),
        items_written=1,
        item_bytes_written=size,
        index_entries_written=index_entries(item),
    )


def _update(request: Mapping[str, Any], response: Mapping[str, Any]) -> Units:
    # The item's size after the update is known only when the call asked for it back;
    # our UpdateItems are on small items (lanes, flags), so one unit otherwise.
    attributes = response.get("Attributes")
    size = item_size(attributes) if isinstance(attributes, dict) else 0
    return Units(write=write_units(size), items_written=1, item_bytes_written=size)


def _delete(_request: Mapping[str, Any], _response: Mapping[str, Any]) -> Units:
    return Units(write=1.0)


def _batch_write(request: Mapping[str, Any], response: Mapping[str, Any]) -> Units:
    unprocessed = _count_requests(response.get("UnprocessedItems", {}))
    puts = [
        entry["PutRequest"]["Item"]
        for entries in request.get("RequestItems", {}).values()
        for entry in entries
        if "PutRequest" in entry
    ]
    deletes = _count_requests(request.get("RequestItems", {})) - len(puts)
    sizes = [item_size(item) for item in puts]
    units = sum(write_units(size) for size in sizes) + deletes
    # Items DynamoDB handed back were not written (they will be sent again, and counted then).
    share = 1 - unprocessed / max(1, len(puts) + deletes)
    return Units(
        write=units * share,
        items_written=len(puts),
        item_bytes_written=sum(sizes),
        index_entries_written=sum(index_entries(item) for item in puts),
    )


def _get(request: Mapping[str, Any], response: Mapping[str, Any]) -> Units:
    item = response.get("Item")
    size = item_size(item) if isinstance(item, dict) else 0
    return Units(read=read_units(size, consistent=bool(request.get("ConsistentRead"))))


def _batch_get(request: Mapping[str, Any], response: Mapping[str, Any]) -> Units:
    units = 0.0
    responses = response.get("Responses", {})
    for table, spec in request.get("RequestItems", {}).items():
        consistent = bool(spec.get("ConsistentRead"))
        items = responses.get(table, [])
        units += sum(read_units(item_size(item), consistent=consistent) for item in items)
        # A key that found no item still costs the minimum of its kind of read (a key left
        # unprocessed was not read).
        unread = len(response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
        missing = max(0, len(spec.get("Keys", [])) - len(items) - unread)
        units += missing * read_units(0, consistent=consistent)
    return Units(read=units)


def _query(request: Mapping[str, Any], response: Mapping[str, Any]) -> Units:
    # A query is rounded up once, over the sum of the items it read.
    size = sum(item_size(item) for item in response.get("Items", []))
    return Units(read=read_units(size, consistent=bool(request.get("ConsistentRead"))))


def _count_requests(request_items: Mapping[str, Iterable[object]]) -> int:
    return sum(len(list(entries)) for entries in request_items.values())


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return text.encode()


_MEASURES = {
    "PutItem": _put,
    "UpdateItem": _update,
    "DeleteItem": _delete,
    "BatchWriteItem": _batch_write,
    "GetItem": _get,
    "BatchGetItem": _batch_get,
    "Query": _query,
}
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
