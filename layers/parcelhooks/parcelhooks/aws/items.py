"""What every table adapter needs: item times, TTL epochs, conditional-write failures,
reading many items at once, and an event's JSON packed small."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.exceptions import ClientError
from pydantic import TypeAdapter

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
# The most keys one BatchGetItem takes.
BATCH_GET_MAX = 100


def batch_get(
    table: Any,
    keys: Sequence[Mapping[str, Any]],
    *,
    consistent: bool = False,
    attributes: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The items of these keys that exist (in no particular order): one BatchGetItem per
    hundred keys, its unprocessed keys asked again; `attributes`, if given, the only ones
    read (the keys must be among them)."""
    client = table.meta.client
    name = table.name
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_MAX):
        wanted: dict[str, Any] = {"Keys": list(keys[start : start + BATCH_GET_MAX])}
        if consistent:
            wanted["ConsistentRead"] = True
        if attributes:
            names = {f"#p{i}": attribute for i, attribute in enumerate(attributes)}
            wanted["ProjectionExpression"] = ", ".join(names)
            wanted["ExpressionAttributeNames"] = names
        request: dict[str, Any] = {name: wanted}
        while request:
            # The resource's client takes and returns plain values, like Table does.
            response = client.batch_get_item(RequestItems=request)
            found += response.get("Responses", {}).get(name, [])
            request = response.get("UnprocessedKeys") or {}
    return found


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == CONDITIONAL_CHECK_FAILED


def json_time(moment: datetime) -> str:
    """A time as pydantic writes it into items, so stored values compare equal."""
    return str(_TIME.dump_python(moment, mode="json"))


_TIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def deserialize(raw: dict[str, Any]) -> dict[str, Any]:
    """A low-level item (as errors carry it) in the resource API's plain values."""
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in raw.items()}


def packed_json(text: str) -> bytes:
    """JSON text as a binary attribute, deflated: an event stored on every delivery-log line
    and history item takes about half the bytes, so a line fits one write unit (a unit per
    started KB) and costs half the storage."""
    return zlib.compress(text.encode(), PACK_LEVEL)


def unpacked_json(value: Any) -> str:
    """The JSON text of a stored value: packed (a binary attribute) or, as items written
    before packing hold it, the text itself."""
    if isinstance(value, Binary):
        value = getattr(value, "value")  # noqa: B009 (boto3's stubs leave `value` out)
    if isinstance(value, bytes | bytearray):
        return zlib.decompress(value).decode()
    return str(value)


# Short JSON gains little from the slower levels.
PACK_LEVEL = 6
