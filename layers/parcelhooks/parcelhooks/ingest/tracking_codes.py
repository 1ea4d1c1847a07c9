"""Tracking codes in the UPU S10 shape, Correios' format, carry a check digit we verify.

S10 (UPU standard S10): two letters, an eight-digit serial, a check digit, two letters
(the country of origin), e.g. `QB123456785BR`. The check digit is 11 minus the sum of the
serial's digits weighted 8 6 4 2 3 5 9 7, modulo 11; a result of 10 is written 0 and 11
is written 5. A code of any other shape is another carrier's and passes unchecked.
"""

from __future__ import annotations

import re

S10 = re.compile(r"[A-Z]{2}([0-9]{8})([0-9])[A-Z]{2}")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The check digit of an eight-digit serial."""
    remainder = (
        11 - sum(int(digit) * weight for digit, weight in zip(serial, _WEIGHTS, strict=True)) % 11
    )
    return {10: 0, 11: 5}.get(remainder, remainder)


def check_tracking_code(code: str) -> str:
    """The code, S10 codes in upper case; a wrong S10 check digit is refused, naming the
    right one."""
    # A carrier may send an S10 code in lower case: one shipment, however it is spelled.
    shape = S10.fullmatch(code.upper())
    if shape is not None:
        expected = s10_check_digit(shape.group(1))
        if int(shape.group(2)) != expected:
            raise ValueError(
                f"{code} has the UPU S10 shape but a wrong check digit: "
                f"expected {expected}, got {shape.group(2)}"
            )
        return code.upper()
    return code
