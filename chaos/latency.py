"""Latency and throughput of a pipeline: acknowledgement (and request sent) -> first arrival
at the receiver."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from chaos.carriers import Load

ARRIVAL_POLL_S = 0.2


@dataclass(frozen=True)
class Sample:
    """One pair's latency, placed at its acknowledgement (seconds since the phase began): from
    the acknowledgement, and from the moment its request left."""

    at_s: float
    latency_s: float
    from_sent_s: float


@dataclass(frozen=True)
class Figures:
    """A pipeline's figures over one load."""

    pipeline: str
    load: str
    events: int
    deliveries: int
    arrived: int
    span_s: float
    samples: tuple[Sample, ...]

    @property
    def events_per_s(self) -> float:
        return self.events / self.span_s if self.span_s > 0 else 0.0

    @property
    def deliveries_per_s(self) -> float:
        return self.arrived / self.span_s if self.span_s > 0 else 0.0

    def percentile_ms(self, q: float, *, from_sent: bool = False) -> float:
        latencies = (s.from_sent_s if from_sent else s.latency_s for s in self.samples)
        return 1000 * percentile(sorted(latencies), q)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of values already sorted; NaN if none."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def figures(
    pipeline: str,
    load_name: str,
    load: Load,
    wanted: Mapping[str, Sequence[str]],
    arrivals: Mapping[tuple[str, str], float],
) -> Figures:
    """Samples for every pair that arrived; throughput over first send -> last arrival."""
    samples: list[Sample] = []
    last = load.started_at
    for event_id, accepted in load.accepted.items():
        for subscription in wanted.get(event_id, ()):
            arrived = arrivals.get((event_id, subscription))
            if arrived is None:
                continue
            samples.append(
                Sample(
                    accepted.acked_at - load.started_at,
                    arrived - accepted.acked_at,
                    arrived - accepted.sent_at,
                )
            )
            last = max(last, arrived)
    deliveries = sum(len(wanted.get(e, ())) for e in load.accepted)
    return Figures(
        pipeline,
        load_name,
        len(load.accepted),
        deliveries,
        len(samples),
        last - load.started_at,
        tuple(sorted(samples, key=lambda s: s.at_s)),
    )


def wait_for_arrivals(count: Callable[[], int], wanted: int, timeout_s: float) -> bool:
    """Poll until `count()` reaches `wanted`, or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while count() < wanted:
        if time.monotonic() > deadline:
            return False
        time.sleep(ARRIVAL_POLL_S)
    return True
