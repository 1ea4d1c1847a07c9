"""Tracking codes: what ingest accepts, and the one spelling a shipment is stored and found by.

A code is 4-64 characters of letters A-Z a-z, digits and `. _ -`, starting with a letter or
digit: URL-unreserved characters only, so every stored code is a path segment as it is
(`GET /v1/shipments/{tracking_code}`) and never `.` or `..`. Correios S10, Loggi, Jadlog,
J&T and Mercado Envios codes and ids all fit. Ingest and the shipments route both read a
code through `check_tracking_code`, so a code is found however it was spelled when sent.

S10 (UPU standard S10): two letters, an eight-digit serial, a check digit, two letters
(the country of origin), e.g. `QB123456785BR`. The check digit is 11 minus the sum of the
serial's digits weighted 8 6 4 2 3 5 9 7, modulo 11; a result of 10 is written 0 and 11
is written 5. An S10 code is kept in upper case; a code of any other shape is another
carrier's, kept as sent and not checked further.
"""

from __future__ import annotations

import re

MIN_LENGTH = 4
MAX_LENGTH = 64
TRACKING_CODE_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._-]{{{MIN_LENGTH - 1},{MAX_LENGTH - 1}}}$"
TRACKING_CODE_RULE = (
    f"{MIN_LENGTH}-{MAX_LENGTH} characters: letters A-Z a-z, digits and . _ -, "
    "starting with a letter or digit"
)
_TRACKING_CODE = re.compile(TRACKING_CODE_PATTERN)
_OUTSIDE_ALPHABET = re.compile(r"[^A-Za-z0-9._-]")
S10 = re.compile(r"[A-Z]{2}([0-9]{8})([0-9])[A-Z]{2}")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The check digit of an eight-digit serial."""
    remainder = (
        11 - sum(int(digit) * weight for digit, weight in zip(serial, _WEIGHTS, strict=True)) % 11
    )
    return {10: 0, 11: 5}.get(remainder, remainder)


def check_tracking_code(code: str) -> str:
    """The code as a shipment is stored and looked up by: surrounding whitespace dropped,
    an S10 code in upper case. A code outside the rule, or an S10 code with a wrong check
    digit (the right one named), is a ValueError."""
    code = code.strip()
    # Checked before upper-casing: str.upper maps some non-ASCII letters to ASCII ones.
    if not _TRACKING_CODE.fullmatch(code):
        raise ValueError(_why_refused(code))
    # A carrier may send an S10 code in lower case: one shipment, however it is spelled.
    shape = S10.fullmatch(code.upper())
    if shape is None:
        return code
    expected = s10_check_digit(shape.group(1))
    if int(shape.group(2)) != expected:
        raise ValueError(
            f"{code} has the UPU S10 shape but a wrong check digit: "
            f"expected {expected}, got {shape.group(2)}"
        )
    return code.upper()


def _why_refused(code: str) -> str:
    found = _OUTSIDE_ALPHABET.search(code)
    if found is not None:
        return f"must be {TRACKING_CODE_RULE} (found {found.group()!r} at {found.start()})"
    if code and not code[0].isalnum():
        return f"must be {TRACKING_CODE_RULE} (starts with {code[0]!r})"
    return f"must be {TRACKING_CODE_RULE}"
