"""Carrier status codes that map to a canonical status when a carrier sends no `status`.

Only codes whose meaning is unambiguous are mapped; anything else must come with
an explicit `status`. Keys are `(type, code)` as the carrier reports them, upper-cased.
"""

from parcelhooks.core.statuses import Status

# Correios (Brazil) SRO event types and codes.
CORREIOS: dict[tuple[str, str], Status] = {
    ("PO", "01"): Status.POSTED,
    ("PO", "09"): Status.POSTED,
    ("DO", "01"): Status.IN_TRANSIT,
    ("RO", "01"): Status.IN_TRANSIT,
    ("OEC", "01"): Status.OUT_FOR_DELIVERY,
    ("LDI", "01"): Status.AVAILABLE_FOR_PICKUP,
    ("LDI", "02"): Status.AVAILABLE_FOR_PICKUP,
    ("BDE", "01"): Status.DELIVERED,
    ("BDI", "01"): Status.DELIVERED,
    ("BDR", "01"): Status.DELIVERED,
    ("BDE", "20"): Status.DELIVERY_ATTEMPTED,
    ("BDI", "20"): Status.DELIVERY_ATTEMPTED,
    ("BDE", "23"): Status.RETURNED_TO_SENDER,
}


def canonical_status(event_type: str | None, code: str | None) -> Status | None:
    """The canonical status a carrier's raw `(type, code)` stands for, if we know it."""
    if event_type is None or code is None:
        return None
    return CORREIOS.get((event_type.strip().upper(), code.strip().upper()))
