"""A raw Correios Rastro event, as a carrier may post it in `correios` inside an event.

Correios' Rastro API (`/srorastro/v1/objetos/{codigo}`) returns each object with its
`dtPrevista` and a list of `eventos`. A carrier may copy one event, with the object's
`dtPrevista` beside its fields, into `correios`; ingest reads our fields from it wherever
the event leaves them out:

| Rastro                            | ours                                   |
|-----------------------------------|----------------------------------------|
| `codigo` (`BDE`)                  | `carrier_status.type`                  |
| `tipo` (`01`)                     | `carrier_status.code`                  |
| `descricao` (+ ` - ` `detalhe`)   | `description`, `carrier_status.description` |
| `dtHrCriado`                      | `occurred_at` (no offset: the unit's state's zone) |
| `unidade.endereco.cidade/uf/cep`  | `location.city/state/postal_code`      |
| `unidade.endereco.siglaPais`      | `location.country` (`BR` when only `uf` is given) |
| `dtPrevista`                      | `estimated_delivery`                   |

A `dtHrCriado` without an offset is the unit's local time: it is read in the zone of the
unit's state (`unidade.endereco.uf`; Fernando de Noronha by its city), with that zone's
daylight saving on that date (core/brazil_zones.py), or in Brasília time when no state is
known; the event says which (`occurred_at_zone`).

The fields are Rastro's own names; anything else is refused, like anywhere in an event.
`unidade.codSro/tipo/nome`, the address lines, `unidadeDestino`, `urlIcone` and
`finalizador` are accepted, since Rastro returns them, and not used.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.core.brazil_zones import AssumedZone, zone_of
from parcelhooks.core.models import (
    CarrierStatus,
    Location,
    NoControlCharacters,
    PlainText,
    StrictModel,
)
from parcelhooks.ingest.timing import (
    check_estimate,
    check_occurred_at,
    event_window,
    request_time,
)

MAX_DESCRIPTION = 500

# `2024-03-15T14:19:48`, with a fraction or an offset if Correios ever adds them.
_RASTRO_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
# dtPrevista as Rastro writes it: `2024-03-19T23:59:59` (end of the day), `2024-03-19`,
# or `19/03/2024`; with an offset it is a time, otherwise a day.
_BR_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NoControlCharacters
]
Text32 = Annotated[PlainText, Field(max_length=32)]
Text64 = Annotated[PlainText, Field(max_length=64)]
Text128 = Annotated[PlainText, Field(max_length=128)]
Text500 = Annotated[PlainText, Field(max_length=MAX_DESCRIPTION)]


def _moment(value: object, shape: str) -> datetime:
    """A Rastro date-time string parsed, naive when it has no offset."""
    if not isinstance(value, str) or not _RASTRO_TIME.fullmatch(value):
        raise ValueError(f"must be a string like {shape}")
    parsed = datetime.fromisoformat(value)
    try:
        parsed.astimezone(UTC)  # an instant before year 1 in UTC cannot be compared
    except OverflowError:
        raise ValueError("is outside the range of dates") from None
    return parsed


def rastro_time(value: object) -> datetime:
    """A Rastro time as sent: with its offset, or naive (a local time) when it has none."""
    return _moment(value, "2024-03-15T14:19:48 (an offset is optional)")


def rastro_date(value: object) -> date:
    """A Rastro `dtPrevista`: a day, or an instant when it carries an offset."""
    if isinstance(value, str) and (brazilian := _BR_DATE.fullmatch(value)):
        day, month, year = brazilian.groups()
        return date(int(year), int(month), int(day))
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return date.fromisoformat(value)
    parsed = _moment(value, "2024-03-19T23:59:59, 2024-03-19 or 19/03/2024")
    # Without an offset the time is Rastro's end-of-day placeholder: the promise is the day.
    return parsed if parsed.tzinfo is not None else parsed.date()


# Rastro's strings are not RFC 3339 (no offset, or a Brazilian date): the schema says so.
# A time without an offset is placed in its unit's zone by RastroEvent.
RastroTime = Annotated[
    datetime,
    BeforeValidator(rastro_time),
    WithJsonSchema({"type": "string", "pattern": f"^{_RASTRO_TIME.pattern}$"}),
]
RastroDate = Annotated[
    AwareDatetime | date,
    BeforeValidator(rastro_date),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^(?:{_RASTRO_TIME.pattern}|{_ISO_DATE.pattern}|{_BR_DATE.pattern})$",
        }
    ),
]


class RastroAddress(StrictModel):
    cidade: Text128 | None = None
    uf: Text64 | None = None
    cep: Text32 | None = None
    siglaPais: Text64 | None = None  # noqa: N815 - Rastro's name
    logradouro: Text128 | None = None
    numero: Text32 | None = None
    complemento: Text128 | None = None
    bairro: Text128 | None = None


class RastroUnit(StrictModel):
    codSro: Text32 | None = None  # noqa: N815 - Rastro's name
    tipo: Text128 | None = None
    nome: Text128 | None = None
    endereco: RastroAddress | None = None


def unit_zone(unit: RastroUnit | None) -> AssumedZone:
    """The zone of a unit's local times: its state's (Brasília when it names none)."""
    address = unit.endereco if unit else None
    return zone_of(address.uf if address else None, address.cidade if address else None)


class RastroEvent(StrictModel):
    """One event of Correios' Rastro API, with its object's `dtPrevista`."""

    VOCABULARY: ClassVar[Vocabulary] = Vocabulary.CORREIOS

    codigo: Code = Field(description="The event type: letters such as BDE, OEC, PAR")
    tipo: Code = Field(description="The status number under the type: 01, 20, ...")
    descricao: Text500 | None = None
    detalhe: Text500 | None = None
    # Before dtHrCriado: its state says the zone of a time without an offset.
    unidade: RastroUnit | None = None
    dtHrCriado: RastroTime | None = Field(  # noqa: N815 - Rastro's name
        default=None,
        description="When it happened: without an offset, the unit's local time (the zone "
        "of its state, `unidade.endereco.uf`; Brasília time when no state is given)",
    )
    dtPrevista: RastroDate | None = Field(  # noqa: N815 - Rastro's name
        default=None,
        description="Estimated delivery: 2024-03-19T23:59:59, 2024-03-19 or 19/03/2024",
    )
    unidadeDestino: RastroUnit | None = None  # noqa: N815 - Rastro's name
    urlIcone: Annotated[PlainText, Field(max_length=500)] | None = None  # noqa: N815
    finalizador: Text32 | None = None

    @field_validator("dtHrCriado")
    @classmethod
    def _recent(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = unit_zone(info.data.get("unidade")).localize(value)
        return check_occurred_at(value, request_time(info), event_window(info))

    @field_validator("dtPrevista")
    @classmethod
    def _plausible(cls, value: date | None, info: ValidationInfo) -> date | None:
        return None if value is None else check_estimate(value, request_time(info))

    @model_validator(mode="after")
    def _description_fits(self) -> RastroEvent:
        if len(self.description or "") > MAX_DESCRIPTION:
            raise ValueError(
                f"descricao and detalhe together must fit in {MAX_DESCRIPTION} characters"
            )
        return self

    @property
    def occurred_at(self) -> datetime | None:
        return self.dtHrCriado

    @property
    def occurred_at_zone(self) -> AssumedZone | None:
        """The zone `dtHrCriado` was read in; None when it came with its offset."""
        moment = self.dtHrCriado
        if moment is None or not isinstance(moment.tzinfo, ZoneInfo):
            return None
        return unit_zone(self.unidade)

    @property
    def estimated_delivery(self) -> date | None:
        return self.dtPrevista

    @property
    def description(self) -> str | None:
        parts = [part for part in (self.descricao, self.detalhe) if part]
        return " - ".join(parts) or None

    def carrier_status(self) -> CarrierStatus:
        # Rastro's `codigo` is the old service's `tipo` (the letters), its `tipo` the number.
        return CarrierStatus(type=self.codigo, code=self.tipo, description=self.descricao)

    def location_of(self) -> Location | None:
        address = self.unidade.endereco if self.unidade else None
        if address is None or not (address.cidade or address.uf or address.cep):
            return None
        # A unit with a state (UF) is a Brazilian one; a foreign unit may name its country.
        country = address.siglaPais or ("BR" if address.uf else None)
        return Location(
            city=address.cidade, state=address.uf, country=country, postal_code=address.cep
        )
