"""Tracking codes at ingest: only URL-unreserved characters, so every accepted code is a path
segment as it is; UPU S10 codes (Correios' format) are checked and kept in upper case."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcelhooks.core.errors import ParcelhooksError, ValidationFailedError
from parcelhooks.ingest.events import CarrierEventIn, parse_events
from parcelhooks.ingest.tracking_codes import (
    TRACKING_CODE_PATTERN,
    TRACKING_CODE_RULE,
    check_tracking_code,
    s10_check_digit,
)
from testkit.factories import carrier_event


def _one(event: dict[str, Any]) -> CarrierEventIn:
    [parsed] = parse_events(json.dumps(event))
    return parsed


def _problems(event: dict[str, Any]) -> ParcelhooksError:
    with pytest.raises(ParcelhooksError) as caught:
        parse_events(json.dumps(event))
    return caught.value


def _reference_check_digit(serial: str) -> int:
    """S10 written out differently from the code under test: the published steps."""
    total = 0
    for digit, weight in zip(serial, [8, 6, 4, 2, 3, 5, 9, 7], strict=True):
        total += int(digit) * weight
    result = 11 - total % 11
    if result == 10:
        return 0
    if result == 11:
        return 5
    return result


SERIALS = st.text("0123456789", min_size=8, max_size=8)
LETTERS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)


@pytest.mark.parametrize(
    "code",
    ["QB123456785BR", "QB987654326BR", "QB555000114BR", "AM101610575BR", "LE449872154SE"],
)
def test_real_and_sample_s10_codes_pass(code: str) -> None:
    assert _one(carrier_event(tracking_code=code)).tracking_code == code


def test_the_readme_code_fails_naming_5() -> None:
    error = _problems(carrier_event(tracking_code="QB123456789BR"))
    assert type(error) is ValidationFailedError
    [problem] = error.details
    assert problem["loc"] == "tracking_code"
    assert "expected 5, got 9" in problem["message"]


@given(prefix=LETTERS, serial=SERIALS, country=LETTERS, lower=st.booleans())
def test_a_code_with_the_right_check_digit_passes(
    prefix: str, serial: str, country: str, lower: bool
) -> None:
    assert s10_check_digit(serial) == _reference_check_digit(serial)
    code = f"{prefix}{serial}{_reference_check_digit(serial)}{country}"
    code = code.lower() if lower else code
    # One shipment however the carrier spells it: S10 codes are stored in upper case.
    assert _one(carrier_event(tracking_code=code)).tracking_code == code.upper()


@given(
    prefix=LETTERS,
    serial=SERIALS,
    country=LETTERS,
    position=st.integers(0, 8),
    shift=st.integers(1, 9),
)
def test_changing_any_digit_is_refused_naming_the_expected_digit(
    prefix: str, serial: str, country: str, position: int, shift: int
) -> None:
    digits = [*serial, str(_reference_check_digit(serial))]
    digits[position] = str((int(digits[position]) + shift) % 10)
    changed_serial, given_digit = "".join(digits[:8]), int(digits[8])
    expected = _reference_check_digit(changed_serial)
    event = carrier_event(tracking_code=f"{prefix}{''.join(digits)}{country}")
    if given_digit == expected:
        # Two remainders share the digit 5 (S10's rule), so a few changed serials still fit.
        assert expected == 5
        _one(event)
        return
    error = _problems(event)
    assert [d["loc"] for d in error.details] == ["tracking_code"]
    assert f"expected {expected}, got {given_digit}" in error.details[0]["message"]


@pytest.mark.parametrize(
    "code", ["1Z999AA10123456784", "JD014600006281475091", "QB12345678BR", "Q1123456789BR"]
)
def test_other_carriers_codes_pass_unchecked(code: str) -> None:
    assert _one(carrier_event(tracking_code=code)).tracking_code == code


# ---------------------------------------------------------------------------------------
# The alphabet: every code ingest accepts survives a URL path segment untouched

# Written out here, not read from the code under test: the documented rule.
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ALPHABET = ALNUM + "._-"
S10_SHAPE = re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}")
CODES = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(ALNUM),
    st.text(ALPHABET, min_size=3, max_size=63),
)


@given(code=CODES)
def test_every_code_of_the_alphabet_is_accepted_as_a_path_segment_that_needs_no_escaping(
    code: str,
) -> None:
    stored = _one(carrier_event(tracking_code=code)).tracking_code
    assert stored == code  # not S10-shaped (that takes 13 characters in a fixed pattern)
    assert quote(stored, safe="") == stored
    assert stored not in {".", ".."}
    assert re.fullmatch(TRACKING_CODE_PATTERN, stored)
    assert check_tracking_code(stored) == stored


@given(
    code=CODES,
    position=st.integers(0, 63),
    outside=st.characters(codec="utf-8").filter(lambda c: c not in ALPHABET and c.isprintable()),
)
def test_a_code_with_any_character_outside_the_alphabet_is_refused_naming_it(
    code: str, position: int, outside: str
) -> None:
    position = min(position, len(code) - 1)
    changed = code[:position] + outside + code[position + 1 :]
    # Surrounding whitespace is trimmed (every text field's rule): one inside is kept.
    if changed.strip() != changed:
        changed = f"A{changed}A"
    error = _problems(carrier_event(tracking_code=changed))
    assert type(error) is ValidationFailedError
    [problem] = error.details
    assert problem["loc"] == "tracking_code"
    assert TRACKING_CODE_RULE in problem["message"] or "64 characters" in problem["message"]


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("QB123456/785BR", "'/' at 8"),
        ("ab?cdef", "'?' at 2"),
        ("ab#cdef", "'#' at 2"),
        ("ab%2Fcd", "'%' at 2"),
        ("ab+cdef", "'+' at 2"),
        ("QB 123 456 785 BR", "' ' at 2"),
        ("código-1", "'ó' at 1"),
        # Look-alikes of an S10 code are refused, never folded into one ("ﬀ".upper() is "FF").
        ("QB123456785ﬀ", "'ﬀ' at 11"),
        ("\uff31\uff22123456785BR", "'\uff31' at 0"),  # fullwidth QB
        ("....", "starts with '.'"),
        ("-abcd", "starts with '-'"),
        ("_abcd", "starts with '_'"),
    ],
)
def test_codes_no_url_path_segment_carries_as_they_are_are_refused(code: str, found: str) -> None:
    error = _problems(carrier_event(tracking_code=code))
    assert type(error) is ValidationFailedError
    [problem] = error.details
    assert problem["loc"] == "tracking_code"
    assert TRACKING_CODE_RULE in problem["message"]
    assert found in problem["message"]


@pytest.mark.parametrize("code", [".", "..", "abc"])
def test_dot_segments_are_too_short_to_be_codes(code: str) -> None:
    error = _problems(carrier_event(tracking_code=code))
    assert [d["loc"] for d in error.details] == ["tracking_code"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("  qb123456785br ", "QB123456785BR"),
        ("Qb123456785bR", "QB123456785BR"),
        # Jadlog (14 digits), Mercado Envios (numeric id), J&T (numeric), Loggi-like, DHL.
        ("10084600012345", "10084600012345"),
        ("43210987654", "43210987654"),
        ("888030123456789", "888030123456789"),
        ("LGI-20261128-AB12", "LGI-20261128-AB12"),
        ("JJD000390007827163", "JJD000390007827163"),
        ("trk_0001.a", "trk_0001.a"),
    ],
)
def test_ingest_and_lookup_read_a_code_through_one_function(sent: str, stored: str) -> None:
    assert _one(carrier_event(tracking_code=sent)).tracking_code == stored
    assert check_tracking_code(sent) == stored
    assert check_tracking_code(stored) == stored


def test_the_published_schema_carries_the_alphabet() -> None:
    field = CarrierEventIn.model_json_schema()["properties"]["tracking_code"]
    assert field["pattern"] == TRACKING_CODE_PATTERN
    assert (field["minLength"], field["maxLength"]) == (4, 64)
    assert TRACKING_CODE_RULE in field["description"]
