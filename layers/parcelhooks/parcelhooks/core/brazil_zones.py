"""Brazil's time zones: the zone a carrier's local time is read in, from the unit's state.

Carriers such as Correios give a unit's local time without an offset. Brazil has four
zones (Fernando de Noronha UTC-02:00; Brasília UTC-03:00; Amazon UTC-04:00; Acre UTC-05:00)
and kept daylight saving in some states until 2019, so the offset depends on the state
(UF) and the date: each state maps to its IANA zone, whose rules (historic daylight saving
included) come from the tz database through `zoneinfo`, never from a table of ours.

A state the map does not know (or no state) is read in Brasília time (`America/Sao_Paulo`).
Known simplifications, each a zone with the same offset today: Pará is `America/Belem`
(its west, `America/Santarem`, differed only before 2008), and the western municipalities
of Amazonas that keep Acre time (`America/Eirunepe`) are read as Manaus time: the unit's
city would have to be matched against a list the tz database does not carry.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

BRASILIA = "America/Sao_Paulo"
NORONHA = "America/Noronha"
# The archipelago belongs to Pernambuco (PE) but keeps UTC-02:00.
NORONHA_CITY = "FERNANDO DE NORONHA"

# Each state (UF) of Brazil, and the federal district, to its IANA zone.
UF_ZONES: dict[str, str] = {
    "AC": "America/Rio_Branco",
    "AL": "America/Maceio",
    "AM": "America/Manaus",
    "AP": "America/Belem",
    "BA": "America/Bahia",
    "CE": "America/Fortaleza",
    "DF": BRASILIA,
    "ES": BRASILIA,
    "GO": BRASILIA,
    "MA": "America/Fortaleza",
    "MG": BRASILIA,
    "MS": "America/Campo_Grande",
    "MT": "America/Cuiaba",
    "PA": "America/Belem",
    "PB": "America/Fortaleza",
    "PE": "America/Recife",
    "PI": "America/Fortaleza",
    "PR": BRASILIA,
    "RJ": BRASILIA,
    "RN": "America/Fortaleza",
    "RO": "America/Porto_Velho",
    "RR": "America/Boa_Vista",
    "RS": BRASILIA,
    "SC": BRASILIA,
    "SE": "America/Maceio",
    "SP": BRASILIA,
    "TO": "America/Araguaina",
}


class ZoneSource(StrEnum):
    """Why a local time was read in the zone it was."""

    UNIT_STATE = "unit_state"  # the zone of the unit's state (or Fernando de Noronha)
    DEFAULT = "default"  # no known state: Brasília time


@dataclass(frozen=True, slots=True)
class AssumedZone:
    """The zone a local time without an offset was read in, and why."""

    name: str
    source: ZoneSource

    def localize(self, local: datetime) -> datetime:
        """The local time as an instant in this zone (the first of two, in the hour a
        daylight-saving change repeats)."""
        return local.replace(tzinfo=ZoneInfo(self.name))


def zone_of(state: str | None, city: str | None = None) -> AssumedZone:
    """The zone of a unit in `state` (a UF such as `AM`, any case) and `city`."""
    uf = (state or "").strip().upper()
    if uf == "PE" and plain_upper(city) == NORONHA_CITY:
        return AssumedZone(NORONHA, ZoneSource.UNIT_STATE)
    if uf in UF_ZONES:
        return AssumedZone(UF_ZONES[uf], ZoneSource.UNIT_STATE)
    return AssumedZone(BRASILIA, ZoneSource.DEFAULT)


def plain_upper(name: str | None) -> str:
    """Upper case, accents and extra spaces taken out: `Fernando de Noronha` matches."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.upper().split())
