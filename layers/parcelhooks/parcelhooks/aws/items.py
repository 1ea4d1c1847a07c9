"""What every table adapter needs: item times, TTL epochs, conditional-write failures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
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
