"""What an API key is stored as: its record (never the key itself) and its role."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from parcelhooks.core.ids import OWNER_ID_RULE, is_owner_id
from parcelhooks.core.models import Model


class Role(StrEnum):
    CARRIER = "carrier"
    MERCHANT = "merchant"


class Vocabulary(StrEnum):
    """Whose codes a carrier key's `carrier_status` speaks: its codes are looked up in that
    carrier's table only (`canonical`: a carrier that sends our statuses, no table)."""

    CANONICAL = "canonical"
    CORREIOS = "correios"
    LOGGI = "loggi"
    JADLOG = "jadlog"
    TOTAL_EXPRESS = "total_express"
    JT_EXPRESS = "jt_express"
    MERCADO_ENVIOS = "mercado_envios"
    MELHOR_ENVIO = "melhor_envio"


# What a carrier key made before keys had a vocabulary reads, until ops set one: the
# Correios table, as every key did then.
LEGACY_VOCABULARY = Vocabulary.CORREIOS


class ApiKeyRecord(Model):
    """What the ApiKeys table holds for a key; never the key itself."""

    key_id: str
    key_hash: str
    role: Role
    owner_id: str
    created_at: datetime
    description: str | None = None
    revoked_at: datetime | None = None
    # A carrier key may send only for these merchants; None means any merchant.
    merchants: list[str] | None = None
    # A carrier key's codes; None on a key made before vocabularies (LEGACY_VOCABULARY).
    vocabulary: Vocabulary | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def reads(self) -> Vocabulary:
        """The vocabulary this key's events are read in."""
        return self.vocabulary or LEGACY_VOCABULARY


class InvalidOwnerIdError(ValueError):
    """An owner id that could collide with another once joined into a table key."""


def check_owner_ids(*owner_ids: str) -> None:
    bad = [owner_id for owner_id in owner_ids if not is_owner_id(owner_id)]
    if bad:
        raise InvalidOwnerIdError(f"not a valid id: {', '.join(map(repr, bad))} ({OWNER_ID_RULE})")
