"""`parcelhooks send FILE|-`: post a carrier event file to the ingest API, as a carrier would.

An event's time may be written relative to the time of sending: `now`, or `now` and an
offset in minutes, hours or days (`now-90m`, `now-2h`, `now+1d`), in `occurred_at`,
`estimated_delivery` and a raw Correios event's `dtHrCriado` and `dtPrevista`. `send`
stamps such times as it sends the file, so the samples in events/carrier never fall out of
the window of times ingest accepts; a file without them is sent byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from parcelhooks.core.brazil_zones import zone_of
from parcelhooks_cli.errors import (
    EXIT_CANNOT_RUN,
    EXIT_FAILED,
    CommandFailed,
    Problem,
    problem_from_error_shape,
)

CARRIER_KEY_ENV = "PARCELHOOKS_CARRIER_KEY"
TIMEOUT_S = 30
# At most four digits: 9999 days back stays a date Python can hold.
RELATIVE_TIME = re.compile(r"now(?:([+-])([0-9]{1,4})([mhd]))?")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
EVENT_TIME_FIELDS = ("occurred_at", "estimated_delivery")
RASTRO_TIME_FIELDS = ("dtHrCriado", "dtPrevista")
MELHOR_ENVIO_TIME_FIELDS = (
    "created_at",
    "paid_at",
    "generated_at",
    "posted_at",
    "delivered_at",
    "canceled_at",
    "expired_at",
)


def read_event_file(name: str, *, now: datetime | None = None) -> bytes:
    """The file's bytes (stdin for `-`), once we know they are JSON, with its relative times
    stamped at `now` (the time of sending unless given); without any, exactly as they are."""
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as error:
        raise CommandFailed(Problem("bad_input", f"cannot read {name}: {error.strerror}")) from None
    try:
        payload = json.loads(raw)
    except ValueError as error:
        problem = Problem("bad_input", f"{name} is not JSON: {error}", EXIT_CANNOT_RUN)
        raise CommandFailed(problem) from None
    if not stamp_times(payload, now or datetime.now(UTC)):
        return raw
    return json.dumps(payload, ensure_ascii=False).encode()


def stamp_times(payload: Any, now: datetime) -> int:
    """Stamp the relative times of an event or `{"events": [...]}` in place; how many."""
    events = payload.get("events", [payload]) if isinstance(payload, dict) else []
    stamped = 0
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        stamped += _stamp(event, EVENT_TIME_FIELDS, now, _rfc3339)
        if isinstance(correios := event.get("correios"), dict):
            local = partial(_as_rastro_writes_it, zone=_unit_zone(correios))
            stamped += _stamp(correios, RASTRO_TIME_FIELDS, now, local)
        stamped += _stamp_raw(event, now)
    return stamped


def _stamp_raw(event: dict[str, Any], now: datetime) -> int:
    """A raw Loggi package's or Melhor Envio webhook's relative times, as they write them."""
    stamped = 0
    if isinstance(loggi := event.get("loggi"), dict):
        stamped += _stamp(loggi, ("requestTime",), now, _rfc3339)
        stamped += _stamp(loggi, ("promisedDate",), now, _day)
        if isinstance(status := loggi.get("status"), dict):
            stamped += _stamp(status, ("updatedTime",), now, _rfc3339)
    melhor_envio = event.get("melhor_envio")
    data = melhor_envio.get("data") if isinstance(melhor_envio, dict) else None
    if isinstance(data, dict):
        stamped += _stamp(data, MELHOR_ENVIO_TIME_FIELDS, now, _rfc3339)
    return stamped


def _day(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("America/Sao_Paulo")).date().isoformat()


def _stamp(
    fields: dict[str, Any], names: tuple[str, ...], now: datetime, write: Callable[[datetime], str]
) -> int:
    stamped = 0
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and (relative := RELATIVE_TIME.fullmatch(value)):
            sign, amount, unit = relative.groups()
            offset = timedelta(**{_UNITS[unit]: int(amount)}) if unit else timedelta(0)
            fields[name] = write(now - offset if sign == "-" else now + offset)
            stamped += 1
    return stamped


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _unit_zone(correios: dict[str, Any]) -> ZoneInfo:
    """The zone ingest reads the unit's local times in (its state's, else Brasília)."""
    unit = correios.get("unidade")
    address = unit.get("endereco") if isinstance(unit, dict) else None
    fields = address if isinstance(address, dict) else {}
    state, city = fields.get("uf"), fields.get("cidade")
    return ZoneInfo(
        zone_of(
            state if isinstance(state, str) else None, city if isinstance(city, str) else None
        ).name
    )


def _as_rastro_writes_it(moment: datetime, *, zone: ZoneInfo) -> str:
    """The unit's local time without an offset, as Correios' Rastro writes its times."""
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


def post_events(api_url: str, carrier_key: str, body: bytes) -> dict[str, Any]:
    """POST {api_url}/v1/events; the 202 answer, or CommandFailed with the error shape."""
    response = requests.post(
        f"{api_url.rstrip('/')}/v1/events",
        data=body,
        headers={"authorization": f"Bearer {carrier_key}", "content-type": "application/json"},
        timeout=TIMEOUT_S,
    )
    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    if not response.ok:
        fallback = response.text[:200] or response.reason
        problem = problem_from_error_shape(answer, fallback)
        message = f"ingest answered {response.status_code}: {problem.message}"
        raise CommandFailed(dataclasses.replace(problem, message=message), answer)
    if not isinstance(answer, dict):
        message = f"ingest answered {response.status_code} without a JSON object"
        raise CommandFailed(Problem("bad_answer", message, EXIT_FAILED))
    return answer
