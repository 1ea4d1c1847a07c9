"""`make chaos`: the chaos and load run on its own MiniStack, its ledger, and the reports.

Order: deploy the stack and the bare baseline; put the counting proxy in front of the
stack's functions; measure latency and throughput of both pipelines side by side with
receivers that answer at once; then the chaos run (flaky, hanging, throttling, gone and
down receivers, a receiver restarted mid-request, fan-out workers SIGKILLed) and its
ledger. Exits non-zero on any missing pair, mismatched duplicate or unverifiable request.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos import report
from chaos.baseline import deploy_baseline
from chaos.cost import Usage, usage_of
from chaos.deployed import function_names, invocations, point_functions_at
from chaos.ledger import render
from chaos.phases import (
    ChaosOptions,
    ChaosOutcome,
    LatencyOptions,
    measure_baseline,
    measure_parcelhooks,
    run_chaos,
)
from chaos.proxy import Counts, running_proxy
from devstack.stack import ROOT, Deployment, issue_key, log, running_stack
from parcelhooks.core.api_keys import Role

WORKDIR = ROOT / ".parcelhooks" / "chaos"
STACK_NAME = "parcelhooks-chaos"
DOCS = ROOT / "docs"
MEASURED = ("AuthorizerFunction", "IngestFunction", "FanoutFunction")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    started = datetime.now(UTC)
    with running_stack(WORKDIR, STACK_NAME) as deployment:
        result = _run(deployment, args)
    result["started"] = started.isoformat(timespec="seconds")
    result["machine"] = _machine()
    result["command"] = " ".join(["make chaos", f"EVENTS={args.events}"])
    WORKDIR.mkdir(parents=True, exist_ok=True)
    (WORKDIR / "result.json").write_text(json.dumps(result, indent=2, default=str))
    if args.write_docs:
        report.write_docs(result, DOCS)
        log(f"wrote docs/reliability.md, docs/cost.md and docs/{report.CHART}")
    return 0 if result["ledger_ok"] else 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__)
    parser.add_argument("--events", type=int, default=int(os.environ.get("EVENTS", "2000")))
    parser.add_argument("--merchants", type=int, default=0, help="default: events / 65")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-docs", dest="write_docs", action="store_false")
    return parser.parse_args(argv)


def _run(deployment: Deployment, args: argparse.Namespace) -> dict[str, Any]:
    names = function_names(deployment)
    baseline = deploy_baseline(deployment)
    carrier_key = issue_key(deployment, Role.CARRIER, "chaos-carrier")
    port = int(deployment.endpoint.rsplit(":", 1)[1])
    with running_proxy(port, list(names)) as proxy:
        point_functions_at(deployment, {names[n]: proxy.endpoint(n) for n in names})
        log("latency: parcelhooks, then the bare baseline, receivers answering at once")
        # The warm-up's calls and cold starts are not the measured events': counted from
        # after it.
        opened: list[_Window] = []
        ours = measure_parcelhooks(
            deployment,
            carrier_key,
            LatencyOptions(),
            args.seed,
            warmed=lambda: opened.append(_Window.open(proxy.counts())),
        )
        clean = opened[0].close(
            deployment,
            names,
            proxy.counts(),
            (sum(f.events for f in ours), sum(f.deliveries for f in ours)),
        )
        theirs = measure_baseline(deployment, baseline, LatencyOptions(), args.seed)
        log(f"chaos: {args.events} events, fan-out workers killed at random moments")
        window = _Window.open(proxy.counts())
        options = ChaosOptions(
            events=args.events, merchants=args.merchants or max(10, args.events // 65)
        )
        outcome = run_chaos(deployment, names["FanoutFunction"], carrier_key, options, args.seed)
        rough = window.close(
            deployment,
            names,
            proxy.counts(),
            (len(outcome.load.accepted), sum(outcome.ledger.counts.values())),
        )
    print(render(outcome.ledger), flush=True)
    _print_summary(outcome)
    return {
        "events": args.events,
        "ledger_ok": outcome.ledger.ok and not outcome.load.ingest_mismatches,
        "ledger": {c.value: n for c, n in outcome.ledger.counts.items()},
        "ledger_text": render(outcome.ledger),
        "chaos": _chaos_summary(outcome, options),
        "latency": [report.figures_json(f) for f in ours + theirs],
        "usage_clean": asdict(clean),
        "usage_chaos": asdict(rough),
    }


class _Window:
    """A stretch of the run whose AWS calls, invocations and logs are added up."""

    def __init__(self, counts: Counts, start_ms: int) -> None:
        self.counts = counts
        self.start_ms = start_ms

    @classmethod
    def open(cls, counts: Counts) -> _Window:
        return cls(counts, int(time.time() * 1000))

    def close(
        self,
        deployment: Deployment,
        names: dict[str, str],
        counts: Counts,
        carried: tuple[int, int],
    ) -> Usage:
        """The usage since `open`, for (events, deliveries) carried meanwhile."""
        end_ms = int(time.time() * 1000) + 1
        runs = {n: invocations(deployment, names[n], self.start_ms, end_ms) for n in MEASURED}
        return usage_of(self.counts, counts, runs, *carried)


def _chaos_summary(outcome: ChaosOutcome, options: ChaosOptions) -> dict[str, Any]:
    load = outcome.load
    return {
        "merchants": options.merchants,
        "subscriptions": options.merchants * 3,
        "carriers": options.carriers,
        "batch_size": options.batch_size,
        "accepted": len(load.accepted),
        "requests": load.requests,
        "retried_requests": load.retried_requests,
        "resent_events": load.resent_events,
        "duplicates_answered": load.duplicates_answered,
        "ingest_mismatches": load.ingest_mismatches[:10],
        "load_s": round(load.ended_at - load.started_at, 1),
        "kills": [asdict(k) for k in outcome.kills],
        "kills_busy": sum(k.busy for k in outcome.kills),
        "drained": outcome.drain.drained,
        "drain_s": round(outcome.drain.waited_s, 1),
        "injected": outcome.injected,
        "disabled": sorted(outcome.disabled),
        "run_s": round(outcome.ended_wall - outcome.started_wall, 1),
        "options": {k: str(v) for k, v in asdict(options).items()},
    }


def _print_summary(outcome: ChaosOutcome) -> None:
    load = outcome.load
    print(
        f"accepted {len(load.accepted)} events in {load.requests} requests "
        f"({load.resent_events} re-sent as duplicates, {load.duplicates_answered} answered "
        f"as duplicates, {len(load.ingest_mismatches)} ingest mismatches); "
        f"{len(outcome.kills)} fan-out workers killed ({sum(k.busy for k in outcome.kills)} busy); "
        f"drained: {outcome.drain.drained} after {outcome.drain.waited_s:.0f}s",
        flush=True,
    )
    for line in outcome.injected:
        print(f"  {line}", flush=True)
    for problem in load.ingest_mismatches[:10]:
        print(f"  ingest: {problem}", flush=True)


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"
    )


if __name__ == "__main__":
    sys.exit(main())
