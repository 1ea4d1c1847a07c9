"""A carrier's table of status codes: each code's canonical status, detail and its words.

A table belongs to one vocabulary and is the only place that vocabulary's codes are
mapped. Each row names the sources it was read from (the module's `SOURCES`), so
docs/statuses.md can cite them per code. How a raw `carrier_status {type, code}` becomes
a row's code is the table's `key`: a carrier's codes are numbers (`1` and `001` are one
code), words (case, accents and spacing do not matter) or a status with a sub-status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from parcelhooks.core.brazil_zones import plain_upper
from parcelhooks.core.statuses import Status, StatusDetail, belongs


class CodeMeaning(NamedTuple):
    """What one carrier code stands for, and the carrier's own words for it."""

    status: Status
    detail: StatusDetail
    text: str


class Row(NamedTuple):
    """One code of a carrier's table, as the module lists it."""

    code: str
    status: Status
    detail: StatusDetail
    # The carrier's Portuguese text for the code (a translation is marked in `note`).
    text: str
    # Keys of the module's SOURCES this row was read from.
    sources: tuple[str, ...]
    note: str = ""


KeyFunction = Callable[[str | None, str | None], str | None]


def _single(event_type: str | None, code: str | None) -> str | None:
    """The one part a single-code carrier sends (as `code`, or as `type` alone); None when
    both are given: that is a pair, such as Correios' `BDE`/`01`, not this carrier's code."""
    if event_type and event_type.strip() and code and code.strip():
        return None
    return code or event_type


def number_key(event_type: str | None, code: str | None) -> str | None:
    """A numeric code, `1`, `01` and `001` alike; sent as `code` (or as `type` alone)."""
    value = (_single(event_type, code) or "").strip()
    if value.isascii() and value.isdigit():
        return str(int(value))
    return value.upper() or None


def word_key(event_type: str | None, code: str | None) -> str | None:
    """A code that is a word or words (`EM ROTA`, `em_rota`, `Em rota` are one)."""
    # `_` and `-` read as spaces; case, accents and spacing do not matter.
    value = plain_upper((_single(event_type, code) or "").replace("_", " ").replace("-", " "))
    return value or None


def status_substatus_key(event_type: str | None, code: str | None) -> str | None:
    """`type` the status and `code` its sub-status: `status/substatus`, or `status` alone
    when there is no sub-status (lower case, spaces as `_`)."""

    def part(value: str | None) -> str:
        return "_".join((value or "").strip().lower().split())

    status, substatus = part(event_type), part(code)
    if not status:
        return None
    return f"{status}/{substatus}" if substatus else status


@dataclass(frozen=True)
class CarrierTable:
    """One vocabulary's codes: rows, their sources, and how a raw code is read."""

    name: str
    # How a carrier sends its code in `carrier_status` (for docs/statuses.md).
    how_sent: str
    sources: Mapping[str, str]
    rows: tuple[Row, ...]
    key: KeyFunction
    _by_code: dict[str, CodeMeaning] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, CodeMeaning] = {}
        for row in self.rows:
            code = self.key(*self.sent_as(row.code))
            if code is None or code in by_code:
                raise ValueError(f"{self.name}: code {row.code!r} is empty or listed twice")
            if not belongs(row.status, row.detail):
                raise ValueError(f"{self.name} {row.code}: {row.detail} is not a {row.status}")
            unknown = set(row.sources) - set(self.sources)
            if not row.sources or unknown:
                raise ValueError(f"{self.name} {row.code}: sources {sorted(unknown)} not cited")
            by_code[code] = CodeMeaning(row.status, row.detail, row.text)
        object.__setattr__(self, "_by_code", by_code)

    def sent_as(self, code: str) -> tuple[str | None, str | None]:
        """A row's code as a carrier sends it, `(type, code)`: `status/substatus` as a
        status and its sub-status, any other as the code alone."""
        if self.key is status_substatus_key:
            status, _, substatus = code.partition("/")
            return status, substatus or None
        return None, code

    def lookup(self, event_type: str | None, code: str | None) -> CodeMeaning | None:
        """What a raw `(type, code)` stands for in this table, if it is there."""
        key = self.key(event_type, code)
        return self._by_code.get(key) if key else None
