"""One trial: its parameters, an ordinary run folder trained (or resumed) with them, each epoch reported.

The run folder is named for the trial and placed under the study's folder, so
every figure command works on it; its run.json names the study and the trial.
A trial queued again after its worker died resumes that worker's run folder
from the last completed epoch.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vae_cli import backend
from vae_cli.errors import ConfigError, RunError, VaeError
from vae_cli.kinds import Score
from vae_cli.runs import folder
from vae_cli.runs.atomic import write_json
from vae_cli.runs.history import read_history
from vae_cli.training import checkpoint, run
from vae_cli.tuning.outcomes import Surplus, TrialFailed
from vae_cli.tuning.space import Space
from vae_cli.tuning.study import OUTCOME, slots_ahead

RUN_DIR = "run_dir"  # trial attributes, copied to a trial's retry with the rest
EPOCHS, SECONDS, BEST_EPOCH, RESUMED_FROM, MESSAGE = "epochs", "seconds", "best_epoch", "resumed_from", "message"
STOPPED = "stopped"  # why a trial stopped that is not its parameters' fault (Ctrl-C, a full disk)


@dataclass
class TrialRecord:
    """What became of one trial, for the command line to report."""

    number: int
    state: str  # complete | pruned | diverged | invalid
    values: dict[str, Any]
    value: float | None = None
    epochs: int = 0
    seconds: float = 0.0
    run_dir: str | None = None
    resumed_from: int = 0
    retry_of: int | None = None
    message: str = ""


@dataclass
class Objective:
    """Optuna's objective: trains one trial and returns its best validation -ELBO."""

    space: Space
    base: dict  # the base config as plain data
    study_name: str
    study_dir: Path
    storage: str  # shown in run.json, password hidden
    total: int
    argv: Sequence[str] = ()
    on_start: Callable[[TrialRecord], None] | None = None
    number: int | None = None  # the trial in progress
    record: TrialRecord | None = None
    _trial: Any = field(default=None, repr=False)

    def __call__(self, trial: Any) -> float:
        import optuna

        backend.load()  # quietly, before Keras
        from vae_cli.tuning.reporter import EpochReporter

        self.number, self.record, self._trial = trial.number, None, trial
        trials = trial.study.get_trials(deepcopy=False)
        if slots_ahead(trials, trial.number) >= self.total:
            trial.set_user_attr(OUTCOME, "surplus")
            raise Surplus(trial.number)
        frozen = next(t for t in trials if t.number == trial.number)
        values = {d.key: d.suggest(trial) for d in self.space.dimensions}
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        if frozen.user_attrs.get(STOPPED):
            trial.set_user_attr(STOPPED, None)  # copied from the attempt this one repeats
        retry_of = frozen.system_attrs.get("failed_trial")
        record = self.record = TrialRecord(trial.number, "running", values, retry_of=retry_of)
        first = trial.number if retry_of is None else retry_of  # a retry keeps its original's folder name
        base = self.base | {"output": {"dir": str(self.study_dir), "name": f"trial-{first:04d}"}}
        try:
            cfg = self.space.config_for(base, values)
        except ConfigError as exc:
            self._failed("invalid", str(exc))
        previous = frozen.user_attrs.get(RUN_DIR)
        resumable = previous and (Path(previous) / checkpoint.FILENAME).is_file()
        # At beta 1 whatever the trial's beta, so that a search over beta cannot win by weighing the KL less.
        score = Score.of_run(cfg.model, cfg.train, beta=1.0)
        reporter = EpochReporter(trial, set(frozen.intermediate_values), score)
        hooks = run.Hooks(
            manifest={"tuning": self._manifest_entry(trial.number, frozen)},
            callbacks=[reporter],
            on_folder=lambda path: self._note_folder(trial, path),
        )
        if resumable:
            record.run_dir = previous
        if self.on_start:
            self.on_start(record)
        try:
            if resumable:
                result = run.resume(previous, None, verbose=0, hooks=hooks)
            else:
                result = run.start(cfg, self.argv, verbose=0, hooks=hooks)
        except VaeError as exc:
            if record.run_dir and _status(record.run_dir) == "diverged":
                self._failed("diverged", str(exc))
            trial.set_user_attr(STOPPED, str(exc))  # not the parameters' doing: the trial will run again
            raise
        except KeyboardInterrupt:
            trial.set_user_attr(STOPPED, "interrupted")
            raise
        rows = result.history or read_history(Path(result.run_dir) / folder.HISTORY)
        objectives = [score.of(row) for row in rows]
        finite = [v for v in objectives if math.isfinite(v)]
        record.value = min(finite) if finite else math.nan
        record.epochs, record.seconds = len(rows), float(sum(row.get("seconds", 0.0) for row in rows))
        record.resumed_from = result.resumed_from
        record.state = "pruned" if reporter.pruned_at else "complete"
        for key, value in (
            (EPOCHS, record.epochs),
            (SECONDS, record.seconds),
            (BEST_EPOCH, objectives.index(record.value) + 1 if finite else 0),
            (RESUMED_FROM, record.resumed_from),
        ):
            trial.set_user_attr(key, value)
        _note_outcome(result.run_dir, record)
        if reporter.pruned_at:
            raise optuna.TrialPruned(f"after epoch {reporter.pruned_at}")
        if not finite:
            self._failed("diverged", "no epoch ended with a finite validation loss")
        return record.value

    def _manifest_entry(self, number: int, frozen: Any) -> dict:
        entry = {"study": self.study_name, "trial": number, "storage": self.storage}
        history = frozen.system_attrs.get("retry_history")
        return entry | ({"retry_of": list(history)} if history else {})

    def _note_folder(self, trial: Any, path: Path) -> None:
        self.record.run_dir = str(Path(path).resolve())
        trial.set_user_attr(RUN_DIR, self.record.run_dir)

    def _failed(self, outcome: str, message: str) -> None:
        self._trial.set_user_attr(OUTCOME, outcome)
        self._trial.set_user_attr(MESSAGE, message)
        self.record.state, self.record.message = outcome, message
        if self.record.run_dir:
            _note_outcome(self.record.run_dir, self.record)
        raise TrialFailed(message)


def _status(run_dir: str | Path) -> str | None:
    try:
        return folder.read_manifest(run_dir).get("status")
    except RunError:
        return None


def _note_outcome(run_dir: str | Path, record: TrialRecord) -> None:
    """Adds the trial's end (state, objective) to run.json's tuning entry; best effort."""
    try:
        manifest = folder.read_manifest(run_dir)
        value = record.value if record.value is not None and math.isfinite(record.value) else None
        manifest.setdefault("tuning", {}).update(trial=record.number, state=record.state, objective=value)
        write_json(Path(run_dir) / folder.MANIFEST, manifest)
    except (RunError, OSError):
        pass
