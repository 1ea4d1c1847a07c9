"""Every code of every carrier's table, read through a key of that carrier's vocabulary:
the right status, detail and Portuguese text; and no code read in another carrier's table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parcelhooks.core.api_keys import Vocabulary
from parcelhooks.core.statuses import Status, belongs
from parcelhooks.ingest.carrier_codes import TABLES, lookup
from parcelhooks.ingest.carriers.table import (
    CarrierTable,
    Row,
    number_key,
    status_substatus_key,
    word_key,
)
from parcelhooks.ingest.correios import SRO_EVENTS
from parcelhooks.ingest.events import CarrierEventIn, parse_events
from testkit.factories import NOW, carrier_event

ROWS = [
    pytest.param(vocabulary, row, id=f"{vocabulary.value}:{row.code}")
    for vocabulary, table in TABLES.items()
    for row in table.rows
]


def as_sent(table: CarrierTable, row: Row) -> dict[str, str]:
    """The row's code as a carrier key sends it in `carrier_status`."""
    event_type, code = table.sent_as(row.code)
    return {k: v for k, v in (("type", event_type), ("code", code)) if v is not None}


def read(vocabulary: Vocabulary, carrier_status: dict[str, str], **fields: Any) -> CarrierEventIn:
    body = json.dumps(carrier_event(now=NOW, status=None, carrier_status=carrier_status, **fields))
    [event] = parse_events(body, now=NOW, vocabulary=vocabulary)
    return event


@pytest.mark.parametrize(("vocabulary", "row"), ROWS)
def test_every_code_gives_its_status_detail_and_words(vocabulary: Vocabulary, row: Row) -> None:
    event = read(vocabulary, as_sent(TABLES[vocabulary], row), description=None)
    assert (event.status, event.status_detail) == (row.status, row.detail)
    assert belongs(row.status, row.detail)
    # The carrier's own words reach the merchant where the carrier sent none.
    assert event.description == row.text
    assert event.carrier_status is not None and event.carrier_status.description == row.text


@pytest.mark.parametrize(("vocabulary", "row"), ROWS)
def test_no_code_is_read_in_any_other_vocabulary_s_table(vocabulary: Vocabulary, row: Row) -> None:
    sent = as_sent(TABLES[vocabulary], row)
    for other in Vocabulary:
        if other is vocabulary:
            continue
        event = read(other, sent)
        theirs = (
            TABLES[other].lookup(sent.get("type"), sent.get("code")) if other in TABLES else None
        )
        if other is Vocabulary.CORREIOS:
            theirs = lookup(sent.get("type"), sent.get("code"))
        # Another table may hold the same spelling: then it is that carrier's meaning, never
        # this one's; otherwise the code is unknown.
        expected = (theirs.status, theirs.detail) if theirs else (Status.UNKNOWN, None)
        assert (event.status, event.status_detail) == expected


@pytest.mark.parametrize("vocabulary", list(TABLES))
def test_correios_codes_never_resolve_in_another_carrier_s_table(vocabulary: Vocabulary) -> None:
    for event_type, code in SRO_EVENTS:
        event = read(vocabulary, {"type": event_type, "code": code})
        assert event.status is Status.UNKNOWN, (vocabulary, event_type, code)


@pytest.mark.parametrize("vocabulary", list(TABLES))
def test_every_table_cites_its_sources_and_says_how_codes_are_sent(
    vocabulary: Vocabulary,
) -> None:
    table = TABLES[vocabulary]
    assert table.rows and table.how_sent
    assert {source for row in table.rows for source in row.sources} == set(table.sources)


def test_every_named_vocabulary_but_correios_and_canonical_has_a_table() -> None:
    assert set(TABLES) == set(Vocabulary) - {Vocabulary.CORREIOS, Vocabulary.CANONICAL}


@pytest.mark.parametrize(
    ("key", "sent", "expected"),
    [
        (number_key, (None, "005"), "5"),
        (number_key, ("7", None), "7"),
        (number_key, ("BDE", "01"), None),
        (word_key, ("BDE", "ENTREGUE"), None),
        (word_key, (None, " em_rota "), "EM ROTA"),
        (word_key, (None, "Transferência"), "TRANSFERENCIA"),
        (word_key, (None, "order.posted"), "ORDER.POSTED"),
        (status_substatus_key, ("Shipped", "out_for_delivery"), "shipped/out_for_delivery"),
        (status_substatus_key, ("delivered", None), "delivered"),
        (status_substatus_key, (None, "out_for_delivery"), None),
    ],
)
def test_how_a_raw_code_is_read(
    key: Any, sent: tuple[str | None, str | None], expected: str | None
) -> None:
    assert key(*sent) == expected


def test_a_table_that_lists_a_code_twice_or_cites_nothing_refuses_to_load() -> None:
    from parcelhooks.core.statuses import StatusDetail as D

    row = Row("1", Status.DELIVERED, D.TO_RECIPIENT, "Entregue", ("a",))
    with pytest.raises(ValueError, match="twice"):
        CarrierTable("X", "code", {"a": "src"}, (row, row._replace(code="01")), number_key)
    with pytest.raises(ValueError, match="not cited"):
        CarrierTable("X", "code", {"a": "src"}, (row._replace(sources=("b",)),), number_key)
    with pytest.raises(ValueError, match="is not a"):
        CarrierTable("X", "code", {"a": "src"}, (row._replace(detail=D.LOST),), number_key)
