"""``vae tune --workers N``: N worker processes of ``vae tune`` on this machine, one study, the cores split.

Each worker is the same command against the same storage, with a share of the
cores for TensorFlow's thread pools. Their error lines come back through this
process, each said once: N workers meeting the same missing dataset print one line.
A signal to this process stops the workers with it: Ctrl-C (which the terminal
sends to every worker too) or SIGTERM (passed on to them) makes each queue its
trial again; this process waits for them and says one line for all. A worker
whose parent is gone, even killed by SIGKILL, stops by itself
(``vae_cli.tuning.worker.watch_parent``).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from typing import IO, Any

from vae_cli.cli.tuning_flags import worker_flags
from vae_cli.errors import Fix, Interrupted
from vae_cli.tuning.study import STORAGE_ENV
from vae_cli.tuning.worker import PARENT_ENV

STOP_GRACE = 10.0  # seconds the workers have, after a signal, to queue their trials again and end
KILL_GRACE = 5.0  # then, signalled once more (or for the first time), before they are killed
STOPPED_CODES = (130, 143)  # a worker that ended by the signal; its own lines say what the one line says


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use, in a container too
    except AttributeError:
        return os.cpu_count() or 1


def worker_command(args: argparse.Namespace, study: str, threads: int, started: float) -> list[str]:
    """The worker's command line; the storage URL, which may hold a password, goes by the environment."""
    given = {"study": study, "storage": None, "worker_threads": threads}
    if args.timeout:  # what is left of it
        given["timeout"] = max(0.001, args.timeout - (time.monotonic() - started))
    return [sys.executable, "-m", "vae_cli", "tune", *worker_flags(args, given)]


def run_workers(args: argparse.Namespace, study: Any, name: str, storage: str, started: float) -> int:
    """Starts ``args.workers`` workers and waits for all; the worst exit code (130 first if any was interrupted).

    Raises Interrupted, after every worker has ended, when this process was sent SIGINT or SIGTERM.
    """
    threads = max(1, cores() // args.workers)
    command = worker_command(args, name, threads, started)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", PARENT_ENV: str(os.getpid()), STORAGE_ENV: storage}
    relay = _Relay()
    procs: list[subprocess.Popen] = []
    with _Signals(relay.hold) as signals:
        for _ in range(args.workers):
            # stdin: a pipe this process never writes; it ends when this process does, however it ends.
            procs.append(subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
            relay.follow(len(procs) - 1, procs[-1].stderr)
        stopped_by = _wait(procs, signals, relay)
    for p in procs:
        p.stdin.close()
    codes = [p.returncode for p in procs]
    if stopped_by is None:
        relay.finish(())
        if 130 in codes:
            return 130
        return next((c for c in codes if c), 0)
    relay.finish(i for i, code in enumerate(codes) if code >= 0 and code not in STOPPED_CODES)
    raise Interrupted(_stopped(study, procs, stopped_by), Fix("tune_again"), stopped_by)


class _Signals:
    """SIGINT and SIGTERM noted, not raised, while the workers run: this process must outlive them."""

    def __init__(self, on_signal: Any = None) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}
        self._on_signal = on_signal  # at once, not at the next look: a worker's own line may be on its way

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():  # handlers can be set from there only
            self._previous = {s: signal.signal(s, self._note) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _note(self, signum: int, frame: Any) -> None:
        self.received.append(signum)
        if self._on_signal is not None:
            self._on_signal()

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)


def _wait(procs: list[subprocess.Popen], signals: _Signals, relay: _Relay) -> int | None:
    """Waits for every worker to end; the first signal this process was sent meanwhile, or None."""
    first, seen, deadline, told = None, 0, math.inf, False
    while any(p.poll() is None for p in procs):
        for signum in signals.received[seen:]:
            seen += 1
            if first is None:
                first, deadline = signum, time.monotonic() + STOP_GRACE
                relay.hold()
            if signum == signal.SIGTERM:  # `kill PID` reaches this process alone; Ctrl-C reached every worker
                _send(procs, signum)
        if time.monotonic() > deadline:
            if told:
                _send(procs, signal.SIGKILL)
                deadline = math.inf
            else:  # the signal did not reach them (`kill -INT PID`), or they are stuck: once more, then killed
                _send(procs, first)
                told, deadline = True, time.monotonic() + KILL_GRACE
        time.sleep(0.1)
    return first


def _send(procs: list[subprocess.Popen], signum: int) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signum)


def _stopped(study: Any, procs: list[subprocess.Popen], signum: int) -> str:
    """The one line for all workers: how they were stopped and which of their trials run again."""
    import sqlalchemy

    from vae_cli.tuning.study import census

    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    ours = {f"{socket.gethostname()}:{p.pid}" for p in procs}  # as a trial records its worker
    try:
        count = census(study.get_trials(deepcopy=False))
    except sqlalchemy.exc.SQLAlchemyError:
        return what
    # A trial queued again keeps its attributes; failed_trial is the number it ran under.
    queued = sorted(t.system_attrs["failed_trial"] for t in count.waiting if t.user_attrs.get("worker") in ours)
    killed = sorted(t.number for t in count.running if t.user_attrs.get("worker") in ours)
    parts = [what]
    if queued:
        parts.append(f"{_trials(queued)} {'is' if len(queued) == 1 else 'are'} queued to run again")
    if killed:
        run = "runs" if len(killed) == 1 else "run"
        parts.append(f"{_trials(killed)} did not stop in time and {run} again after the space file's grace_period")
    if not (queued or killed):
        parts.append("no trial was in progress")
    return "; ".join(parts)


def _trials(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"trial {numbers[0]}"
    return f"trials {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"


class _Relay:
    """The workers' stderr lines, each said once; held back per worker once the search is stopping."""

    def __init__(self) -> None:
        self._said: set[str] = set()
        self._held: dict[int, list[str]] = {}
        self._holding = False
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def follow(self, index: int, stream: IO[str]) -> None:
        thread = threading.Thread(target=self._read, args=(index, stream), daemon=True)
        thread.start()
        self._threads.append(thread)

    def hold(self) -> None:
        with self._lock:
            self._holding = True

    def finish(self, said_after_all: Iterable[int]) -> None:
        """Once the workers have ended: the held lines of the workers ``said_after_all`` names are said too."""
        for thread in self._threads:
            thread.join(timeout=5)
        with self._lock:
            for index in said_after_all:
                for line in self._held.get(index, []):
                    self._say(line)

    def _read(self, index: int, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                if self._holding:
                    self._held.setdefault(index, []).append(line)
                else:
                    self._say(line)

    def _say(self, line: str) -> None:
        if line not in self._said:
            self._said.add(line)
            sys.stderr.write(line)
            sys.stderr.flush()
