"""EndpointHealth table: one item per subscription, shared by every fan-out invocation.

A lane is an attribute `lease_<token>` holding its expiry, counted in `in_flight`; taking
one is a single conditional update, and so is giving it back with the endpoint's answer.
An answer on a lane an invocation holds of its own (core/health.py `lane_share`) is
recorded alone, when it changes something (`record`).
A lane whose worker crashed expires and is taken back by the next caller refused for it.
Times are epoch milliseconds.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from parcelhooks.aws.items import batch_get, deserialize, is_condition_failure
from parcelhooks.core.health import EndpointHealth, Limits, Observation

LEASE_PREFIX = "lease_"
_TIMES = (
    "failing_since",
    "last_success_at",
    "last_failure_at",
    "hold_until",
    "slow_until",
    "rate_next_at",
)
_COUNTS = ("consecutive_failures", "in_flight", "held", "pending")
# Taking expired lanes back, then asking again: at most this many rounds per admission.
ADMIT_ROUNDS = 3


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value) / 1000, UTC)


def health_of(item: dict[str, Any] | None) -> EndpointHealth:
    if not item:
        return EndpointHealth()
    values: dict[str, Any] = {name: _time(item.get(name)) for name in _TIMES}
    values |= {name: int(item.get(name, 0)) for name in _COUNTS}
    return EndpointHealth(**values)


def expired_leases(item: dict[str, Any], now: datetime) -> dict[str, int]:
    return {
        name: int(value)
        for name, value in item.items()
        if name.startswith(LEASE_PREFIX) and int(value) <= _ms(now)
    }


class EndpointHealthTable:
    """Partition key subscription_id."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def read(self, subscription_id: str) -> EndpointHealth:
        return health_of(self._item(subscription_id))

    def read_many(self, subscription_ids: Collection[str]) -> dict[str, EndpointHealth]:
        """Each endpoint's record (a fresh one for an endpoint never written), read together."""
        found = self._items(subscription_ids)
        return {id_: health_of(found.get(id_, {})) for id_ in subscription_ids}

    def admit(
        self,
        subscription_id: str,
        limits: Limits,
        *,
        pause_after_failures: int,
        lease_until: datetime,
        now: datetime,
    ) -> tuple[str | None, EndpointHealth]:
        """A lane (its token) or None, and the record as it stood after, or when refused."""
        token = secrets.token_hex(8)
        for _ in range(ADMIT_ROUNDS):
            taken, item = self._take_lane(
                subscription_id,
                token,
                limits=limits,
                pause_after_failures=pause_after_failures,
                lease_until=lease_until,
                now=now,
            )
            if taken:
                return token, health_of(item)
            if not self._reclaim(subscription_id, expired_leases(item, now)):
                # Nothing to take back (or someone else did): the refusal stands.
                return None, health_of(item)
        return None, health_of(item)

    def release(
        self,
        subscription_id: str,
        token: str,
        observation: Observation,
        *,
        now: datetime,
        hold_until: datetime | None = None,
        slow_until: datetime | None = None,
    ) -> EndpointHealth:
        """Give the lane back and record what the endpoint answered; the record after."""
        update = _Update()
        lease = update.name(LEASE_PREFIX + token)
        update.remove(lease)
        update.add("in_flight", -1)
        _record(update, observation, now, hold_until, slow_until)
        try:
            return health_of(self._apply(subscription_id, update, f"attribute_exists({lease})"))
        except ClientError as error:
            if not is_condition_failure(error):
                raise
        # The lane expired and was taken back: record the answer alone.
        return self.record(
            subscription_id, observation, now=now, hold_until=hold_until, slow_until=slow_until
        )

    def record(
        self,
        subscription_id: str,
        observation: Observation,
        *,
        now: datetime,
        hold_until: datetime | None = None,
        slow_until: datetime | None = None,
    ) -> EndpointHealth:
        """Record what the endpoint answered on a lane not taken from here; the record after."""
        update = _Update()
        _record(update, observation, now, hold_until, slow_until)
        if not update:
            return self.read_many([subscription_id])[subscription_id]
        return health_of(self._apply(subscription_id, update))

    def count(self, subscription_id: str, *, held: int = 0, pending: int = 0) -> None:
        update = _Update()
        if held:
            update.add("held", held)
        if pending:
            update.add("pending", pending)
        if update:
            self._apply(subscription_id, update)

    def reset_breaker(self, subscription_id: str) -> None:
        """Re-enabled by its owner: the failures before that count no more."""
        update = _Update()
        update.set("consecutive_failures", 0)
        for name in ("failing_since", "hold_until", "slow_until"):
            update.remove(update.name(name))
        self._apply(subscription_id, update)

    def _take_lane(
        self,
        subscription_id: str,
        token: str,
        *,
        limits: Limits,
        pause_after_failures: int,
        lease_until: datetime,
        now: datetime,
    ) -> tuple[bool, dict[str, Any]]:
        """Whether a lane was taken, and the item after (or as it refused)."""
        update = _Update()
        update.set(LEASE_PREFIX + token, _ms(lease_until))
        update.add("in_flight", 1)
        v = update.value
        conditions = [
            f"(attribute_not_exists(hold_until) OR hold_until <= {v(_ms(now))})",
            # A paused or slowed endpoint gets one lane; a healthy one up to its limit.
            f"(attribute_not_exists(in_flight) OR in_flight < {v(1)} OR (in_flight < "
            f"{v(limits.max_in_flight)} AND (attribute_not_exists(consecutive_failures) OR "
            f"consecutive_failures < {v(pause_after_failures)}) AND "
            f"(attribute_not_exists(slow_until) OR slow_until <= {v(_ms(now))})))",
        ]
        if limits.interval_s is not None:
            # GCRA: the next free slot moves one interval on; a burst may run ahead of it.
            interval_ms = round(limits.interval_s * 1000)
            latest_ms = _ms(now) + round(limits.burst_s * 1000)
            conditions.append(
                f"(attribute_not_exists(rate_next_at) OR rate_next_at <= {v(latest_ms)})"
            )
        condition = " AND ".join(conditions)
        try:
            if limits.interval_s is None:
                return True, self._apply(subscription_id, update, condition)
            return True, self._take_rate_slot(subscription_id, update, condition, now, interval_ms)
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            raw: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            if raw:
                return False, deserialize(raw)
            return False, self._items([subscription_id]).get(subscription_id, {})

    def _take_rate_slot(
        self,
        subscription_id: str,
        update: _Update,
        condition: str,
        now: datetime,
        interval_ms: int,
    ) -> dict[str, Any]:
        """Two shapes of the same step: from now when the pace is behind, else one on."""
        behind = update.copy()
        behind.set("rate_next_at", _ms(now) + interval_ms)
        try:
            return self._apply(
                subscription_id,
                behind,
                f"{condition} AND (attribute_not_exists(rate_next_at) OR rate_next_at <= "
                f"{behind.value(_ms(now))})",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            raw: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
            item = deserialize(raw)
            if int(item.get("rate_next_at", 0)) <= _ms(now):
                raise  # refused for another reason
        ahead = update.copy()
        ahead.add("rate_next_at", interval_ms)
        return self._apply(
            subscription_id,
            ahead,
            f"{condition} AND rate_next_at > {ahead.value(_ms(now))}",
        )

    def _reclaim(self, subscription_id: str, expired: dict[str, int]) -> bool:
        if not expired:
            return False
        update = _Update()
        checks = []
        for name, expiry in expired.items():
            alias = update.name(name)
            update.remove(alias)
            checks.append(f"{alias} = {update.value(expiry)}")
        update.add("in_flight", -len(expired))
        try:
            self._apply(subscription_id, update, " AND ".join(checks))
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            return False
        return True

    def _items(self, subscription_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """The items there are of these endpoints, by id: one consistent BatchGetItem per
        hundred (the fan-out's one way of reading records)."""
        keys = [{"subscription_id": id_} for id_ in sorted(set(subscription_ids))]
        items = batch_get(self._table, keys, consistent=True)
        return {str(item["subscription_id"]): dict(item) for item in items}

    def _item(self, subscription_id: str) -> dict[str, Any]:
        response = self._table.get_item(
            Key={"subscription_id": subscription_id}, ConsistentRead=True
        )
        return dict(response.get("Item") or {})

    def _apply(
        self, subscription_id: str, update: _Update, condition: str | None = None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "Key": {"subscription_id": subscription_id},
            "UpdateExpression": update.expression(),
            "ExpressionAttributeNames": update.names,
            "ReturnValues": "ALL_NEW",
        }
        if update.values:
            kwargs["ExpressionAttributeValues"] = update.values
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return dict(self._table.update_item(**kwargs).get("Attributes") or {})


def _record(
    update: _Update,
    observation: Observation,
    now: datetime,
    hold_until: datetime | None,
    slow_until: datetime | None,
) -> None:
    if observation is Observation.SUCCESS:
        update.set("last_success_at", _ms(now))
        update.set("consecutive_failures", 0)
        update.remove(update.name("failing_since"))
        update.remove(update.name("hold_until"))
    elif observation is Observation.FAILURE:
        update.set("last_failure_at", _ms(now))
        update.set_if_absent("failing_since", _ms(now))
        update.add("consecutive_failures", 1)
        if hold_until is not None:
            update.set("hold_until", _ms(hold_until))
    elif observation is Observation.THROTTLED:
        if hold_until is not None:
            update.set("hold_until", _ms(hold_until))
        if slow_until is not None:
            update.set("slow_until", _ms(slow_until))
    elif hold_until is not None:  # NEUTRAL: only the hold
        update.set("hold_until", _ms(hold_until))


class _Update:
    """An UpdateExpression built clause by clause, every name and value a placeholder."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._set: list[str] = []
        self._add: list[str] = []
        self._remove: list[str] = []

    def __bool__(self) -> bool:
        return bool(self._set or self._add or self._remove)

    def copy(self) -> _Update:
        other = _Update()
        other.names, other.values = dict(self.names), dict(self.values)
        other._set, other._add = list(self._set), list(self._add)
        other._remove = list(self._remove)
        return other

    def name(self, attribute: str) -> str:
        alias = f"#n{len(self.names)}"
        self.names[alias] = attribute
        return alias

    def value(self, value: Any) -> str:
        alias = f":v{len(self.values)}"
        self.values[alias] = value
        return alias

    def set(self, attribute: str, value: Any) -> None:
        self._set.append(f"{self.name(attribute)} = {self.value(value)}")

    def set_if_absent(self, attribute: str, value: Any) -> None:
        alias = self.name(attribute)
        self._set.append(f"{alias} = if_not_exists({alias}, {self.value(value)})")

    def add(self, attribute: str, amount: int) -> None:
        self._add.append(f"{self.name(attribute)} {self.value(amount)}")

    def remove(self, alias: str) -> None:
        self._remove.append(alias)

    def expression(self) -> str:
        clauses = []
        if self._set:
            clauses.append("SET " + ", ".join(self._set))
        if self._add:
            clauses.append("ADD " + ", ".join(self._add))
        if self._remove:
            clauses.append("REMOVE " + ", ".join(self._remove))
        return " ".join(clauses)
