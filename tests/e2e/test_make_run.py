"""`make run` stops everything it started however it is stopped, not only by Ctrl-C (issue 17).

A process manager, `timeout` or a closed terminal signals the `make` process; nothing it
started (devstack, MiniStack and its function workers, sam, the demo receiver) may outlive
it, on its ports or anywhere else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devstack.stack import ROOT, free_port

READY_TIMEOUT_S = 150.0  # a cold `sam build` included
STOP_TIMEOUT_S = 30.0
RUN_TAG_ENV = "PARCELHOOKS_TEST_RUN"
Process = tuple[int, int]  # pid and start time: a pid alone may be reused


def _stat(pid: int | str) -> tuple[str, int, int] | None:
    """State, parent pid and start time of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, ValueError):
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _running() -> dict[Process, int]:
    """Every process but zombies, to its parent's pid."""
    running = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(entry.name)) and stat[0] != "Z":
            running[int(entry.name), stat[2]] = stat[1]
    return running


def _alive(process: Process) -> bool:
    stat = _stat(process[0])
    return stat is not None and stat[0] != "Z" and stat[2] == process[1]


def _descendants(root: int) -> set[Process]:
    running = _running()
    found: set[Process] = set()
    parents = {root}
    while parents:
        children = {p for p, ppid in running.items() if ppid in parents and p not in found}
        found |= children
        parents = {pid for pid, _ in children}
    return found


def _tagged(tag: str) -> set[Process]:
    """Processes with the run's tag in their environment: all it started, whoever their
    parent is now (an orphan is adopted by init and leaves make's tree)."""
    marker = f"{RUN_TAG_ENV}={tag}".encode()
    found = set()
    for process in _running():
        with contextlib.suppress(OSError):
            if marker in Path(f"/proc/{process[0]}/environ").read_bytes().split(b"\0"):
                found.add(process)
    return found


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Output:
    """make's stdout and stderr, read as they come."""

    lines: list[str] = field(default_factory=list)

    def pump(self, stream: Iterable[str]) -> None:
        for line in stream:
            self.lines.append(line)

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def __str__(self) -> str:
        return "".join(self.lines[-60:])


@dataclass
class MakeRun:
    make: subprocess.Popen[str]
    output: Output
    tag: str
    state_dir: Path
    port: int
    receiver_port: int
    open_receiver_port: int

    def wait_until(
        self, predicate: Callable[[], bool], timeout_s: float, what: str, *, running: bool = False
    ) -> None:
        """Wait for `predicate`; with `running`, fail at once if make exits meanwhile."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            if running and self.make.poll() is not None:
                raise AssertionError(f"make exited waiting for {what}\n{self.output}")
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}\n{self.output}")


StartRun = Callable[[Path, int, int], MakeRun]


MAKE_VARIABLES = {
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "MAKEOVERRIDES",
    "MAKE_TERMOUT",
    "MAKE_TERMERR",
}


@pytest.fixture
def make_run() -> Iterator[StartRun]:
    """Starts `make run` on the given ports with its state in a folder of the test's; after
    the test, kills whatever the run left (only a failing test leaves anything)."""
    runs: list[MakeRun] = []

    def start(state_dir: Path, port: int, receiver_port: int) -> MakeRun:
        tag = uuid.uuid4().hex
        open_receiver_port = free_port()
        make = subprocess.Popen(
            [shutil.which("make") or "make", "run"],
            cwd=ROOT,
            env={
                # Not the jobserver of a `make test` this runs under: `make run` is a new make.
                **{k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES},
                "PORT": str(port),
                "RECEIVER_PORT": str(receiver_port),
                "OPEN_RECEIVER_PORT": str(open_receiver_port),
                "PARCELHOOKS_STATE_DIR": str(state_dir),
                RUN_TAG_ENV: tag,
            },
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = Output()
        threading.Thread(target=output.pump, args=(make.stdout,), daemon=True).start()
        runs.append(MakeRun(make, output, tag, state_dir, port, receiver_port, open_receiver_port))
        return runs[-1]

    yield start
    for run in runs:
        for pid in {run.make.pid} | {pid for pid, _ in _tagged(run.tag)}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.make.wait()


def _assert_all_stopped(run: MakeRun, started: set[Process], signum: int) -> None:
    run.wait_until(lambda: run.make.poll() is not None, STOP_TIMEOUT_S, "make to exit")

    def none_left() -> bool:
        return not any(_alive(process) for process in started | _tagged(run.tag))

    run.wait_until(none_left, STOP_TIMEOUT_S, "every process the run started to exit")
    assert not _accepts(run.port), f"MiniStack's port {run.port} still open"
    assert not _accepts(run.receiver_port), f"the receiver's port {run.receiver_port} still open"
    assert not _accepts(run.open_receiver_port), "the open receiver's port is still open"
    assert not list((run.state_dir / "tmp").glob("ministack-*.pid")), "MiniStack's pid file left"
    assert run.output.has(f"{signal.Signals(signum).name}: stopping"), str(run.output)


@pytest.fixture(scope="module")
def ready_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """One state folder and pair of ports for the runs that get ready: the second run's
    deploy is then a no-op (MiniStack persists its state; queue URLs hold its port)."""
    return tmp_path_factory.mktemp("make-run"), free_port(), free_port()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_make_once_ready_stops_everything(
    make_run: StartRun, ready_state: tuple[Path, int, int], signum: int
) -> None:
    run = make_run(*ready_state)
    run.wait_until(
        lambda: run.output.has("] ready in"), READY_TIMEOUT_S, "the ready line", running=True
    )
    run.wait_until(
        lambda: (
            _accepts(run.port) and _accepts(run.receiver_port) and _accepts(run.open_receiver_port)
        ),
        10,
        "MiniStack and the demo receivers to listen",
        running=True,
    )
    # The merchant portal's address, signed in by a one-time link, printed with the curl.
    run.wait_until(
        lambda: run.output.has("/portal/#link=phl_"), 10, "the portal link", running=True
    )
    started = _descendants(run.make.pid)
    assert len(started) >= 3, started  # devstack, MiniStack, the receiver (and workers)

    run.make.send_signal(signum)

    _assert_all_stopped(run, started, signum)


def _sam_deploy_running(run: MakeRun) -> bool:
    for pid, _ in _descendants(run.make.pid):
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if any(part.endswith(b"/sam") for part in command) and b"deploy" in command:
                return True
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_make_during_sam_deploy_stops_everything(
    make_run: StartRun, ready_state: tuple[Path, int, int], tmp_path: Path, signum: int
) -> None:
    # A fresh stack (an interrupted deploy may leave it half made), but a warm `sam build`:
    # a copy of the ready runs' build, if they ran, saves ten seconds.
    if (ready_state[0] / "sam").is_dir():
        shutil.copytree(ready_state[0] / "sam", tmp_path / "sam", symlinks=True)
    run = make_run(tmp_path, free_port(), free_port())
    run.wait_until(
        lambda: _sam_deploy_running(run), READY_TIMEOUT_S, "sam deploy to start", running=True
    )
    started = _descendants(run.make.pid)

    run.make.send_signal(signum)

    _assert_all_stopped(run, started, signum)
    assert not run.output.has("] ready in"), "devstack went on after the signal"
