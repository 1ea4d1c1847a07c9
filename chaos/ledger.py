"""Accounts for every (event, matching subscription) pair of a chaos run, from the outside."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from chaos.signatures import verify_any

PROBLEMS_SHOWN = 10
# What the platform tells a merchant about its own endpoints: webhooks the harness did not
# send as events, so they belong to no pair (parcelhooks.core.operational).
OPERATIONAL_TYPES = frozenset({"subscription.disabled", "delivery.exhausted"})
EVENTS_DLQ = "events_dlq"
DELIVERIES_DLQ = "deliveries_dlq"


class Category(StrEnum):
    """Where a pair ended up; the first that applies, in this order, wins."""

    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"
    HELD = "held"
    SCHEDULED = "scheduled"
    MISSING = "missing"


class MismatchKind(StrEnum):
    """How the copies a receiver saw of one pair disagree."""

    WEBHOOK_ID = "webhook_id"  # a copy names the event in its body under another webhook-id
    BODY = "body"  # two copies carry different body bytes
    EXPECTED_BODY = "expected_body"  # a copy's body is not the body the harness expected


class UnverifiableReason(StrEnum):
    """Why a request a receiver saw cannot be accounted to any pair."""

    BAD_SIGNATURE = "bad_signature"
    NO_SUCH_PAIR = "no_such_pair"


@dataclass(frozen=True, order=True)
class Pair:
    """One event for one subscription whose event types match it."""

    event_id: str
    subscription_id: str


@dataclass(frozen=True)
class Expected:
    """A pair the run must account for; `body` is checked when the harness knows it."""

    event_id: str
    subscription_id: str
    body: bytes | None = None

    @property
    def pair(self) -> Pair:
        return Pair(self.event_id, self.subscription_id)


@dataclass(frozen=True)
class Observation:
    """One request a subscription's receiver saw, and whether its signature verified."""

    subscription_id: str
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    # The receiver answered 2xx: the platform counts it delivered. A copy answered otherwise
    # is still checked (signature, id, body) but proves no delivery and is no duplicate.
    answered_ok: bool = True


@dataclass(frozen=True)
class DeadLetter:
    """One pair a dead-letter queue holds: DeliveriesDLQ, or EventsDLQ (a message SQS gave
    up on after its receives, e.g. one whose batches were killed twice)."""

    event_id: str
    subscription_id: str
    queue: str = DELIVERIES_DLQ

    @property
    def pair(self) -> Pair:
        return Pair(self.event_id, self.subscription_id)


@dataclass
class Inputs:
    """Everything the harness gathered at the end of a run."""

    expected: list[Expected] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    held: set[Pair] = field(default_factory=set)
    scheduled: set[Pair] = field(default_factory=set)
    disabled_subscriptions: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Mismatch:
    """Copies of one pair that should be identical and are not."""

    pair: Pair
    kind: MismatchKind


@dataclass(frozen=True)
class Unverifiable:
    """A request that proves no delivery."""

    observation: Observation
    reason: UnverifiableReason


@dataclass(frozen=True)
class Ledger:
    """The outcome of every pair, and every problem found on the way."""

    outcomes: Mapping[Pair, Category]
    counts: Mapping[Category, int]
    missing: tuple[Pair, ...]
    duplicates: Mapping[Pair, int]
    mismatches: tuple[Mismatch, ...]
    unverifiable: tuple[Unverifiable, ...]
    also_dead_lettered: tuple[Pair, ...]
    stray_dead_letters: tuple[DeadLetter, ...]
    notices: tuple[Observation, ...] = ()
    in_events_dlq: int = 0

    @property
    def extra_copies(self) -> int:
        return sum(copies - 1 for copies in self.duplicates.values())

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatches or self.unverifiable)


