"""The run's phases: the side-by-side latency measurement, and the chaos run with its ledger."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from chaos.baseline import Baseline, event_id_of
from chaos.carriers import BaselineChannel, IngestChannel, Load, run_load
from chaos.deployed import dead_letters, queue_depths
from chaos.drain import (
    Drain,
    held_pairs,
    scheduled_pairs,
    settled_pairs,
    wait_for_drain,
    wait_for_settled,
)
from chaos.fleet import (
    Fleet,
    expected_pairs,
    first_arrivals,
    observations,
    pairs_of_event,
    start_fleet,
    taken_pairs,
)
from chaos.latency import Figures, figures, wait_for_arrivals
from chaos.ledger import Inputs, Ledger, Pair, reconcile
from chaos.receivers import Receiver
from chaos.scenario import Chaos, Role, batches, plan_events, plan_subscriptions
from chaos.workers import Kill, WorkerKiller
from devstack.stack import Deployment

LOAD_DEADLINE_S = 600.0
ARRIVALS_TIMEOUT_S = 120.0
RESTART_WAIT_S = 30.0


@dataclass(frozen=True)
class ChaosOptions:
    events: int = 2000
    merchants: int = 30
    carriers: int = 4
    batch_size: int = 20
    resend_share: float = 0.1
    rate_per_s: float | None = None
    kill_gap_s: tuple[float, float] = (4.0, 9.0)
    kill_until_s: float | None = None  # seconds after the load ends (None: at its end)
    down_at_s: float | None = 3.0
    down_for_s: float = 25.0
    restart_at_s: float | None = 6.0
    drain_timeout_s: float = 600.0
    # "queues": wait for EventsQueue and RetryQueue to empty (a stack of its own);
    # "pairs": wait for this run's pairs to settle (a stack other tests share).
    drain: str = "queues"
    chaos: Chaos = field(default_factory=Chaos)


@dataclass
class ChaosOutcome:
    ledger: Ledger
    load: Load
    kills: list[Kill]
    drain: Drain
    injected: list[str]
    disabled: set[str]
    started_wall: float
    ended_wall: float


@dataclass
class Timeline:
    """Injections at set offsets from the start of the load, on their own thread."""

    actions: list[tuple[float, str, Callable[[], str]]]
    done: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        started = time.monotonic()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _run(self, started: float) -> None:
        for offset, what, act in sorted(self.actions, key=lambda a: a[0]):
            if self._stop.wait(max(0.0, started + offset - time.monotonic())):
                return
            result = act()
            self.done.append(f"t+{time.monotonic() - started:.1f}s {what}: {result}")


def run_chaos(
    deployment: Deployment, fanout: str, carrier_key: str, options: ChaosOptions, seed: int
) -> ChaosOutcome:
    """The chaos run: load, injections and worker kills, drain, then the ledger."""
    rng = random.Random(seed)
    plans = plan_subscriptions(options.merchants, rng, chaos=options.chaos)
    fleet = start_fleet(deployment, plans, tag="chaos", chaos=options.chaos, seed=seed)
    try:
        return _chaos_with(deployment, fleet, fanout, carrier_key, options=options, rng=rng)
    finally:
        fleet.stop()


def _chaos_with(
    deployment: Deployment,
    fleet: Fleet,
    fanout: str,
    carrier_key: str,
    *,
    options: ChaosOptions,
    rng: random.Random,
) -> ChaosOutcome:
    started_wall = time.time()
    events = plan_events(
        options.events, fleet.merchant_ids, rng, run_tag=f"chaos{rng.randrange(10**6)}"
    )
    killer = WorkerKiller(fanout, *options.kill_gap_s, rng=random.Random(rng.random()))
    timeline = Timeline(_injections(fleet, options))
    deadline = time.monotonic() + LOAD_DEADLINE_S
    channels = [
        IngestChannel(deployment.api_url, carrier_key, deadline) for _ in range(options.carriers)
    ]
    killer.start()
    timeline.start()
    load = run_load(
        channels,
        batches(events, options.batch_size),
        rng=rng,
        rate_per_s=options.rate_per_s,
        resend_share=options.resend_share,
    )
    _kill_on_until(killer, load, options.kill_until_s)
    timeline.stop()
    if options.drain == "pairs":
        drain = wait_for_settled(lambda: _unsettled(fleet, load), options.drain_timeout_s)
    else:
        drain = wait_for_drain(lambda: queue_depths(deployment), options.drain_timeout_s)
    inputs, disabled = _gather(deployment, fleet, load, drain)
    return ChaosOutcome(
        reconcile(inputs),
        load,
        killer.kills,
        drain,
        timeline.done,
        disabled,
        started_wall,
        time.time(),
    )


def _unsettled(fleet: Fleet, load: Load) -> int:
    """Pairs neither taken (2xx) by their receiver nor final in their delivery log: one whose
    first arrival failed is still on its way, as the ledger counts it."""
    seen = taken_pairs(fleet)
    left = {
        Pair(e.event_id, e.subscription_id)
        for e in expected_pairs(fleet, load)
        if (e.event_id, e.subscription_id) not in seen
    }
    members = {m.subscription_id: m for m in fleet.members}
    for subscription in {pair.subscription_id for pair in left}:
        member = members[subscription]
        lines = member.merchant.attempts(subscription, "failure")
        lines += member.merchant.attempts(subscription, "held")
        left -= settled_pairs(lines)
    return len(left)


def _kill_on_until(killer: WorkerKiller, load: Load, after_load_s: float | None) -> None:
    """Keep killing for a while after the load (retries are still being worked), then stop;
    at least one kill is made, so a run always has one."""
    if after_load_s:
        time.sleep(after_load_s)  # the killer runs on meanwhile: this is its working time
    killer.stop()
    if not killer.kills:
        killer.kill_one()


def _injections(fleet: Fleet, options: ChaosOptions) -> list[tuple[float, str, Callable[[], str]]]:
    actions: list[tuple[float, str, Callable[[], str]]] = []
    down = fleet.with_role(Role.DOWN)
    if down and options.down_at_s is not None:
        receiver = down[0].receiver
        actions.append(
            (options.down_at_s, f"{down[0].subscription_id} down", _act(receiver.go_down))
        )
        back_at = options.down_at_s + options.down_for_s
        actions.append((back_at, f"{down[0].subscription_id} back up", _act(receiver.go_up)))
    restart = fleet.with_role(Role.RESTART)
    if restart and options.restart_at_s is not None:
        what = f"{restart[0].subscription_id} restarted mid-request"
        actions.append(
            (options.restart_at_s, what, lambda: _restart_mid_request(restart[0].receiver))
        )
    return actions


def _act(action: Callable[[], None]) -> Callable[[], str]:
    def run() -> str:
        action()
        return "done"

    return run


def _restart_mid_request(receiver: Receiver) -> str:
    try:
        receiver.wait_in_flight(1, RESTART_WAIT_S)
    except TimeoutError:
        receiver.restart()
        return "restarted with no request in flight"
    in_flight = receiver.in_flight
    receiver.restart()
    return f"restarted with {in_flight} request(s) in flight"


def _gather(
    deployment: Deployment, fleet: Fleet, load: Load, drain: Drain
) -> tuple[Inputs, set[str]]:
    expected = expected_pairs(fleet, load)
    held: set[Pair] = set()
    scheduled: set[Pair] = set()
    disabled: set[str] = set()
    for member in fleet.members:
        if not member.merchant.subscription(member.subscription_id)["enabled"]:
            disabled.add(member.subscription_id)
        held |= held_pairs(member.merchant.attempts(member.subscription_id, "held"))
        if not drain.drained:
            scheduled |= scheduled_pairs(
                member.merchant.attempts(member.subscription_id, "failure")
            )
    inputs = Inputs(
        expected=expected,
        observations=observations(fleet),
        dead_letters=dead_letters(deployment, pairs_of_event(expected)),
        held=held,
        scheduled=scheduled,
        disabled_subscriptions=disabled,
    )
    return inputs, disabled


@dataclass(frozen=True)
class LatencyOptions:
    merchants: int = 10
    carriers: int = 4
    paced_events: int = 300
    paced_rate_per_s: float = 20.0
    paced_batch: int = 5
    burst_events: int = 600
    burst_batch: int = 20


def measure_parcelhooks(
    deployment: Deployment,
    carrier_key: str,
    options: LatencyOptions,
    seed: int,
    warmed: Callable[[], None] = lambda: None,
) -> list[Figures]:
    """Paced, then burst load through the API to receivers that answer at once; `warmed`
    is called once the warm-up's deliveries have arrived (what is counted starts there)."""
    rng = random.Random(seed)
    plans = plan_subscriptions(options.merchants, rng, chaos=None)
    fleet = start_fleet(deployment, plans, tag="lat", chaos=None, seed=seed)
    try:
        deadline = time.monotonic() + LOAD_DEADLINE_S
        results = []
        for name, count, batch, rate in _loads(options):
            events = plan_events(
                count, fleet.merchant_ids, rng, run_tag=f"lat{rng.randrange(10**6)}"
            )
            channels = [
                IngestChannel(deployment.api_url, carrier_key, deadline)
                for _ in range(options.carriers)
            ]
            load = run_load(channels, batches(events, batch), rng=rng, rate_per_s=rate)
            wanted = pairs_of_event(expected_pairs(fleet, load))
            _wait_for_pairs(lambda: first_arrivals(fleet), wanted)
            if name == WARM_UP:
                warmed()
            else:
                results.append(figures("parcelhooks", name, load, wanted, first_arrivals(fleet)))
        return results
    finally:
        fleet.stop()


