"""The Keras callback that tells a trial each epoch's validation score and stops it when the pruner says so."""

from __future__ import annotations

import math
from typing import Any

import keras

from vae_cli.kinds import Score
from vae_cli.tuning.outcomes import GivenUp


class EpochReporter(keras.callbacks.Callback):
    """Reports each epoch's validation score to the trial (step = epoch number) and stops a pruned trial.

    It runs before the epoch is saved, so a trial taken over by another worker
    stops here without writing into the run folder that the other one now resumes.
    """

    def __init__(self, trial: Any, reported: set[int], score: Score) -> None:
        super().__init__()
        self.trial, self.reported, self.score, self.pruned_at = trial, set(reported), score, 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from optuna.trial import TrialState

        running = self.trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if all(t.number != self.trial.number for t in running):
            raise GivenUp(self.trial.number)
        step = epoch + 1
        if step not in self.reported:
            value = self.score.of(logs or {})
            if math.isfinite(value):
                self.trial.report(value, step)
                self.reported.add(step)
        if self.trial.should_prune():
            self.pruned_at = step
            self.model.stop_training = True  # the epoch is still saved, and the run finished as usual
