"""A worker: takes the study's next trial, one at a time, until the study holds its total.

Any number of workers, in any number of processes on any number of machines,
run this loop against one storage. Before each trial a worker fails the trials
whose workers stopped beating (queuing each again), then counts: it starts a
trial only while finished + running trials fall short of the total, or when a
trial is queued again; otherwise it waits for the running ones, because one of
them may yet die and need running again. So every worker returns only once the
study is complete (or its deadline has passed).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vae_cli import backend
from vae_cli.errors import Fix, Interrupted, RunError, VaeError
from vae_cli.tuning.outcomes import GivenUp, Surplus, TrialFailed
from vae_cli.tuning.study import Census, census
from vae_cli.tuning.trial import Objective, TrialRecord


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
    try:
        study.optimize(objective, n_trials=1, catch=(TrialFailed, Surplus, GivenUp))
    except optuna.exceptions.UpdateFinishedTrialError:
        # Declared dead while still training (a pause longer than the grace period); its retry carries on.
        objective.record = None
    except (VaeError, KeyboardInterrupt) as exc:
        number = objective.number
        if number is not None:
            _queue_again(study, number)
        if isinstance(exc, (Interrupted, KeyboardInterrupt)):
            if number is None:
                raise Interrupted("interrupted between trials", Fix("tune_again")) from None
            what = f"trial {number}: {exc}" if str(exc) else f"trial {number} interrupted"
            raise Interrupted(f"{what}; it is queued to run again", Fix("tune_again")) from None
        if exc.fix is not None and exc.fix.kind == "resume":
            exc.fix = Fix("tune_again", first=exc.fix.first)
        raise


def _queue_again(study: Any, number: int) -> None:
    """A trial stopped by something not its own (Ctrl-C, a full disk) runs again, resuming its folder."""
    import optuna

    failed = next((t for t in study.get_trials(deepcopy=False) if t.number == number), None)
    if failed is not None and failed.state == optuna.trial.TrialState.FAIL:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            again = optuna.storages.RetryHeartbeatStaleTrialCallback(inherit_intermediate_values=True)
            again(study, failed)