def observe(
    subscription_id: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    received_at: float,
    *,
    answered_ok: bool = True,
) -> Observation:
    """An observation of a recorded request, verified with the subscription's live secrets."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return Observation(
        subscription_id=subscription_id,
        webhook_id=lowered.get("webhook-id", ""),
        timestamp=lowered.get("webhook-timestamp", ""),
        signature=lowered.get("webhook-signature", ""),
        body=body,
        verified=verify_any(secrets, lowered, body, at=received_at),
        answered_ok=answered_ok,
    )


def reconcile(inputs: Inputs) -> Ledger:
    """Put every expected pair in one category and collect what does not add up."""
    expected = _expected_by_pair(inputs.expected)
    copies, notices, unverifiable = _assign(inputs.observations, expected.keys())
    delivered = {pair for pair, seen in copies.items() if _has_true_copy(pair, seen)}
    dead = {letter.pair for letter in inputs.dead_letters}
    outcomes = {pair: _category(pair, delivered, dead, inputs) for pair in sorted(expected)}
    counts = Counter(outcomes.values())
    return Ledger(
        outcomes=outcomes,
        counts={category: counts[category] for category in Category},
        missing=tuple(pair for pair, got in outcomes.items() if got is Category.MISSING),
        duplicates=_duplicates(copies),
        mismatches=tuple(_mismatches(copies, expected)),
        unverifiable=tuple(unverifiable),
        also_dead_lettered=tuple(sorted(delivered & dead)),
        stray_dead_letters=tuple(d for d in inputs.dead_letters if d.pair not in expected),
        notices=tuple(notices),
        in_events_dlq=sum(
            1
            for pair in _events_dlq_pairs(inputs.dead_letters)
            if outcomes.get(pair) is Category.DEAD_LETTERED
        ),
    )


def render(ledger: Ledger, problems: int = PROBLEMS_SHOWN) -> str:
    """A plain-text table of the counts, the verdict, and the first few problems."""
    rows = [(category.value, ledger.counts[category]) for category in Category]
    rows += [
        ("duplicates", len(ledger.duplicates)),
        ("extra_copies", ledger.extra_copies),
        ("also_dead_lettered", len(ledger.also_dead_lettered)),
        ("duplicate_mismatch", len(ledger.mismatches)),
        ("unverifiable", len(ledger.unverifiable)),
        ("stray_dead_letters", len(ledger.stray_dead_letters)),
        ("dead_lettered_in_events_dlq", ledger.in_events_dlq),
        ("operational_notices", len(ledger.notices)),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{'category':<{width}}  count"]
    lines += [f"{name:<{width}}  {count:>5}" for name, count in rows]
    lines.append(f"ok: {'yes' if ledger.ok else 'NO'}")
    found = _problem_lines(ledger)
    if found:
        lines.append(f"problems (first {min(problems, len(found))} of {len(found)}):")
        lines += [f"  {line}" for line in found[:problems]]
    return "\n".join(lines)


def _expected_by_pair(expected: Iterable[Expected]) -> dict[Pair, bytes | None]:
    by_pair: dict[Pair, bytes | None] = {}
    for item in expected:
        if item.pair in by_pair and by_pair[item.pair] != item.body:
            raise ValueError(f"{item.pair} is expected twice with different bodies")
        by_pair[item.pair] = item.body
    return by_pair


def _assign(
    observations: Iterable[Observation], expected: Iterable[Pair]
) -> tuple[dict[Pair, list[Observation]], list[Observation], list[Unverifiable]]:
    """Each verified request to its pair: by webhook-id, else by the event id in its body;
    verified operational notices apart (a `delivery.exhausted` names another pair's event)."""
    known = set(expected)
    copies: dict[Pair, list[Observation]] = defaultdict(list)
    notices: list[Observation] = []
    unverifiable: list[Unverifiable] = []
    for seen in observations:
        pair = _pair_of(seen, known)
        if not seen.verified:
            unverifiable.append(Unverifiable(seen, UnverifiableReason.BAD_SIGNATURE))
        elif _body_type(seen.body) in OPERATIONAL_TYPES:
            notices.append(seen)
        elif pair is None:
            unverifiable.append(Unverifiable(seen, UnverifiableReason.NO_SUCH_PAIR))
        else:
            copies[pair].append(seen)
    return dict(copies), notices, unverifiable


def _events_dlq_pairs(dead_letters: Iterable[DeadLetter]) -> set[Pair]:
    return {letter.pair for letter in dead_letters if letter.queue == EVENTS_DLQ}


def _pair_of(seen: Observation, known: set[Pair]) -> Pair | None:
    by_header = Pair(seen.webhook_id, seen.subscription_id)
    if by_header in known:
        return by_header
    by_body = Pair(_body_event_id(seen.body), seen.subscription_id)
    return by_body if by_body in known else None


def _document(body: bytes) -> dict[str, object]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _body_event_id(body: bytes) -> str:
    data = _document(body).get("data")
    event_id = data.get("event_id") if isinstance(data, dict) else None
    return event_id if isinstance(event_id, str) else ""


def _body_type(body: bytes) -> str:
    kind = _document(body).get("type")
    return kind if isinstance(kind, str) else ""


def _has_true_copy(pair: Pair, seen: Iterable[Observation]) -> bool:
    return any(copy.webhook_id == pair.event_id and copy.answered_ok for copy in seen)


def _duplicates(copies: Mapping[Pair, Sequence[Observation]]) -> dict[Pair, int]:
    """Pairs the receiver took (answered 2xx) more than once, and how many times."""
    taken = {pair: sum(copy.answered_ok for copy in seen) for pair, seen in copies.items()}
    return {pair: count for pair, count in sorted(taken.items()) if count > 1}


def _category(pair: Pair, delivered: set[Pair], dead: set[Pair], inputs: Inputs) -> Category:
    if pair in delivered:
        return Category.DELIVERED
    if pair in dead:
        return Category.DEAD_LETTERED
    if pair in inputs.held or pair.subscription_id in inputs.disabled_subscriptions:
        return Category.HELD
    if pair in inputs.scheduled:
        return Category.SCHEDULED
    return Category.MISSING


def _mismatches(
    copies: Mapping[Pair, Sequence[Observation]], expected: Mapping[Pair, bytes | None]
) -> Iterable[Mismatch]:
    for pair, seen in sorted(copies.items()):
        if {copy.webhook_id for copy in seen} != {pair.event_id}:
            yield Mismatch(pair, MismatchKind.WEBHOOK_ID)
        if len({copy.body for copy in seen}) > 1:
            yield Mismatch(pair, MismatchKind.BODY)
        wanted = expected[pair]
        if wanted is not None and any(copy.body != wanted for copy in seen):
            yield Mismatch(pair, MismatchKind.EXPECTED_BODY)


def _problem_lines(ledger: Ledger) -> list[str]:
    lines = [f"missing {_name(pair)}" for pair in ledger.missing]
    lines += [f"duplicate_mismatch({m.kind}) {_name(m.pair)}" for m in ledger.mismatches]
    lines += [
        f"unverifiable({u.reason}) webhook-id={u.observation.webhook_id!r}"
        f" at {u.observation.subscription_id}"
        for u in ledger.unverifiable
    ]
    return lines


def _name(pair: Pair) -> str:
    return f"{pair.event_id} -> {pair.subscription_id}"
