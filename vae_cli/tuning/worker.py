"""A worker: takes the study's next trial, one at a time, until the study holds its total.

Any number of workers, in any number of processes on any number of machines,
run this loop against one storage. Before each trial a worker fails the trials
whose workers stopped beating (queuing each again), then counts: it starts a
trial only while finished + running trials fall short of the total, or when a
trial is queued again; otherwise it waits for the running ones, because one of
them may yet die and need running again. So every worker returns only once the
study is complete (or its deadline has passed).

A worker started by ``vae tune --workers`` stops, as after Ctrl-C, when the
process that started it is gone, so that none trains on unwatched.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vae_cli import backend
from vae_cli.errors import Fix, Interrupted, RunError, Terminated, VaeError
from vae_cli.tuning.outcomes import GivenUp, Surplus, TrialFailed
from vae_cli.tuning.study import Census, census
from vae_cli.tuning.trial import STOPPED, Objective, TrialRecord

PARENT_ENV = "VAE_TUNE_PARENT"  # the pid of the `vae tune --workers` that started this worker


@dataclass
class Deadline:
    """No trial starts after ``at`` (a ``time.monotonic()`` value); None: no deadline."""

    at: float | None = None

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def wait(self, seconds: float) -> None:
        left = seconds if self.at is None else min(seconds, max(0.0, self.at - time.monotonic()))
        time.sleep(left)


def set_threads(threads: int | None) -> None:
    """This process's share of the cores: TensorFlow's thread pools, set before any operation runs."""
    if threads:
        tf = backend.load()
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def watch_parent() -> None:
    """In a worker that ``vae tune --workers`` started: once that process is gone, even killed by SIGKILL,
    this one is sent SIGINT, so that its trial is queued again as after Ctrl-C, and it ends."""
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        threading.Thread(target=_watch, args=(int(parent),), name="watch-parent", daemon=True).start()


def _watch(parent: int) -> None:
    # The parent holds the only write end of this process's stdin and never writes: the pipe ends the moment
    # the parent does. Where there is no such pipe, getppid() tells too (once the parent is gone, the process
    # that adopted this one), checked each second.
    while os.getppid() == parent:
        try:
            ready, _, _ = select.select([0], [], [], 1.0)
            if ready and not os.read(0, 4096):
                break
        except OSError:
            time.sleep(1.0)
    quiet = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):  # nobody reads them any more: a write must not fail while the trial is queued again
        os.dup2(quiet, fd)
    os.kill(os.getpid(), signal.SIGINT)


def work(
    study: Any,
    objective: Objective,
    deadline: Deadline,
    on_end: Callable[[TrialRecord], None] | None = None,
) -> Census:
    """Runs trials until the study holds ``objective.total`` finished ones; returns the final count."""
    import sqlalchemy

    try:
        return _loop(study, objective, deadline, on_end)
    except sqlalchemy.exc.SQLAlchemyError as exc:  # the database went away, or refused a write
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"the study storage stopped answering: {first}", Fix("tune_again")) from None


def _loop(study: Any, objective: Objective, deadline: Deadline, on_end: Any) -> Census:
    import optuna

    while True:
        optuna.storages.fail_stale_trials(study)
        count = census(study.get_trials(deepcopy=False))
        if len(count.counted) >= objective.total or deadline.passed():
            return count
        if count.waiting or len(count.counted) + len(count.running) < objective.total:
            _one(study, objective)
            if objective.record is not None and objective.record.state != "running" and on_end:
                on_end(objective.record)
        else:
            try:
                deadline.wait(objective.space.heartbeat_interval)
            except KeyboardInterrupt:
                raise Interrupted("interrupted between trials", Fix("tune_again")) from None


def _one(study: Any, objective: Objective) -> None:
    import optuna

    objective.number, objective.record = None, None
    held = _HeldSignals()
    try:
        with held:
            study.optimize(_stopped_as_interrupted(objective, held), n_trials=1, catch=(TrialFailed, Surplus, GivenUp))
    except optuna.exceptions.UpdateFinishedTrialError:
        # Declared dead while still training (a pause longer than the grace period); its retry carries on.
        objective.record = None
    except (VaeError, KeyboardInterrupt) as exc:
        number = objective.number
        if number is not None:
            _queue_again(study, number)
        if isinstance(exc, (Interrupted, KeyboardInterrupt)):
            signum = signal.SIGTERM if isinstance(exc, _Stopped) else getattr(exc, "signum", signal.SIGINT)
            if number is None:
                raise Interrupted("interrupted between trials", Fix("tune_again"), signum) from None
            what = f"trial {number}: {exc}" if str(exc) else f"trial {number} interrupted"
            raise Interrupted(f"{what}; it is queued to run again", Fix("tune_again"), signum) from None
        if exc.fix is not None and exc.fix.kind in ("resume", "start_again"):  # a run's advice: the study's here
            exc.fix = Fix("tune_again", first=exc.fix.first)
        if number is not None and len(exc.args) == 1 and isinstance(exc.args[0], str):
            exc.args = (f"trial {number}: {exc.args[0]}",)
        raise


class _Stopped(KeyboardInterrupt):
    """SIGTERM outside training's own handler, carried through Optuna as Ctrl-C is, which marks the trial
    failed; Optuna lets other BaseExceptions pass and would leave the trial running until its heartbeat is stale."""

    def __str__(self) -> str:
        return "stopped by SIGTERM"


class _HeldSignals:
    """Ctrl-C and SIGTERM held back from Optuna's taking a trial until the objective holds its number.

    A signal between the two would leave the new trial running with no heartbeat: never found stale,
    never run again, and every later worker waiting for it. Held, it is raised again once the trial is
    ours to queue again (``release``), or, if no trial came, when the block ends. The few bytecodes that
    install and restore the two handlers remain a window, far narrower than the one this closes.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.pending: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _HeldSignals:
        if threading.current_thread() is threading.main_thread():  # handlers can be set from there only
            self._previous = {s: signal.signal(s, self._hold) for s in self.SIGNALS}
        return self

    def _hold(self, signum: int, frame: Any) -> None:
        self.pending = signum if signum == signal.SIGTERM else (self.pending or signum)  # SIGTERM says more

    def release(self) -> None:
        """The previous handlers back; a signal held meanwhile is raised now, through them."""
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self._previous = {}
        pending, self.pending = self.pending, None
        if pending is not None:
            signal.raise_signal(pending)

    def __exit__(self, *exc: object) -> None:
        self.release()


def _stopped_as_interrupted(objective: Objective, held: _HeldSignals) -> Callable[[Any], float]:
    def run(trial: Any) -> float:
        try:
            objective.number = trial.number  # before a held signal lands: the trial is ours to queue again
            held.release()
            return objective(trial)
        except Terminated:
            trial.set_user_attr(STOPPED, "stopped by SIGTERM")
            raise _Stopped from None

    return run


def _queue_again(study: Any, number: int) -> None:
    """A trial stopped by something not its own (Ctrl-C, a full disk) runs again, resuming its folder."""
    import optuna

    failed = next((t for t in study.get_trials(deepcopy=False) if t.number == number), None)
    if failed is not None and failed.state == optuna.trial.TrialState.FAIL:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            again = optuna.storages.RetryHeartbeatStaleTrialCallback(inherit_intermediate_values=True)
            again(study, failed)
