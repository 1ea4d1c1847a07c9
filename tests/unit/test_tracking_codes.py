"""UPU S10 tracking codes (Correios' format) are checked at ingest; other shapes pass."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcelhooks.core.errors import ParcelhooksError, ValidationFailedError
from parcelhooks.ingest.events import CarrierEventIn, parse_events
from parcelhooks.ingest.tracking_codes import s10_check_digit
from tests.factories import carrier_event


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


@settings(max_examples=200)
@given(prefix=LETTERS, serial=SERIALS, country=LETTERS, lower=st.booleans())
def test_a_code_with_the_right_check_digit_passes(
    prefix: str, serial: str, country: str, lower: bool
) -> None:
    assert s10_check_digit(serial) == _reference_check_digit(serial)
    code = f"{prefix}{serial}{_reference_check_digit(serial)}{country}"
    code = code.lower() if lower else code
    # One shipment however the carrier spells it: S10 codes are stored in upper case.
    assert _one(carrier_event(tracking_code=code)).tracking_code == code.upper()


@settings(max_examples=200)
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
