"""A carrier key's codes are read in its own vocabulary: no code crosses carriers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parcelhooks.auth.keys import create_key
from parcelhooks.core.api_keys import Role, Vocabulary
from parcelhooks.core.statuses import Status, StatusDetail
from parcelhooks.ingest.correios import SRO_EVENTS
from parcelhooks.ingest.events import CarrierEventIn, parse_events
from testkit.factories import NOW, carrier_event
from testkit.fakes import FakeKeyStore

CORREIOS_CODES = sorted(SRO_EVENTS)


def _one(vocabulary: Vocabulary | None, **overrides: Any) -> CarrierEventIn:
    body = json.dumps(carrier_event(now=NOW, **overrides))
    if vocabulary is None:
        [event] = parse_events(body, now=NOW)  # a key made before vocabularies
    else:
        [event] = parse_events(body, now=NOW, vocabulary=vocabulary)
    return event


@pytest.mark.parametrize(("event_type", "code"), CORREIOS_CODES)
def test_another_carriers_code_never_resolves_through_the_correios_table(
    event_type: str, code: str
) -> None:
    event = _one(
        Vocabulary.CANONICAL, status=None, carrier_status={"type": event_type, "code": code}
    )
    # Delivered as `unknown` with the code as sent, never refused, never Correios' meaning.
    assert (event.status, event.status_detail) == (Status.UNKNOWN, None)
    assert event.carrier_status is not None
    assert (event.carrier_status.type, event.carrier_status.code) == (event_type, code)


@pytest.mark.parametrize(("event_type", "code"), CORREIOS_CODES)
def test_a_correios_key_reads_every_correios_code(event_type: str, code: str) -> None:
    meaning = SRO_EVENTS[(event_type, code)]
    for vocabulary in (Vocabulary.CORREIOS, None):  # set, or a key made before vocabularies
        event = _one(vocabulary, status=None, carrier_status={"type": event_type, "code": code})
        assert (event.status, event.status_detail) == (meaning.status, meaning.detail)


def test_a_status_sent_with_another_carriers_code_takes_no_detail_from_the_code() -> None:
    event = _one(
        Vocabulary.CANONICAL,
        status="delivery_attempted",
        carrier_status={"type": "BDE", "code": "20"},  # Correios: recipient absent
    )
    assert (event.status, event.status_detail) == (Status.DELIVERY_ATTEMPTED, None)


def test_a_raw_correios_object_is_read_in_correios_codes_whatever_the_key() -> None:
    raw = {"codigo": "BDE", "tipo": "20", "dtHrCriado": "2026-11-28T08:40:02"}
    event = _one(
        Vocabulary.CANONICAL, status=None, occurred_at=None, carrier_status=None, correios=raw
    )
    assert (event.status, event.status_detail) == (
        Status.DELIVERY_ATTEMPTED,
        StatusDetail.RECIPIENT_ABSENT,
    )


def test_a_new_carrier_key_reads_canonical_unless_told_and_a_merchant_key_has_none() -> None:
    keys = FakeKeyStore()
    _, plain = create_key(keys, Role.CARRIER, "loggi")
    _, correios = create_key(keys, Role.CARRIER, "correios", vocabulary=Vocabulary.CORREIOS)
    _, merchant = create_key(keys, Role.MERCHANT, "shop")
    assert (plain.vocabulary, correios.vocabulary, merchant.vocabulary) == (
        Vocabulary.CANONICAL,
        Vocabulary.CORREIOS,
        None,
    )
    with pytest.raises(ValueError, match="carrier key's"):
        create_key(keys, Role.MERCHANT, "shop", vocabulary=Vocabulary.CORREIOS)
