"""What every table adapter needs: item times, TTL epochs, conditional-write failures, and
an event's JSON packed small."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.exceptions import ClientError
from pydantic import TypeAdapter

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"


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
