"""Carrier status codes that stand for a canonical status and detail.

A code is looked up only in the table of the vocabulary it is in (the carrier key's, or
the raw object's carrier for a raw `correios`, `loggi` or `melhor_envio` object): a
`canonical` key has none, so its codes stand for nothing and never cross into another
carrier's table. Each other carrier's table is its module in ingest/carriers/.

`carrier_status {type, code}` of the `correios` vocabulary is looked up in the Correios SRO
table (ingest/correios.py):
case and zero padding do not matter (`bde`/`1` is `BDE`/`01`), and neither does which
part went where. The Rastro API calls the letters `codigo` and the number `tipo`, so a
carrier copying its names across sends them the other way round; the letters are always
the type, so the pair is read the same either way.
"""

from __future__ import annotations

from collections.abc import Mapping

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.ingest.carriers import (
    jadlog,
    jt_express,
    loggi,
    melhor_envio,
    mercado_envios,
    total_express,
)
from parcelhooks.ingest.carriers.table import CarrierTable, CodeMeaning
from parcelhooks.ingest.correios import SRO_EVENTS, sro_number

# Every vocabulary's table but Correios' (whose pairs are ingest/correios.py's).
TABLES: Mapping[Vocabulary, CarrierTable] = {
    Vocabulary.LOGGI: loggi.TABLE,
    Vocabulary.JADLOG: jadlog.TABLE,
    Vocabulary.TOTAL_EXPRESS: total_express.TABLE,
    Vocabulary.JT_EXPRESS: jt_express.TABLE,
    Vocabulary.MERCADO_ENVIOS: mercado_envios.TABLE,
    Vocabulary.MELHOR_ENVIO: melhor_envio.TABLE,
}


def sro_key(event_type: str | None, code: str | None) -> tuple[str, str] | None:
    """The table's key for a raw pair, or None when a part is missing."""
    if not event_type or not code:
        return None
    first, second = event_type.strip().upper(), sro_number(code)
    if first.isdigit() and not second.isdigit():
        first, second = second, sro_number(first)
    return first, second


def lookup(event_type: str | None, code: str | None) -> CodeMeaning | None:
    """What a carrier's raw `(type, code)` stands for, if it is in the table."""
    key = sro_key(event_type, code)
    return SRO_EVENTS.get(key) if key else None


def lookup_in(
    vocabulary: Vocabulary, event_type: str | None, code: str | None
) -> CodeMeaning | None:
    """What a raw `(type, code)` stands for in `vocabulary`'s table, if it is there."""
    if vocabulary is Vocabulary.CORREIOS:
        return lookup(event_type, code)
    table = TABLES.get(vocabulary)
    return table.lookup(event_type, code) if table else None
