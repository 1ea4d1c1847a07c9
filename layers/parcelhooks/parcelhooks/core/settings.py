"""Environment → typed settings, read once per cold start."""

from __future__ import annotations

import os
from functools import cache
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from parcelhooks.delivery.netguard import GuardPolicy

DEFAULT_RETRY_SCHEDULE_S = (5, 300, 1800, 7200, 18000, 36000, 36000)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CsvInts = Annotated[tuple[int, ...], BeforeValidator(_split_csv)]
CsvNetworks = Annotated[tuple[IPv4Network | IPv6Network, ...], BeforeValidator(_split_csv)]


class Settings(BaseModel):
    """Everything a function reads from its environment; template.yaml sets it."""

    model_config = ConfigDict(frozen=True)

    subscriptions_table: str = ""
    deliveries_table: str = ""
    api_keys_table: str = ""
    idempotency_table: str = ""
    events_queue_url: str = ""
    retry_queue_url: str = ""
    deliveries_dlq_url: str = ""

    retry_schedule_s: CsvInts = Field(default=DEFAULT_RETRY_SCHEDULE_S, min_length=1)
    retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    delivery_timeout_s: float = Field(default=10.0, gt=0)
    connect_timeout_s: float = Field(default=3.0, gt=0)
    max_concurrency: int = Field(default=256, ge=1, le=900)
    max_subscriptions_per_merchant: int = Field(default=50, ge=1)
    delivery_log_ttl_days: int = Field(default=30, ge=1)
    idempotency_ttl_days: int = Field(default=7, ge=1)

    # Local-stack relaxations of the URL guard; metadata addresses stay refused regardless.
    allow_http_targets: bool = False
    allowed_target_networks: CsvNetworks = ()

    @property
    def max_attempts(self) -> int:
        return len(self.retry_schedule_s) + 1

    @property
    def guard_policy(self) -> GuardPolicy:
        return GuardPolicy(
            allow_http=self.allow_http_targets, allowed_networks=self.allowed_target_networks
        )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        names = cls.model_fields.keys()
        values = {name: source[name.upper()] for name in names if name.upper() in source}
        return cls.model_validate(values)


@cache
def settings() -> Settings:
    return Settings.from_env()