def _wait_for_pairs(
    arrivals: Callable[[], Mapping[tuple[str, str], float]], wanted: Mapping[str, Sequence[str]]
) -> bool:
    pairs = {(event, sub) for event, subs in wanted.items() for sub in subs}
    return wait_for_arrivals(lambda: len(pairs & arrivals().keys()), len(pairs), ARRIVALS_TIMEOUT_S)


WARM_UP = "warm-up"


def _loads(options: LatencyOptions) -> list[tuple[str, int, int, float | None]]:
    """A warm-up first (cold starts after the proxy was put in place are not the pipeline's
    steady latency; its figures are dropped), then the measured loads."""
    return [
        (WARM_UP, options.burst_events // 4, options.burst_batch, None),
        (
            f"paced {options.paced_rate_per_s:.0f} events/s",
            options.paced_events,
            options.paced_batch,
            options.paced_rate_per_s,
        ),
        ("burst", options.burst_events, options.burst_batch, None),
    ]


def measure_baseline(
    deployment: Deployment, baseline: Baseline, options: LatencyOptions, seed: int
) -> list[Figures]:
    """The same loads through the bare queue and function, to receivers that answer at once."""
    rng = random.Random(seed)
    plans = plan_subscriptions(options.merchants, rng, chaos=None)
    receivers = [Receiver(*Chaos().behaviours(Role.OK)) for _ in plans]
    for receiver in receivers:
        receiver.start()
    try:
        urls = {
            m: [(r.url, p) for p, r in zip(plans, receivers, strict=True) if p.merchant == m]
            for m in range(options.merchants)
        }
        merchant_ids = [f"base-m{m}" for m in range(options.merchants)]
        sqs = deployment.client("sqs")
        results = []
        for name, count, batch, rate in _loads(options):
            events = plan_events(count, merchant_ids, rng, run_tag=f"base{rng.randrange(10**6)}")
            channels = [
                BaselineChannel(sqs, baseline.queue_url, urls) for _ in range(options.carriers)
            ]
            load = run_load(channels, batches(events, batch), rng=rng, rate_per_s=rate)
            wanted = {
                accepted.event_id: [
                    url for url, plan in urls[accepted.merchant] if plan.wants(accepted.event_type)
                ]
                for accepted in load.accepted.values()
            }
            _wait_for_pairs(lambda: _baseline_arrivals(receivers), wanted)
            if name != WARM_UP:
                results.append(
                    figures("baseline", name, load, wanted, _baseline_arrivals(receivers))
                )
        return results
    finally:
        for receiver in receivers:
            receiver.stop()


def _baseline_arrivals(receivers: Sequence[Receiver]) -> dict[tuple[str, str], float]:
    """(event id, receiver URL) -> first arrival; a baseline POST's body is its message."""
    first: dict[tuple[str, str], float] = {}
    for receiver in receivers:
        for request in receiver.observations():
            first.setdefault((event_id_of(request.body), receiver.url), request.received_monotonic)
    return first
