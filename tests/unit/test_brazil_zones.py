"""A carrier's local time is read in its unit's zone: the state's (UF), Fernando de Noronha by
its city, Brasília without a known state; historic daylight saving comes from the tz
database. The webhook says which zone was assumed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from parcelhooks.core.brazil_zones import BRASILIA, UF_ZONES, ZoneSource, zone_of
from parcelhooks.delivery.webhook import webhook_body
from parcelhooks.ingest.accept import to_shipment_event
from parcelhooks.ingest.events import CarrierEventIn, parse_events
from parcelhooks_cli.send import read_event_file
from testkit.factories import NOW, carrier_event

# Every state of Brazil and the federal district.
STATES = frozenset(
    {"AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA"}
    | {"PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO"}
)


def _unit(city: str | None, uf: str | None) -> dict[str, Any]:
    address = {k: v for k, v in {"cidade": city, "uf": uf}.items() if v is not None}
    return {"codSro": "69000000", "endereco": address}


def _rastro_event(local: str, unit: dict[str, Any] | None) -> CarrierEventIn:
    raw: dict[str, Any] = {"codigo": "RO", "tipo": "01", "dtHrCriado": local}
    if unit is not None:
        raw["unidade"] = unit
    event = carrier_event(now=NOW, status=None, occurred_at=None, correios=raw)
    [parsed] = parse_events(json.dumps(event), now=NOW)
    return parsed


@pytest.mark.parametrize(
    ("city", "uf", "offset_h", "zone"),
    [
        ("MANAUS", "AM", -4, "America/Manaus"),
        ("RIO BRANCO", "AC", -5, "America/Rio_Branco"),
        ("Fernando de Noronha", "PE", -2, "America/Noronha"),
        ("FERNANDO DE NORONHA", "pe", -2, "America/Noronha"),
        ("RECIFE", "PE", -3, "America/Recife"),
        ("SAO PAULO", "SP", -3, BRASILIA),
        ("CUIABA", "MT", -4, "America/Cuiaba"),
    ],
)
def test_a_units_local_time_is_read_in_its_states_zone(
    city: str, uf: str, offset_h: int, zone: str
) -> None:
    event = _rastro_event("2026-11-28T10:00:00", _unit(city, uf))
    assert event.occurred_at is not None
    assert event.occurred_at.utcoffset() == timedelta(hours=offset_h)
    assert event.occurred_at.astimezone(UTC) == datetime(2026, 11, 28, 10 - offset_h, tzinfo=UTC)
    assert event.occurred_at_zone is not None
    assert (event.occurred_at_zone.name, event.occurred_at_zone.source) == (
        zone,
        ZoneSource.UNIT_STATE,
    )


@pytest.mark.parametrize("unit", [None, _unit("ASUNCION", None), _unit("X", "ZZ")])
def test_without_a_known_state_it_is_brasilia_time_and_says_so(
    unit: dict[str, Any] | None,
) -> None:
    event = _rastro_event("2026-11-28T10:00:00", unit)
    assert event.occurred_at == datetime(2026, 11, 28, 13, tzinfo=UTC)
    assert event.occurred_at_zone is not None
    assert (event.occurred_at_zone.name, event.occurred_at_zone.source) == (
        BRASILIA,
        ZoneSource.DEFAULT,
    )


def test_a_time_sent_with_its_offset_keeps_it_and_assumes_no_zone() -> None:
    event = _rastro_event("2026-11-28T10:00:00-04:00", _unit("RIO BRANCO", "AC"))
    assert event.occurred_at is not None
    assert event.occurred_at.utcoffset() == timedelta(hours=-4)
    assert event.occurred_at_zone is None


@pytest.mark.parametrize(
    ("uf", "local", "offset_h"),
    [
        # São Paulo kept daylight saving until February 2019 (UTC-02:00 in summer).
        ("SP", datetime(2018, 12, 1, 10), -2),
        ("SP", datetime(2018, 6, 1, 10), -3),
        ("SP", datetime(2019, 12, 1, 10), -3),  # abolished by decree in April 2019
        # Clocks went forward at midnight on 2018-11-04: the day before was still UTC-03:00.
        ("SP", datetime(2018, 11, 3, 23, 30), -3),
        ("SP", datetime(2018, 11, 4, 1, 30), -2),
        # Mato Grosso kept it too (UTC-03:00 in summer); Amazonas never did.
        ("MT", datetime(2018, 12, 1, 10), -3),
        ("AM", datetime(2018, 12, 1, 10), -4),
        # Acre was on UTC-04:00 from 2008 to 2013.
        ("AC", datetime(2010, 6, 1, 10), -4),
        ("AC", datetime(2014, 6, 1, 10), -5),
    ],
)
def test_historic_daylight_saving_comes_from_the_tz_database(
    uf: str, local: datetime, offset_h: int
) -> None:
    assert zone_of(uf).localize(local).utcoffset() == timedelta(hours=offset_h)


def test_every_state_has_a_zone_the_tz_database_knows() -> None:
    assert sorted(UF_ZONES) == sorted(STATES)
    for uf in STATES:
        ZoneInfo(zone_of(uf).name)  # raises if the tz database lacks it


def test_the_webhook_says_which_zone_was_assumed() -> None:
    event = _rastro_event("2026-11-28T10:00:00", _unit("MANAUS", "AM"))
    data = json.loads(webhook_body(to_shipment_event(event, "correios", NOW)))["data"]
    assert data["occurred_at"] == "2026-11-28T10:00:00-04:00"  # the offset it was read with
    assert data["occurred_at_zone"] == {"name": "America/Manaus", "source": "unit_state"}
    offset = json.loads(webhook_body(to_shipment_event(_one_with_offset(), "correios", NOW)))[
        "data"
    ]
    assert offset["occurred_at_zone"] is None


def _one_with_offset() -> CarrierEventIn:
    [parsed] = parse_events(json.dumps(carrier_event(now=NOW)), now=NOW)
    return parsed


def test_the_cli_writes_a_units_relative_time_in_the_units_zone(tmp_path: Path) -> None:
    sample = tmp_path / "rastro.json"
    unit = _unit("RIO BRANCO", "AC")
    sample.write_text(json.dumps({"correios": {"dtHrCriado": "now", "unidade": unit}}))
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    stamped = json.loads(read_event_file(str(sample), now=now))["correios"]
    assert stamped["dtHrCriado"] == "2026-11-28T07:00:00"  # Rio Branco's clock at 12:00 UTC
