"""When the pipeline has nothing left to do, and what is still waiting if it never gets there.

Every piece of pending work lives in a queue: the fan-out sends a retry (or an operational
event) before SQS deletes the message it came from, so EventsQueue and RetryQueue both
empty — nothing visible, in flight or delayed — means drained. A message moving between
the two could be missed by one look, so the queues must read empty twice in a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chaos.ledger import Pair

ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
EMPTY_READS_NEEDED = 2
POLL_S = 1.0


@dataclass(frozen=True)
class Depth:
    """What one queue holds: ready, in flight, delayed."""

    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed

    @classmethod
    def of(cls, attributes: Mapping[str, str]) -> Depth:
        counts = [int(attributes.get(name, "0")) for name in ATTRIBUTES]
        return cls(*counts)


@dataclass(frozen=True)
class Drain:
    """How waiting for the drain went."""

    drained: bool
    waited_s: float
    last: Mapping[str, Depth]


def is_empty(depths: Mapping[str, Depth]) -> bool:
    return all(depth.total == 0 for depth in depths.values())


def wait_for_drain(
    read: Callable[[], Mapping[str, Depth]],
    timeout_s: float,
    *,
    poll_s: float = POLL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Drain:
    """Read the queues until they are empty `EMPTY_READS_NEEDED` times in a row, or time out."""
    start = clock()
    empty_reads = 0
    depths: Mapping[str, Depth] = {}
    while True:
        depths = read()
        empty_reads = empty_reads + 1 if is_empty(depths) else 0
        if empty_reads >= EMPTY_READS_NEEDED:
            return Drain(True, clock() - start, depths)
        if clock() - start >= timeout_s:
            return Drain(False, clock() - start, depths)
        sleep(poll_s)


@dataclass(frozen=True)
class LoggedAttempt:
    """The fields of a delivery-log line the ledger needs."""

    event_id: str
    subscription_id: str
    attempt: int
    attempted_at: datetime
    outcome: str
    next_attempt_at: datetime | None


def _latest(attempts: Iterable[LoggedAttempt]) -> dict[Pair, LoggedAttempt]:
    latest: dict[Pair, LoggedAttempt] = {}
    for line in attempts:
        pair = Pair(line.event_id, line.subscription_id)
        known = latest.get(pair)
        if known is None or (line.attempted_at, line.attempt) > (
            known.attempted_at,
            known.attempt,
        ):
            latest[pair] = line
    return latest


def scheduled_pairs(attempts: Iterable[LoggedAttempt]) -> set[Pair]:
    """Pairs whose latest logged line failed, or was put off by the endpoint's limits or
    breaker (`deferred`), with a next attempt still to come."""
    latest = _latest(attempts)
    return {
        pair
        for pair, line in latest.items()
        if line.outcome in {"retry", "deferred"} and line.next_attempt_at is not None
    }


def held_pairs(attempts: Sequence[LoggedAttempt]) -> set[Pair]:
    """Pairs the log shows as held for a disabled subscription."""
    return {Pair(a.event_id, a.subscription_id) for a in attempts if a.outcome == "held"}


def settled_pairs(attempts: Iterable[LoggedAttempt]) -> set[Pair]:
    """Pairs whose latest logged line is final: held, gone (410), or exhausted (the last
    failure, dead-lettered; lines written before `exhausted` existed say `retry` with no
    next attempt)."""
    latest = _latest(attempts)
    return {
        pair
        for pair, line in latest.items()
        if line.outcome in {"held", "disable", "exhausted"}
        or (line.outcome == "retry" and line.next_attempt_at is None)
    }


def wait_for_settled(
    unsettled: Callable[[], int],
    timeout_s: float,
    *,
    poll_s: float = POLL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Drain:
    """Wait until no pair of this run is unsettled (for a stack other runs share, whose
    queues may never be empty), or time out."""
    start = clock()
    while (left := unsettled()) > 0:
        if clock() - start >= timeout_s:
            return Drain(False, clock() - start, {"unsettled pairs": Depth(left, 0, 0)})
        sleep(poll_s)
    return Drain(True, clock() - start, {})
