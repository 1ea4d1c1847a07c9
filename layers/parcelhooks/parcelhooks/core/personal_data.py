"""A buyer's e-mail address and phone number are personal data (LGPD): the delivery log and
the functions' log lines show them masked.

They reach the log two ways: in what a receiver or SES answered (a WhatsApp API echoes the
phone it wrote to, SES names the address it refused) and in our own lines about an e-mail.
`masker_for` masks the values the event's metadata holds, in every spelling a target may
echo (as given, digits only), and any other e-mail address in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A phone number as a buyer's metadata holds it: 10 to 15 digits, with or without marks.
_PHONE = re.compile(r"\+?[\d ()\-.]{10,24}")
_MIN_PHONE_DIGITS = 10


def mask_email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    host, dot, tld = domain.rpartition(".")
    return f"{local[:1]}***@{host[:1]}***{dot}{tld}"


def mask_phone(phone: str) -> str:
    """The last four digits, as Brazilian shops print a card or a phone."""
    digits = "".join(c for c in phone if c.isdigit())
    return f"***{digits[-4:]}"


def personal_values(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """Each e-mail address and phone number in the metadata (one level of nesting, as
    shops send them), mapped to its masked form, in every spelling worth looking for."""
    found: dict[str, str] = {}
    for value in _strings(metadata or {}):
        if _EMAIL.fullmatch(value):
            found[value] = mask_email(value)
        elif _PHONE.fullmatch(value):
            digits = "".join(c for c in value if c.isdigit())
            if len(digits) >= _MIN_PHONE_DIGITS:
                found[value] = found[digits] = mask_phone(digits)
                # The same number without Brazil's country code, as some targets echo it.
                if digits.startswith("55") and len(digits) >= 12:
                    found[digits[2:]] = mask_phone(digits)
    return found


def masker_for(metadata: Mapping[str, Any] | None) -> Callable[[str], str]:
    """A function that masks the metadata's personal values, and any address, in a text."""
    values = sorted(personal_values(metadata).items(), key=lambda kv: -len(kv[0]))

    def mask(text: str) -> str:
        for value, masked in values:
            text = text.replace(value, masked)
        return _EMAIL.sub(lambda m: mask_email(m.group()), text)

    return mask


def _strings(metadata: Mapping[str, Any]) -> Iterable[str]:
    for value in metadata.values():
        if isinstance(value, str):
            yield value.strip()
        elif isinstance(value, Mapping):
            yield from (v.strip() for v in value.values() if isinstance(v, str))
