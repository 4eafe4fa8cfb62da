"""``vae tune --workers N``: N worker processes of ``vae tune`` on this machine, one study, the cores split.

Each worker is the same command against the same storage, with a share of the
cores for TensorFlow's thread pools. Their error lines come back through this
process, each said once: N workers meeting the same missing dataset print one line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

from vae_cli.cli.tuning_flags import worker_flags
from vae_cli.tuning.study import STORAGE_ENV


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


def run_workers(args: argparse.Namespace, study: str, storage: str, started: float) -> int:
    """Starts ``args.workers`` workers and waits for all; the worst exit code (130 first if any was interrupted)."""
    threads = max(1, cores() // args.workers)
    command = worker_command(args, study, threads, started)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", STORAGE_ENV: storage}
    procs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) for _ in range(args.workers)]
    said: set[str] = set()
    lock = threading.Lock()

    def relay(stream):
        for line in stream:
            with lock:
                if line not in said:
                    said.add(line)
                    sys.stderr.write(line)
                    sys.stderr.flush()

    relays = [threading.Thread(target=relay, args=(p.stderr,), daemon=True) for p in procs]
    for t in relays:
        t.start()
    codes = []
    for p in procs:
        while True:
            try:
                codes.append(p.wait())
                break
            except KeyboardInterrupt:
                continue  # Ctrl-C reached the workers too: each leaves its trial queued, then exits
    for t in relays:
        t.join(timeout=5)
    if 130 in codes:
        return 130
    return next((c for c in codes if c), 0)
