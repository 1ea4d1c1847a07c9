"""Real crashes: SIGKILL of a function's worker processes, which MiniStack runs one per
concurrent invocation (`_worker.py` children of its own interpreter).

A worker is found by the `AWS_LAMBDA_FUNCTION_NAME` MiniStack puts in its environment;
one that is using CPU is preferred, so the kill lands mid-batch and SQS must hand the
batch's messages back after their visibility timeout.

Only workers past their start-up are killed. MiniStack 1.5.33 answers a worker that dies
before its init answer by killing every worker of the function and deleting their code
folders, which fails the workers starting beside it, and so on: one kill then wipes out the
whole pool for a minute, which is MiniStack's doing, not a crash Lambda would have.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
BUSY_SAMPLE_S = 0.05
# A worker this old has answered its init (imports take about a second here, under load more).
WARM_AFTER_S = 8.0
_FUNCTION_VARIABLE = b"AWS_LAMBDA_FUNCTION_NAME="


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: when (monotonic), which process, and whether it was busy then."""

    at: float
    pid: int
    busy: bool


def worker_pids(function_name: str, proc: Path = PROC) -> list[int]:
    """Processes whose environment names `function_name` as their Lambda function."""
    wanted = _FUNCTION_VARIABLE + function_name.encode()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone already, or not ours to read
        if wanted in variables:
            found.append(int(entry.name))
    return sorted(found)


def cpu_ticks(pid: int, proc: Path = PROC) -> int | None:
    """User plus system clock ticks the process has used (None if it is gone)."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which may hold spaces, start after its ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def process_age_s(pid: int, proc: Path = PROC) -> float | None:
    """Seconds since the process started (None if it is gone)."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
        uptime_s = float((proc / "uptime").read_text().split()[0])
    except OSError:
        return None
    start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")


def warm_only(pids: Iterable[int], ages: dict[int, float | None]) -> list[int]:
    """The processes past their start-up."""
    return [pid for pid in pids if (ages.get(pid) or 0.0) >= WARM_AFTER_S]


def busy_among(before: dict[int, int | None], after: dict[int, int | None]) -> list[int]:
    """The processes whose CPU time grew between two samples."""
    return sorted(
        pid
        for pid, ticks in after.items()
        if ticks is not None and before.get(pid) is not None and ticks > (before[pid] or 0)
    )


def choose_victim(pids: Iterable[int], busy: Iterable[int], rng: random.Random) -> int | None:
    """A busy worker if any (the kill then interrupts work), else any worker."""
    busy_list, all_list = sorted(busy), sorted(pids)
    if busy_list:
        return rng.choice(busy_list)
    return rng.choice(all_list) if all_list else None


@dataclass
class WorkerKiller:
    """Kills one worker of `function_name` at random moments until stopped."""

    function_name: str
    min_gap_s: float
    max_gap_s: float
    rng: random.Random
    kill: Callable[[int], None] = field(default=lambda pid: os.kill(pid, signal.SIGKILL))
    kills: list[Kill] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="worker-killer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def kill_one(self) -> Kill | None:
        """SIGKILL one worker now (a busy one if any); None if there was none."""
        found = worker_pids(self.function_name)
        pids = warm_only(found, {pid: process_age_s(pid) for pid in found})
        before = {pid: cpu_ticks(pid) for pid in pids}
        time.sleep(BUSY_SAMPLE_S)  # CPU time is only seen to grow over an interval
        busy = busy_among(before, {pid: cpu_ticks(pid) for pid in pids})
        victim = choose_victim(pids, busy, self.rng)
        if victim is None:
            return None
        try:
            self.kill(victim)
        except ProcessLookupError:
            return None  # it ended on its own in between
        done = Kill(time.monotonic(), victim, victim in busy)
        self.kills.append(done)
        return done

    def _run(self) -> None:
        while not self._stop.wait(self.rng.uniform(self.min_gap_s, self.max_gap_s)):
            self.kill_one()
