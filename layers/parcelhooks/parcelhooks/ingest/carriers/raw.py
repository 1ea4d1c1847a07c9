"""Raw tracking objects in a carrier's own format, posted inside an event the way a Rastro
event is posted in `correios` (ingest/rastro.py): ingest reads our fields from them wherever
the event leaves them out, and their codes in that carrier's table whatever the key.

`loggi`: one package of Loggi's tracking webhook (`packages[]`, the same object as its
tracking API returns):

| Loggi                                   | ours                                          |
|-----------------------------------------|-----------------------------------------------|
| `status.code` (`"5"`)                   | `carrier_status.code` (Loggi's table)         |
| `status.highLevelStatus`                | `carrier_status.description`                  |
| `status.description`                    | `description`                                 |
| `status.updatedTime` (UTC, with `Z`)    | `occurred_at`                                 |
| `location.city/state`                   | `location.city/state` (country `BR`)          |
| `promisedDate` (`YYYY-MM-DD`)           | `estimated_delivery`                          |

`melhor_envio`: Melhor Envio's whole webhook body, `{event, data}`:

| Melhor Envio                            | ours                                          |
|-----------------------------------------|-----------------------------------------------|
| `event` (`order.posted`)                | `carrier_status.code` (Melhor Envio's table)  |
| the `data.*_at` of the event (`posted_at` for `order.posted`, ...) | `occurred_at` |
| `data.status`                           | `carrier_status.description`                  |

Melhor Envio's events `order.pending`, `order.received`, `order.undelivered`,
`order.paused` and `order.suspended` carry no time of their own: the event's `occurred_at`
is then required. The other fields of both objects are accepted, as the carriers send them,
and not used; anything else is refused, like anywhere in an event.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.core.brazil_zones import AssumedZone
from parcelhooks.core.models import (
    CarrierStatus,
    Location,
    PlainText,
    StrictModel,
    Timestamp,
)
from parcelhooks.ingest.timing import check_estimate, check_occurred_at, event_window, request_time

Text64 = Annotated[PlainText, Field(max_length=64)]
Text128 = Annotated[PlainText, Field(max_length=128)]
Text500 = Annotated[PlainText, Field(max_length=500)]
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """`2021-05-05`, as Loggi writes `promisedDate` (strict models take no string as a date)."""
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a real date, YYYY-MM-DD") from None
    if isinstance(value, str):
        raise ValueError("must be a date, YYYY-MM-DD")
    return value


Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    WithJsonSchema({"type": "string", "format": "date"}),
]
# Fields a carrier sends that we keep no part of: bounded, never read.
Unused = Annotated[list[dict[str, Any]], Field(max_length=200)]


class LoggiStatus(StrictModel):
    code: Annotated[str | int, Field(union_mode="left_to_right")]
    highLevelStatus: Text128 | None = None  # noqa: N815 - Loggi's name
    description: Text500 | None = None
    actionRequired: dict[str, Text500 | None] | None = None  # noqa: N815 - Loggi's name
    updatedTime: Timestamp | None = None  # noqa: N815 - Loggi's name

    @field_validator("code")
    @classmethod
    def _as_text(cls, value: str | int) -> str:
        text = str(value).strip()
        if not text or len(text) > 16:
            raise ValueError("must be Loggi's status code, such as 5")
        return text


class LoggiLocation(StrictModel):
    city: Text128 | None = None
    state: Text64 | None = None


class LoggiPackage(StrictModel):
    """One package of Loggi's tracking webhook."""

    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.LOGGI
    loggiKey: Text64 | None = None  # noqa: N815 - Loggi's name
    trackingCode: Text128 | None = None  # noqa: N815 - Loggi's name
    barcode: Annotated[PlainText, Field(max_length=255)] | None = None
    status: LoggiStatus
    location: LoggiLocation | None = None
    promisedDate: Day | None = None  # noqa: N815 - Loggi's name
    requestTime: Timestamp | None = None  # noqa: N815 - Loggi's name
    trackingHistory: Unused | None = None  # noqa: N815 - Loggi's name
    deliveryInformation: dict[str, Any] | None = None  # noqa: N815 - Loggi's name

    @model_validator(mode="after")
    def _in_window(self, info: ValidationInfo) -> LoggiPackage:
        if self.status.updatedTime is not None:
            check_occurred_at(self.status.updatedTime, request_time(info), event_window(info))
        if self.promisedDate is not None:
            check_estimate(self.promisedDate, request_time(info))
        return self

    @property
    def occurred_at(self) -> datetime | None:
        return self.status.updatedTime

    @property
    def occurred_at_zone(self) -> AssumedZone | None:
        return None  # Loggi's times carry their offset

    @property
    def estimated_delivery(self) -> date | None:
        return self.promisedDate

    @property
    def description(self) -> str | None:
        return self.status.description or self.status.highLevelStatus

    def carrier_status(self) -> CarrierStatus:
        return CarrierStatus(code=str(self.status.code), description=self.status.highLevelStatus)

    def location_of(self) -> Location | None:
        place = self.location
        if place is None or not (place.city or place.state):
            return None
        return Location(city=place.city, state=place.state, country="BR")


# Which `data.*_at` is the time of each Melhor Envio event.
MELHOR_ENVIO_TIMES = {
    "order.created": "created_at",
    "order.released": "paid_at",
    "order.generated": "generated_at",
    "order.posted": "posted_at",
    "order.delivered": "delivered_at",
    "order.cancelled": "canceled_at",
}


class MelhorEnvioTag(StrictModel):
    tag: Text128 | None = None
    url: Annotated[PlainText, Field(max_length=500)] | None = None


class MelhorEnvioOrder(StrictModel):
    id: Text64 | None = None
    protocol: Text64 | None = None
    status: Text64 | None = None
    tracking: Text128 | None = None
    self_tracking: Text128 | None = None
    user_id: Text64 | None = None
    tags: Annotated[list[MelhorEnvioTag], Field(max_length=50)] | None = None
    created_at: Timestamp | None = None
    paid_at: Timestamp | None = None
    generated_at: Timestamp | None = None
    posted_at: Timestamp | None = None
    delivered_at: Timestamp | None = None
    canceled_at: Timestamp | None = None
    expired_at: Timestamp | None = None
    tracking_url: Annotated[PlainText, Field(max_length=500)] | None = None


class MelhorEnvioWebhook(StrictModel):
    """Melhor Envio's webhook body."""

    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.MELHOR_ENVIO
    event: Text64
    data: MelhorEnvioOrder

    @model_validator(mode="after")
    def _in_window(self, info: ValidationInfo) -> MelhorEnvioWebhook:
        if self.occurred_at is not None:
            check_occurred_at(self.occurred_at, request_time(info), event_window(info))
        return self

    @property
    def occurred_at(self) -> datetime | None:
        field = MELHOR_ENVIO_TIMES.get(self.event.strip().lower())
        moment = getattr(self.data, field) if field else None
        return moment if isinstance(moment, datetime) else None

    @property
    def occurred_at_zone(self) -> AssumedZone | None:
        return None  # Melhor Envio's webhook times carry their offset

    @property
    def estimated_delivery(self) -> date | None:
        return None

    @property
    def description(self) -> str | None:
        return None  # the table's words fill it

    def carrier_status(self) -> CarrierStatus:
        return CarrierStatus(code=self.event, description=self.data.status)

    def location_of(self) -> Location | None:
        return None
