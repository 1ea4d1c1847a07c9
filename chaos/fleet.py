"""The merchants of a run: their keys, subscriptions and receivers, and what they saw."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaos.carriers import Load
from chaos.deployed import MerchantApi, api_session
from chaos.ledger import Expected, Observation, observe
from chaos.receivers import Receiver
from chaos.scenario import Chaos, Role, SubscriptionPlan
from devstack.stack import Deployment, issue_key
from parcelhooks.core.api_keys import Role as KeyRole


@dataclass
class Member:
    """One subscription of the run, with its receiver and its merchant's API."""

    plan: SubscriptionPlan
    subscription_id: str
    secret: str
    receiver: Receiver
    merchant: MerchantApi


@dataclass
class Fleet:
    """Every merchant id (by index) and every subscription of a run."""

    merchant_ids: list[str]
    members: list[Member]

    def of_merchant(self, merchant: int) -> list[Member]:
        return [m for m in self.members if m.plan.merchant == merchant]

    def with_role(self, role: Role) -> list[Member]:
        return [m for m in self.members if m.plan.role is role]

    def stop(self) -> None:
        for member in self.members:
            member.receiver.stop()


def start_fleet(
    deployment: Deployment,
    plans: Sequence[SubscriptionPlan],
    *,
    tag: str,
    chaos: Chaos | None,
    seed: int,
) -> Fleet:
    """Issue each merchant a key, start each receiver, subscribe it."""
    merchants = sorted({plan.merchant for plan in plans})
    merchant_ids = [f"{tag}-m{index}-{uuid.uuid4().hex[:6]}" for index in merchants]
    session = api_session()
    apis = {
        index: MerchantApi(
            deployment.api_url, issue_key(deployment, KeyRole.MERCHANT, owner), session
        )
        for index, owner in zip(merchants, merchant_ids, strict=True)
    }
    members: list[Member] = []
    for n, plan in enumerate(plans):
        receiver = Receiver(*(chaos or Chaos()).behaviours(plan.role), seed=seed + n)
        receiver.start()
        created = apis[plan.merchant].subscribe(receiver.url, plan.event_types)
        members.append(
            Member(plan, created["id"], created["secret"], receiver, apis[plan.merchant])
        )
    return Fleet(merchant_ids, members)


def expected_pairs(fleet: Fleet, load: Load) -> list[Expected]:
    """Each accepted event for each of its merchant's subscriptions that wants its type."""
    by_merchant: dict[int, list[Member]] = defaultdict(list)
    for member in fleet.members:
        by_merchant[member.plan.merchant].append(member)
    return [
        Expected(accepted.event_id, member.subscription_id)
        for accepted in load.accepted.values()
        for member in by_merchant[accepted.merchant]
        if member.plan.wants(accepted.event_type)
    ]


def pairs_of_event(expected: Iterable[Expected]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for item in expected:
        found[item.event_id].append(item.subscription_id)
    return dict(found)


def observations(fleet: Fleet) -> list[Observation]:
    """Every request every receiver saw, verified with its subscription's secret then."""
    return [
        observe(
            member.subscription_id,
            request.headers,
            request.body,
            [member.secret],
            request.received_at,
            answered_ok=200 <= request.status < 300,
        )
        for member in fleet.members
        for request in member.receiver.observations()
    ]


def taken_pairs(fleet: Fleet) -> set[tuple[str, str]]:
    """(webhook-id, subscription) pairs some receiver answered with a 2xx."""
    return {
        (request.headers.get("webhook-id", ""), member.subscription_id)
        for member in fleet.members
        for request in member.receiver.observations()
        if 200 <= request.status < 300
    }


def first_arrivals(fleet: Fleet) -> dict[tuple[str, str], float]:
    """(webhook-id, subscription) -> monotonic time of its first arrival."""
    first: dict[tuple[str, str], float] = {}
    for member in fleet.members:
        for request in member.receiver.observations():
            key = (request.headers.get("webhook-id", ""), member.subscription_id)
            first.setdefault(key, request.received_monotonic)
    return first
