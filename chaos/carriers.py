"""Carrier clients: threads sending batches of events, some of them again (duplicates).

The same loop drives both pipelines: parcelhooks through `POST /v1/events`, the bare
baseline through SQS. Each event's acknowledgement time (the 202, or SendMessageBatch's
answer) is where its latency starts.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from chaos.baseline import message_body, send_messages
from chaos.scenario import PlannedEvent

RETRYABLE = frozenset({429, 500, 502, 503, 504})
RETRY_PAUSE_S = 0.5
REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Answer:
    """Ingest's word on one event of a batch."""

    carrier_event_id: str
    event_id: str
    duplicate: bool


@dataclass(frozen=True)
class Accepted:
    """An event the pipeline took, once, when its request left and when the pipeline said
    it took it (monotonic seconds)."""

    event_id: str
    carrier_event_id: str
    merchant: int
    event_type: str
    acked_at: float
    sent_at: float


@dataclass
class Load:
    """What the carriers sent and what they were told."""

    accepted: dict[str, Accepted] = field(default_factory=dict)
    by_carrier_id: dict[str, Accepted] = field(default_factory=dict)
    requests: int = 0
    retried_requests: int = 0
    resent_events: int = 0
    duplicates_answered: int = 0
    ingest_mismatches: list[str] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0


class Channel(Protocol):
    """One carrier's way in: send a batch, get each event's answer."""

    def send(self, batch: Sequence[PlannedEvent]) -> list[Answer]: ...


class IngestChannel:
    """`POST /v1/events` with a carrier key; refused or failed requests are sent again."""

    def __init__(self, api_url: str, key: str, deadline: float) -> None:
        self._url = f"{api_url}/v1/events"
        self._headers = {"authorization": f"Bearer {key}"}
        self._session = requests.Session()
        self._deadline = deadline
        self.retries = 0

    def send(self, batch: Sequence[PlannedEvent]) -> list[Answer]:
        payload = {"events": [event.body for event in batch]}
        while True:
            try:
                response = self._session.post(
                    self._url, json=payload, headers=self._headers, timeout=REQUEST_TIMEOUT_S
                )
            except requests.RequestException:
                response = None
            if response is not None and response.status_code == 202:
                return [
                    Answer(item["carrier_event_id"], item["event_id"], bool(item["duplicate"]))
                    for item in response.json()["events"]
                ]
            if response is not None and response.status_code not in RETRYABLE:
                raise RuntimeError(
                    f"ingest refused a batch: {response.status_code} {response.text}"
                )
            if time.monotonic() > self._deadline:
                raise TimeoutError("ingest kept failing until the load's deadline")
            self.retries += 1
            time.sleep(RETRY_PAUSE_S)  # a carrier's pause before it sends again


class BaselineChannel:
    """The bare pipeline: one SQS message per (event, subscription that wants it)."""

    def __init__(self, sqs: Any, queue_url: str, urls: Mapping[int, Sequence[tuple[str, Any]]]):
        self._sqs = sqs
        self._queue_url = queue_url
        self._urls = urls  # merchant -> [(receiver url, the plan saying what it wants)]
        self.retries = 0

    def send(self, batch: Sequence[PlannedEvent]) -> list[Answer]:
        bodies = []
        for event in batch:
            event_id = f"base-{event.body['carrier_event_id']}"
            bodies += [
                message_body(url, event_id, event.body)
                for url, plan in self._urls[event.merchant]
                if plan.wants(event.event_type)
            ]
        send_messages(self._sqs, self._queue_url, bodies)
        return [
            Answer(e.body["carrier_event_id"], f"base-{e.body['carrier_event_id']}", False)
            for e in batch
        ]


@dataclass
class _Shared:
    """The load's state the carrier threads share, under one lock."""

    batches: Sequence[Sequence[PlannedEvent]]
    load: Load
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: int = 0
    sent: list[list[PlannedEvent]] = field(default_factory=list)

    def take(self) -> int | None:
        with self.lock:
            if self.next_index >= len(self.batches):
                return None
            self.next_index += 1
            return self.next_index - 1


def run_load(
    channels: Sequence[Channel],
    batches: Sequence[Sequence[PlannedEvent]],
    *,
    rng: random.Random,
    rate_per_s: float | None = None,
    resend_share: float = 0.0,
) -> Load:
    """Send every batch from one thread per channel; with `rate_per_s`, batch k leaves at
    k * size / rate; with `resend_share`, that share of batches also carries again half of
    an earlier, accepted batch (a carrier resending after a timeout it imagined)."""
    shared = _Shared(batches, Load(started_at=time.monotonic()))
    seeds = [rng.randrange(2**32) for _ in channels]
    threads = [
        threading.Thread(
            target=_carrier,
            args=(channel, shared, random.Random(seed), rate_per_s, resend_share),
            name=f"carrier-{n}",
        )
        for n, (channel, seed) in enumerate(zip(channels, seeds, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shared.load.ended_at = time.monotonic()
    shared.load.retried_requests = sum(getattr(c, "retries", 0) for c in channels)
    return shared.load


def _carrier(
    channel: Channel,
    shared: _Shared,
    rng: random.Random,
    rate_per_s: float | None,
    resend_share: float,
) -> None:
    while (index := shared.take()) is not None:
        batch = list(shared.batches[index])
        if rate_per_s:
            due = shared.load.started_at + index * len(batch) / rate_per_s
            time.sleep(max(0.0, due - time.monotonic()))  # pacing: leave at the batch's slot
        again = _resend(shared, rng) if rng.random() < resend_share else []
        sent_at = time.monotonic()
        answers = channel.send(again + batch)
        _record(
            shared, again + batch, answers, resent=len(again), sent_at=sent_at, at=time.monotonic()
        )


def _resend(shared: _Shared, rng: random.Random) -> list[PlannedEvent]:
    with shared.lock:
        if not shared.sent:
            return []
        earlier = rng.choice(shared.sent)
    return earlier[: max(1, len(earlier) // 2)]


def _record(
    shared: _Shared,
    sent: list[PlannedEvent],
    answers: list[Answer],
    *,
    resent: int,
    sent_at: float,
    at: float,
) -> None:
    by_id = {answer.carrier_event_id: answer for answer in answers}
    with shared.lock:
        load = shared.load
        load.requests += 1
        load.resent_events += resent
        for event in sent:
            carrier_event_id = event.body["carrier_event_id"]
            answer = by_id.get(carrier_event_id)
            if answer is None:
                load.ingest_mismatches.append(f"{carrier_event_id}: no answer in the 202")
                continue
            _account(load, event, answer, sent_at, at)
        shared.sent.append(sent[resent:])


def _account(load: Load, event: PlannedEvent, answer: Answer, sent_at: float, at: float) -> None:
    """A first answer is an acceptance (a duplicate answer too, if our own retry of a
    request that failed is what ingest saw twice); a later one must name the same event."""
    first = load.by_carrier_id.get(answer.carrier_event_id)
    if first is None:
        accepted = Accepted(
            answer.event_id, answer.carrier_event_id, event.merchant, event.event_type, at, sent_at
        )
        load.accepted[answer.event_id] = load.by_carrier_id[answer.carrier_event_id] = accepted
        return
    load.duplicates_answered += int(answer.duplicate)
    if not answer.duplicate or answer.event_id != first.event_id:
        load.ingest_mismatches.append(
            f"{answer.carrier_event_id}: sent again, answered event {answer.event_id} "
            f"(duplicate={answer.duplicate}); first answered {first.event_id}"
        )
