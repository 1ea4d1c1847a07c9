"""Who takes part in a run: merchants, their three subscriptions each, how each receiver
misbehaves, and the carrier events they are sent (pure: values in, values out)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from chaos.receivers import Behaviour, Flaky, GoneAfter, Hang, Ok, Throttle
from parcelhooks.ingest.tracking_codes import s10_check_digit

SUBSCRIPTIONS_PER_MERCHANT = 3
ALL_TYPES = "*"
# Every shipment type, and the operational events about the merchant's other endpoints
# (which "*" alone does not take): the run sees the platform tell merchants too.
EVERYTHING = (ALL_TYPES, "subscription.disabled", "delivery.exhausted")
# A shipment's life, in order; each event of a shipment takes the next status.
LIFE = ("posted", "in_transit", "out_for_delivery", "delivered")
NARROW_TYPES = ("shipment.out_for_delivery", "shipment.delivered")
# Past the fan-out's delivery timeout (10 s, the template default, used locally too).
HANG_S = 11.0


class Role(StrEnum):
    """How a receiver behaves in the chaos run."""

    OK = "ok"  # the latency phase: answers 200 at once
    FLAKY = "flaky"  # 30 % of requests answered 500
    HANG = "hang"  # flaky, and now and then past the delivery timeout
    THROTTLE = "throttle"  # flaky, and every few requests a 429 with Retry-After
    GONE = "gone"  # answers 410 Gone once it has taken some requests
    DOWN = "down"  # refuses connections for a while, then comes back
    RESTART = "restart"  # slow answers; restarted by the harness mid-request


@dataclass(frozen=True)
class Chaos:
    """The knobs of a chaos run's receivers."""

    failure_rate: float = 0.3
    hang_every: int = 40
    hangers: int = 3
    throttle_every: int = 5
    retry_after_s: int = 2
    gone_after: int = 25
    restart_hold_s: float = 2.0
    # False: every receiver is only flaky (the small run in `make test`).
    misbehaving: bool = True

    def special_roles(self) -> list[Role]:
        if not self.misbehaving:
            return []
        return [Role.THROTTLE, Role.GONE, Role.DOWN, Role.RESTART] + [Role.HANG] * self.hangers

    def behaviours(self, role: Role) -> tuple[Behaviour, ...]:
        flaky = Flaky(self.failure_rate)
        match role:
            case Role.OK:
                return (Ok(),)
            case Role.FLAKY | Role.DOWN:
                return (flaky,)
            case Role.HANG:
                return (Hang(HANG_S, self.hang_every), flaky)
            case Role.THROTTLE:
                return (Throttle(every=self.throttle_every, retry_after_s=self.retry_after_s),)
            case Role.GONE:
                return (GoneAfter(self.gone_after),)
            case Role.RESTART:
                return (Hang(self.restart_hold_s, 1),)


@dataclass(frozen=True)
class SubscriptionPlan:
    """One subscription to make: whose, which slot, what it wants, how its receiver acts."""

    merchant: int
    slot: int
    role: Role
    event_types: tuple[str, ...]

    def wants(self, event_type: str) -> bool:
        return ALL_TYPES in self.event_types or event_type in self.event_types


def plan_subscriptions(
    merchants: int, rng: random.Random, *, chaos: Chaos | None, narrow_every: int = 4
) -> list[SubscriptionPlan]:
    """Three subscriptions a merchant; every `narrow_every`-th merchant's last one wants only
    two event types. With `chaos`, one receiver each throttles, goes, goes down and is
    restarted, and `chaos.hangers` hang; the rest are flaky. Without, all answer at once."""
    plans = [
        SubscriptionPlan(
            merchant,
            slot,
            Role.FLAKY if chaos else Role.OK,
            NARROW_TYPES if slot == 2 and merchant % narrow_every == 0 else EVERYTHING,
        )
        for merchant in range(merchants)
        for slot in range(SUBSCRIPTIONS_PER_MERCHANT)
    ]
    if chaos is None:
        return plans
    special = chaos.special_roles()
    # Special receivers only on subscriptions that take every event: each sees enough load.
    candidates = [i for i, plan in enumerate(plans) if plan.event_types == EVERYTHING]
    for index, role in zip(rng.sample(candidates, len(special)), special, strict=True):
        plans[index] = SubscriptionPlan(plans[index].merchant, plans[index].slot, role, EVERYTHING)
    return plans


def tracking_code(serial: int) -> str:
    """A valid UPU S10 code (Correios' shape) for a serial number."""
    digits = f"{serial:08d}"
    return f"QB{digits}{s10_check_digit(digits)}BR"


@dataclass(frozen=True)
class PlannedEvent:
    """One carrier event to send."""

    merchant: int
    body: dict[str, Any]

    @property
    def event_type(self) -> str:
        return f"shipment.{self.body['status']}"


def plan_events(
    count: int,
    merchant_ids: Sequence[str],
    rng: random.Random,
    *,
    run_tag: str,
    now: datetime | None = None,
) -> list[PlannedEvent]:
    """`count` events over the merchants' shipments, each shipment going through LIFE."""
    start = (now or datetime.now(UTC)) - timedelta(hours=2)
    events: list[PlannedEvent] = []
    serial = rng.randrange(10_000_000, 90_000_000)
    while len(events) < count:
        merchant = rng.randrange(len(merchant_ids))
        serial += 1
        for step, status in enumerate(LIFE[: count - len(events)]):
            body = {
                "carrier_event_id": f"{run_tag}-{serial}-{step}",
                "merchant_id": merchant_ids[merchant],
                "tracking_code": tracking_code(serial),
                "status": status,
                "occurred_at": (start + timedelta(minutes=10 * step)).isoformat(),
                "description": f"chaos {status}",
                "order_id": f"order-{serial}",
            }
            events.append(PlannedEvent(merchant, body))
    rng.shuffle(events)  # shipments interleave, and some events arrive late (stale)
    return events


def batches(items: Sequence[PlannedEvent], size: int) -> list[list[PlannedEvent]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]
