"""A small chaos run inside `make test`: flaky receivers, fan-out workers SIGKILLed, and a
ledger that must account for every (event, subscription) pair (`make chaos` is the big one)."""

from __future__ import annotations

from chaos.deployed import function_names
from chaos.ledger import render
from chaos.phases import ChaosOptions, run_chaos
from chaos.scenario import Chaos
from devstack.stack import Deployment, issue_key
from parcelhooks.core.api_keys import Role

# 300 events over 10 merchants x 3 subscriptions, paced so that the fan-out's workers live
# long enough to be killed mid-batch (chaos/workers.py spares workers still starting).
SMALL_RUN = ChaosOptions(
    events=300,
    merchants=10,
    carriers=3,
    batch_size=10,
    resend_share=0.1,
    rate_per_s=20.0,
    kill_gap_s=(2.0, 4.0),
    down_at_s=None,
    restart_at_s=None,
    drain_timeout_s=75.0,
    # The shared stack's queues hold other tests' long retries: wait for our pairs instead.
    drain="pairs",
    chaos=Chaos(misbehaving=False),
)


def test_a_small_chaos_run_loses_nothing_while_fanout_workers_are_killed(
    stack: Deployment,
) -> None:
    fanout = function_names(stack)["FanoutFunction"]
    carrier_key = issue_key(stack, Role.CARRIER, "it-chaos-carrier")

    outcome = run_chaos(stack, fanout, carrier_key, SMALL_RUN, seed=7)

    ledger = outcome.ledger
    assert outcome.kills, "no fan-out worker was killed"
    assert not outcome.load.ingest_mismatches, outcome.load.ingest_mismatches[:5]
    assert ledger.ok, render(ledger)
    assert not ledger.missing and sum(ledger.counts.values()) >= 600, render(ledger)
