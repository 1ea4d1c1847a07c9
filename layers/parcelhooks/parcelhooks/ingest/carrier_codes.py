"""Carrier status codes that stand for a canonical status and detail.

A code is looked up only in the table of the vocabulary it is in (the carrier key's, or
Correios' for a raw `correios` object): a `canonical` key has none, so its codes stand for
nothing and never cross into another carrier's table.

`carrier_status {type, code}` of the `correios` vocabulary is looked up in the Correios SRO
table (ingest/correios.py):
case and zero padding do not matter (`bde`/`1` is `BDE`/`01`), and neither does which
part went where. The Rastro API calls the letters `codigo` and the number `tipo`, so a
carrier copying its names across sends them the other way round; the letters are always
the type, so the pair is read the same either way.
"""

from __future__ import annotations

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.ingest.correios import SRO_EVENTS, SroEvent, sro_number


def sro_key(event_type: str | None, code: str | None) -> tuple[str, str] | None:
    """The table's key for a raw pair, or None when a part is missing."""
    if not event_type or not code:
        return None
    first, second = event_type.strip().upper(), sro_number(code)
    if first.isdigit() and not second.isdigit():
        first, second = second, sro_number(first)
    return first, second


def lookup(event_type: str | None, code: str | None) -> SroEvent | None:
    """What a carrier's raw `(type, code)` stands for, if it is in the table."""
    key = sro_key(event_type, code)
    return SRO_EVENTS.get(key) if key else None


def lookup_in(vocabulary: Vocabulary, event_type: str | None, code: str | None) -> SroEvent | None:
    """What a raw `(type, code)` stands for in `vocabulary`'s table, if it is there."""
    if vocabulary is Vocabulary.CORREIOS:
        return lookup(event_type, code)
    return None
